"""Data-center calls the acceptance tests share: upload a file, import it and wait for the run to end."""

from __future__ import annotations

import io
import uuid
from pathlib import Path
from typing import Any

from tests.acceptance.harness import ConveyorSystem, wait_until

FINAL = {"SUCCEEDED", "FAILED", "CANCELLED", "TIMED_OUT"}


def upload(system: ConveyorSystem, filename: str, content: bytes | io.BufferedReader) -> Any:
    return system.http.post(
        "/api/v1/datasets",
        files={"file": (filename, content, "application/octet-stream")},
        data={"name": f"a-{uuid.uuid4().hex[:10]}"},
        timeout=120,
    )


def imported(system: ConveyorSystem, dataset_id: str, config: dict[str, Any] | None = None) -> dict[str, Any]:
    """Start an import and wait for its run to end; returns the run."""
    response = system.http.post(f"/api/v1/datasets/{dataset_id}/imports", json=config or {})
    assert response.status_code == 202, response.text
    run_id = response.json()["id"]
    wait_until(lambda: system.run(run_id)["status"] in FINAL, timeout=120, what=f"import {run_id} to end")
    return system.run(run_id)


def write_csv(path: Path, rows: int) -> Path:
    with path.open("w") as file:
        file.write("id,name,amount\n")
        for start in range(0, rows, 100_000):
            file.write("".join(f"{i},name-{i},{i % 997}.25\n" for i in range(start, min(start + 100_000, rows))))
    return path


def start_import(system: ConveyorSystem, csv: Path) -> tuple[str, str]:
    """Upload `csv` as a dataset and start its import; returns (dataset id, run id)."""
    with csv.open("rb") as body:
        response = system.http.post(
            "/api/v1/datasets", files={"file": ("big.csv", body, "text/csv")}, data={"name": "big"}, timeout=120
        )
    assert response.status_code == 201, response.text
    dataset_id = response.json()["id"]
    response = system.http.post(f"/api/v1/datasets/{dataset_id}/imports", json={})
    assert response.status_code == 202, response.text
    return dataset_id, response.json()["id"]
