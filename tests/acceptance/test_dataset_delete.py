"""Deleting a dataset with real processes: its queued or running import ends CANCELLED and writes nothing."""

from __future__ import annotations

import json
import uuid
from typing import Any

import psycopg
import pytest

from app.paths import dataset_dir
from tests.acceptance.dataset_calls import FINAL, upload
from tests.acceptance.harness import ConveyorSystem, wait_until

pytestmark = pytest.mark.acceptance


def _written_for(system: ConveyorSystem, dataset_id: str) -> dict[str, Any]:
    """What exists for the dataset besides its row and upload: versions, dataset events, version files."""
    with psycopg.connect(system.database_url) as connection:
        versions = connection.execute("SELECT count(*) FROM dataset_versions WHERE dataset_id = %s", [dataset_id])
        events = connection.execute(
            "SELECT count(*) FROM events WHERE dataset_id = %s AND type LIKE 'dataset.%%'", [dataset_id]
        )
        counts = {"versions": versions.fetchone()[0], "events": events.fetchone()[0]}  # type: ignore[index]
    folder = dataset_dir(system.root / "data", uuid.UUID(dataset_id))
    return {**counts, "files": sorted(str(p) for p in folder.rglob("*") if p.is_file()) if folder.exists() else []}


def _import(system: ConveyorSystem, filename: str, content: bytes, config: dict[str, Any]) -> tuple[str, str]:
    response = upload(system, filename, content)
    assert response.status_code == 201, response.text
    dataset_id = response.json()["id"]
    started = system.http.post(f"/api/v1/datasets/{dataset_id}/imports", json=config)
    assert started.status_code == 202, started.text
    return dataset_id, started.json()["id"]


def test_a_queued_import_is_cancelled_with_its_dataset_and_its_message_starts_nothing(system: ConveyorSystem) -> None:
    blockers = system.occupy_all_threads()  # every worker thread busy: the import waits QUEUED
    dataset_id, run_id = _import(system, "q.csv", b"a,b\n1,2\n", {})
    assert system.run(run_id)["status"] in {"PENDING", "QUEUED"}
    assert system.http.delete(f"/api/v1/datasets/{dataset_id}").status_code == 204
    run = system.run(run_id)
    assert (run["status"], run["error"]["code"]) == ("CANCELLED", "cancelled"), run
    assert system.events(run_id)[-1]["reason"] == "dataset_deleted"
    for blocker in blockers:  # free the workers: the import's message is delivered and finds nothing to start
        system.cancel(blocker)
    system.wait_runs(blockers)
    system.wait_broker_drained()
    assert system.run(run_id)["status"] == "CANCELLED"
    assert _written_for(system, dataset_id) == {"versions": 0, "events": 0, "files": []}


def test_a_running_import_is_cancelled_with_its_dataset_and_writes_nothing(system: ConveyorSystem) -> None:
    records = [{"id": i, "tags": ["x", "y"], "who": {"name": f"n{i}", "age": i % 90}} for i in range(300_000)]
    body = json.dumps({"data": {"items": records}}).encode()
    dataset_id, run_id = _import(system, "people.json", body, {"record_path": "data.items"})
    wait_until(lambda: system.run(run_id)["status"] in {"RUNNING", *FINAL}, timeout=60, what="the import to start")
    if system.run(run_id)["status"] != "RUNNING":
        pytest.skip("the import ended before it could be seen running on this machine")
    assert system.http.delete(f"/api/v1/datasets/{dataset_id}").status_code == 204
    wait_until(lambda: system.run(run_id)["status"] in FINAL, timeout=60, what="the import to stop")
    run = system.run(run_id)
    if run["status"] == "SUCCEEDED":  # its version was published before the delete: nothing to prove here
        pytest.skip("the import published its version before the dataset was deleted")
    assert (run["status"], run["error"]["code"]) == ("CANCELLED", "cancelled"), run
    assert ("RUNNING", "cancel_requested") in [(e["to_status"], e["reason"]) for e in system.events(run_id)]
    assert _written_for(system, dataset_id) == {"versions": 0, "events": 0, "files": []}


def test_a_pipeline_run_writing_a_deleted_dataset_is_cancelled_and_writes_nothing(system: ConveyorSystem) -> None:
    """It ran on to the end of its steps, had its version refused and ended FAILED dataset_deleted."""
    source_id, import_id = _import(system, "s.csv", b"a,b\n1,2\n", {})
    assert system.wait_runs([import_id])[import_id]["status"] == "SUCCEEDED"
    spec = {
        "inputs": {"s": {"dataset": source_id}},
        "steps": [{"type": "sleep", "seconds": 60}],
        "output": {"dataset": f"out-{uuid.uuid4().hex[:8]}"},
    }
    made = system.http.post("/api/v1/pipelines", json={"name": f"p-{uuid.uuid4().hex[:10]}", "spec": spec})
    assert made.status_code == 201, made.text
    run_id = system.submit(made.json()["id"])["id"]
    wait_until(lambda: system.run(run_id)["output_dataset_id"] is not None, timeout=60, what="the run's output")
    output_id = system.run(run_id)["output_dataset_id"]
    assert system.run(run_id)["status"] == "RUNNING"
    assert system.http.delete(f"/api/v1/datasets/{output_id}").status_code == 204
    wait_until(lambda: system.run(run_id)["status"] in FINAL, timeout=60, what="the run to stop")
    run = system.run(run_id)
    assert (run["status"], run["error"]["code"]) == ("CANCELLED", "cancelled"), run
    asked = [e for e in system.events(run_id) if e["reason"] == "cancel_requested"]
    assert [e["details"] for e in asked] == [{"cause": "dataset_deleted"}]
    assert _written_for(system, output_id) == {"versions": 0, "events": 0, "files": []}
