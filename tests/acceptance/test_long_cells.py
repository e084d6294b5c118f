"""A 50 MB cell through the real API process: its memory is measured (/proc VmHWM), not guessed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.acceptance.dataset_calls import imported, upload
from tests.acceptance.harness import ConveyorSystem
from tests.hostile_files import long_cell_workbook
from tests.memory_peak import PeakMemory

pytestmark = pytest.mark.acceptance

CELL = 50 * 1024 * 1024
#: What a preview may add to the API process's peak (it held the cell 7 times over: +358 MiB).
REQUEST_MIB = 64
#: What a page of rows may: the 256 MiB a request's DuckDB work is promised. DuckDB decompresses the value once
#: and its late materialization (LIMIT on Parquet) copies it again: +188 MiB measured, +287 with the whole cell.
PAGE_MIB = 256


@pytest.mark.timeout(300)
@pytest.mark.parametrize("shared", [True, False], ids=["shared-string", "inline-string"])
def test_a_50_mb_workbook_cell_is_previewed_and_paged_in_bounded_memory(
    system: ConveyorSystem, tmp_path: Path, shared: bool
) -> None:
    path = long_cell_workbook(tmp_path / "notes.xlsx", "x" * CELL, shared=shared)
    with path.open("rb") as body:
        response = upload(system, "notes.xlsx", body)
    assert response.status_code == 201, response.text
    dataset = response.json()["id"]
    api = system.processes[0].pid
    with PeakMemory(api) as peak:
        shown = system.http.post(f"/api/v1/datasets/{dataset}/preview", json={}, timeout=120)
    assert shown.status_code == 200, shown.text
    assert shown.json()["rows"][0] == [1, "x" * 10_000 + "…"]
    assert peak.added < REQUEST_MIB, f"the preview took the API from {peak.before} to {peak.peak} MiB"
    assert imported(system, dataset)["status"] == "SUCCEEDED"

    with PeakMemory(api) as peak:
        page = system.http.get(f"/api/v1/datasets/{dataset}/rows", timeout=120)
    assert page.status_code == 200, page.text
    assert len(page.content) < 100_000  # it was the whole 50 MB cell
    assert page.json()["rows"] == [[1, "x" * 10_000], [2, "short 3"]]
    assert page.json()["truncated"] == [{"row": 0, "column": "note", "chars": CELL}]
    assert peak.added < PAGE_MIB, f"a page of rows took the API from {peak.before} to {peak.peak} MiB"
    whole = system.http.get(f"/api/v1/datasets/{dataset}/download", params={"format": "json"}, timeout=120)
    assert [len(json.loads(line)["note"]) for line in whole.text.splitlines()] == [CELL, len("short 3")]
