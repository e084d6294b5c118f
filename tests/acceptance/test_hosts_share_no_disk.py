"""Hosts that share no disk: API, scheduler and two workers, each with a private local folder of its own,
sharing only Postgres, Redis and an S3 server (SeaweedFS). Through the API: a resumable xlsx upload, preview,
import on a worker, rows, a pipeline over it, its output's rows and a CSV download; and a worker killed (SIGKILL)
mid-import, whose import is retried on the other worker and publishes one version, nothing half written."""

from __future__ import annotations

import io
import os
import signal
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import openpyxl
import pytest

from tests.acceptance.dataset_calls import imported, start_import, write_csv
from tests.acceptance.harness import ConveyorSystem, wait_until, worker_pid
from tests.acceptance.processes import Process
from tests.s3server import SeaweedS3
from tests.servers import TestServers

#: Rows of the CSV imported when a worker is killed, on one DuckDB thread: still importing seconds after it starts.
KILLED_IMPORT_ROWS = 3_000_000

pytestmark = pytest.mark.acceptance


@dataclass
class SeparateHosts(ConveyorSystem):
    """A system whose every process has a CONVEYOR_CACHE_DIR of its own: its 'host's' private disk."""

    data_root: str = ""

    def _process(self, name: str, args: list[str]) -> Process:
        process = super()._process(name, args)
        process.env = {**process.env, "CONVEYOR_CACHE_DIR": str(self.root / "hosts" / name)}
        return process


@pytest.fixture(scope="module")  # one system for both tests: the kill comes last
def hosts(
    servers: TestServers, s3_server: SeaweedS3, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SeparateHosts]:
    data_root = s3_server.root_url()
    system = SeparateHosts(
        servers=servers,
        root=tmp_path_factory.mktemp("hosts") / "system",
        # Runs that do not say (imports) are retried twice; one DuckDB thread, so a big import lasts seconds.
        extra_env={
            **s3_server.env(),
            "CONVEYOR_DATA_ROOT": data_root,
            "CONVEYOR_DEFAULT_MAX_RETRIES": "2",
            "CONVEYOR_JOB_THREADS": "1",
        },
        data_root=data_root,
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


def test_a_worker_killed_mid_import_is_replaced_by_the_other_host_and_one_version_is_published(
    hosts: SeparateHosts, s3_server: SeaweedS3, tmp_path: Path
) -> None:
    from app.paths import DATA_FILE, dataset_prefix, version_key
    from app.storage.s3 import S3Store

    # Given a big CSV uploaded through the API ("host A") and its import started
    dataset_id, run_id = start_import(hosts, write_csv(tmp_path / "big.csv", KILLED_IMPORT_ROWS))

    # When the worker process running it is killed with SIGKILL, once the import reports its first progress
    running = wait_until(
        lambda: [e for e in hosts.events(run_id) if e["to_status"] == "RUNNING"], timeout=60, what="the import to start"
    )
    victim, survivor = hosts.victim_and_survivor(running[0]["actor"])
    progress = wait_until(
        lambda: (hosts.run(run_id)["progress"] or {}).get("bytes"), timeout=60, what="the import's first progress"
    )
    assert hosts.run(run_id)["status"] == "RUNNING", "the import ended before the kill: make the file bigger"
    os.kill(victim, signal.SIGKILL)

    # Then the run is reaped as lost and retried on the other host's worker, where it succeeds
    run = hosts.wait_runs([run_id], timeout=180)[run_id]
    assert (run["status"], run["attempt"]) == ("SUCCEEDED", 2), run
    events = hosts.events(run_id)
    lost = [e for e in events if e["to_status"] == "RETRYING"]
    assert [(e["reason"], e["attempt"]) for e in lost] == [("worker_lost", 1)], (events, progress)
    second = [e for e in events if e["to_status"] == "RUNNING"][1]
    assert worker_pid(second["actor"]) in hosts.worker_children(survivor)

    # And exactly one version exists, with every row
    versions = hosts.http.get(f"/api/v1/datasets/{dataset_id}/versions").json()["items"]
    assert [(v["version"], v["row_count"], v["run_id"]) for v in versions] == [(1, KILLED_IMPORT_ROWS, run_id)]
    current = hosts.http.get(f"/api/v1/datasets/{dataset_id}").json()
    assert (current["current_version"], current["row_count"], current["status"]) == (1, KILLED_IMPORT_ROWS, "ready")

    # And the store holds that version's data file and nothing else of the dataset (no half-written object)
    store = S3Store(hosts.data_root, s3_server.env())
    dataset_uuid = uuid.UUID(dataset_id)
    # (the files of the attempt that won, in its own folder)
    won = version_key(dataset_uuid, uuid.UUID(run_id), DATA_FILE, run["attempt"])
    assert sorted(store.list(dataset_prefix(dataset_uuid))) == [won]
