"""Hosts that share no disk: API, scheduler and two workers, each with a private local folder of its own,
sharing only Postgres, Redis and an S3 server (SeaweedFS). Through the API: a resumable xlsx upload, preview,
import on a worker, rows, a pipeline over it, its output's rows and a CSV download."""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import openpyxl
import pytest

from tests.acceptance.dataset_calls import imported
from tests.acceptance.harness import ConveyorSystem
from tests.acceptance.processes import Process
from tests.s3server import SeaweedS3
from tests.servers import TestServers

pytestmark = pytest.mark.acceptance


@dataclass
class SeparateHosts(ConveyorSystem):
    """A system whose every process has a CONVEYOR_CACHE_DIR of its own: its 'host's' private disk."""

    def _process(self, name: str, args: list[str]) -> Process:
        process = super()._process(name, args)
        process.env = {**process.env, "CONVEYOR_CACHE_DIR": str(self.root / "hosts" / name)}
        return process


@pytest.fixture
def hosts(servers: TestServers, s3_server: SeaweedS3, tmp_path: Path) -> Iterator[SeparateHosts]:
    system = SeparateHosts(
        servers=servers,
        root=tmp_path / "system",
        extra_env={**s3_server.env(), "CONVEYOR_DATA_ROOT": s3_server.root_url()},
    )
    try:
        yield system.start(workers=2)  # type: ignore[misc]
    finally:
        system.stop()


def workbook(rows: int) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["id", "city"])
    for i in range(rows):
        sheet.append([i, f"c{i % 4}"])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_upload_import_pipeline_and_download_across_hosts(hosts: SeparateHosts) -> None:
    http = hosts.http
    content = workbook(300)
    # A resumable upload, in two ranges sent in reverse order
    opened = http.post("/api/v1/uploads", json={"filename": "cities.xlsx", "size": len(content)}).json()
    middle = len(content) // 2
    for start, end in ((middle, len(content)), (0, middle)):
        headers = {"Content-Range": f"bytes {start}-{end - 1}/{len(content)}"}
        sent = http.put(f"/api/v1/uploads/{opened['id']}", content=content[start:end], headers=headers)
        assert sent.status_code == 200, sent.text
    done = http.post(f"/api/v1/uploads/{opened['id']}/complete", json={"name": f"cities-{uuid.uuid4().hex[:6]}"})
    assert done.status_code == 201, done.text
    dataset = done.json()
    preview = http.post(f"/api/v1/datasets/{dataset['id']}/preview", json={})
    assert preview.status_code == 200, preview.text
    # Imported on a worker ("host C or D"), read back through the API ("host A")
    run = imported(hosts, dataset["id"])
    assert run["status"] == "SUCCEEDED", run
    rows = http.get(f"/api/v1/datasets/{dataset['id']}/rows", params={"order_by": "-id", "limit": 1}).json()
    assert (rows["total"], rows["rows"]) == (300, [[299, "c3"]])
    # A pipeline over it, on a worker; its output read and downloaded through the API
    spec = {
        "inputs": {"src": {"dataset": dataset["name"]}},
        "steps": [{"id": "f", "type": "filter", "where": "city = 'c1'"}],
        "output": {"dataset": f"c1-{uuid.uuid4().hex[:6]}"},
    }
    pipeline = http.post("/api/v1/pipelines", json={"name": f"p-{uuid.uuid4().hex[:6]}", "spec": spec}).json()
    started = http.post(f"/api/v1/pipelines/{pipeline['id']}/runs", json={})
    assert started.status_code == 201, started.text
    finished = hosts.wait_runs([started.json()["id"]], timeout=120)[started.json()["id"]]
    assert finished["status"] == "SUCCEEDED", finished
    output = finished["output_dataset_id"]
    assert http.get(f"/api/v1/datasets/{output}/rows").json()["total"] == 75
    csv = http.get(f"/api/v1/datasets/{output}/download", params={"format": "csv"})
    assert csv.status_code == 200
    assert len(csv.text.strip().splitlines()) == 76
    # The API's private folder holds only its cache of versions read from the store (no datasets of its own)
    api_dir = hosts.root / "hosts" / "api"
    assert not (api_dir / "datasets").exists()
    assert list((api_dir / "cache" / "datasets").rglob("data.parquet"))
