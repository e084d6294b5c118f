"""Deleting a dataset cancels its unfinished imports, as a user's cancel would, and nothing is written for it."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import Connection, Engine, text
from sqlalchemy.orm import Session

from app.clock import utcnow
from app.domain import datasets as dataset_service
from app.domain.attempts import hold_attempt
from app.domain.audit import AuditContext
from app.domain.runs import cancel_run
from app.paths import dataset_dir
from tests.integration.dataset_support import SALES, upload
from tests.integration.engine_parts import ROOT, Engine_
from tests.integration.helpers import count, wait_until_blocked, wait_until_waited_on
from workers import ingest_job, pipeline_job


def _written_for(engine: Engine, parts: Engine_, dataset_id: str) -> dict[str, Any]:
    """What exists for the dataset besides its row and upload: versions, dataset events, version files."""
    folder = dataset_dir(parts.settings.data_path, uuid.UUID(dataset_id))
    return {
        "versions": count(engine, "dataset_versions", "dataset_id = :id", id=dataset_id),
        "events": count(engine, "events", "dataset_id = :id AND type LIKE 'dataset.%'", id=dataset_id),
        "files": sorted(str(p) for p in folder.rglob("*") if p.is_file()) if folder.exists() else [],
    }


def _delete_as_the_api(connection: Connection, dataset_id: str) -> None:
    """What DELETE /datasets/{id} does, in the connection's open transaction (left for the caller to end)."""
    with Session(bind=connection) as session:
        dataset = dataset_service.get_dataset(session, uuid.UUID(dataset_id), ROOT)
        as_root = AuditContext(principal=ROOT)
        dataset_service.delete_dataset(session, dataset, principal=ROOT, now=utcnow(), audit_as=as_root)
        session.flush()


def _start_import(client: TestClient) -> tuple[str, str]:
    dataset = upload(client, SALES)
    started = client.post(f"/api/v1/datasets/{dataset['id']}/imports", json={})
    assert started.status_code == 202, started.text
    return dataset["id"], started.json()["id"]


def _attempt_deleting_as_it_publishes(
    client: TestClient, parts: Engine_, monkeypatch: pytest.MonkeyPatch, run_id: str
) -> str:
    """One attempt of the run, whose dataset the user deletes when the worker has written it and is about to
    publish its version (before the publishing transaction takes the run's row); the dataset's id."""
    deleted: list[str] = []

    def deleted_first(session: Session, run: uuid.UUID, attempt: int) -> None:
        assert client.get(f"/api/v1/runs/{run_id}").json()["status"] == "RUNNING"
        dataset_id = str(session.scalar(text("SELECT dataset_id FROM runs WHERE id = :id"), {"id": run}))
        assert client.delete(f"/api/v1/datasets/{dataset_id}").status_code == 204
        deleted.append(dataset_id)
        hold_attempt(session, run, attempt)

    for job in (pipeline_job, ingest_job):
        monkeypatch.setattr(job, "hold_attempt", deleted_first)
    parts.relay.relay_once()
    parts.executor.execute(uuid.UUID(run_id))
    [dataset_id] = deleted
    return dataset_id


def test_deleting_a_dataset_cancels_its_queued_import_at_once_and_audits_it(
    client: TestClient, parts: Engine_, engine: Engine
) -> None:
    """The import stayed queued and ran into the deleted dataset, to fail there (dataset_deleted)."""
    dataset_id, run_id = _start_import(client)
    assert client.delete(f"/api/v1/datasets/{dataset_id}").status_code == 204
    run = client.get(f"/api/v1/runs/{run_id}").json()
    assert (run["status"], run["error"]["code"]) == ("CANCELLED", "cancelled")
    last = client.get(f"/api/v1/runs/{run_id}/events").json()["items"][-1]
    assert (last["to_status"], last["reason"]) == ("CANCELLED", "dataset_deleted")
    # a reason the API's document lists (it did not, so a typed client, the console, had no word for it)
    documented = client.get("/api/docs/openapi.json").json()["components"]["schemas"]["EventReason"]["enum"]
    assert last["reason"] in documented
    audit = client.get("/api/v1/audit", params={"action": "runs.cancel", "resource_id": run_id}).json()["items"]
    assert [(e["outcome"], e["details"]["after"]["status"]) for e in audit] == [("success", "CANCELLED")]
    deleted = client.get("/api/v1/audit", params={"action": "datasets.delete", "resource_id": dataset_id}).json()
    assert deleted["items"][0]["details"]["cancelled_runs"] == [run_id]
    # its message still reaches a worker, which finds nothing to start
    parts.relay.relay_once()
    parts.executor.execute(uuid.UUID(run_id))
    assert client.get(f"/api/v1/runs/{run_id}").json()["status"] == "CANCELLED"
    assert _written_for(engine, parts, dataset_id) == {"versions": 0, "events": 0, "files": []}


def test_an_import_running_when_its_dataset_is_deleted_ends_cancelled_and_writes_nothing(
    client: TestClient, parts: Engine_, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Deleted while the worker imports: the version is refused, the run ends CANCELLED (it was FAILED)."""
    dataset_id, run_id = _start_import(client)
    assert _attempt_deleting_as_it_publishes(client, parts, monkeypatch, run_id) == dataset_id
    run = client.get(f"/api/v1/runs/{run_id}").json()
    assert (run["status"], run["error"]["code"]) == ("CANCELLED", "cancelled"), run
    reasons = [(e["to_status"], e["reason"]) for e in client.get(f"/api/v1/runs/{run_id}/events").json()["items"]]
    assert ("RUNNING", "cancel_requested") in reasons, reasons
    assert reasons[-1][0] == "CANCELLED", reasons
    assert _written_for(engine, parts, dataset_id) == {"versions": 0, "events": 0, "files": []}


def test_a_pipeline_run_writing_a_dataset_deleted_meanwhile_ends_cancelled_audited_and_writes_nothing(
    client: TestClient, parts: Engine_, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Deleting a pipeline run's output as it wrote it left the run going, to end FAILED dataset_deleted."""
    sales_id, import_id = _start_import(client)
    parts.relay.relay_once()
    parts.executor.execute(uuid.UUID(import_id))
    output = f"out-{uuid.uuid4().hex[:6]}"
    spec = {"inputs": {"sales": {"dataset": sales_id}}, "steps": [], "output": {"dataset": output}}
    pipeline = client.post("/api/v1/pipelines", json={"name": f"p-{uuid.uuid4().hex[:8]}", "spec": spec}).json()
    run_id = client.post(f"/api/v1/pipelines/{pipeline['id']}/runs", json={}).json()["id"]
    dataset_id = _attempt_deleting_as_it_publishes(client, parts, monkeypatch, run_id)
    run = client.get(f"/api/v1/runs/{run_id}").json()
    assert run["output_dataset_id"] == dataset_id
    assert (run["status"], run["error"]["code"]) == ("CANCELLED", "cancelled"), run
    events = client.get(f"/api/v1/runs/{run_id}/events").json()["items"]
    asked = [e for e in events if e["reason"] == "cancel_requested"]
    assert [e["details"] for e in asked] == [{"cause": "dataset_deleted"}], events
    assert events[-1]["to_status"] == "CANCELLED", events
    audit = client.get("/api/v1/audit", params={"action": "runs.cancel", "resource_id": run_id}).json()["items"]
    assert [(e["outcome"], e["details"]["after"]["status"]) for e in audit] == [("success", "RUNNING")]
    entry = client.get("/api/v1/audit", params={"action": "datasets.delete", "resource_id": dataset_id}).json()
    assert entry["items"][0]["details"]["cancelled_runs"] == [run_id]
    assert _written_for(engine, parts, dataset_id) == {"versions": 0, "events": 0, "files": []}


def _failed_attempt(client: TestClient, parts: Engine_, output: str, *, max_retries: int) -> str:
    """A pipeline run writing `output` whose first attempt made that dataset, then failed; the run's id."""
    sales_id, import_id = _start_import(client)
    parts.relay.relay_once()
    parts.executor.execute(uuid.UUID(import_id))
    spec = {
        "inputs": {"sales": {"dataset": sales_id}},
        "steps": [{"type": "fail", "message": "boom"}],
        "output": {"dataset": output},
    }
    pipeline = client.post("/api/v1/pipelines", json={"name": f"p-{uuid.uuid4().hex[:8]}", "spec": spec}).json()
    body = {"max_retries": max_retries}
    run_id: str = client.post(f"/api/v1/pipelines/{pipeline['id']}/runs", json=body).json()["id"]
    parts.relay.relay_once()
    parts.executor.execute(uuid.UUID(run_id))
    return run_id


def test_deleting_the_output_of_a_pipeline_run_waiting_to_retry_cancels_it_at_once(
    client: TestClient, parts: Engine_
) -> None:
    """A retrying run that made its output dataset was left to run on after the dataset was deleted."""
    run_id = _failed_attempt(client, parts, f"out-{uuid.uuid4().hex[:6]}", max_retries=3)
    run = client.get(f"/api/v1/runs/{run_id}").json()
    assert run["status"] == "RETRYING", run
    assert client.delete(f"/api/v1/datasets/{run['output_dataset_id']}").status_code == 204
    run = client.get(f"/api/v1/runs/{run_id}").json()
    assert (run["status"], run["error"]["code"]) == ("CANCELLED", "cancelled"), run
    last = client.get(f"/api/v1/runs/{run_id}/events").json()["items"][-1]
    assert (last["to_status"], last["reason"]) == ("CANCELLED", "dataset_deleted")


def test_deleting_the_output_a_failed_attempt_left_does_not_cancel_the_run_retried_by_hand(
    client: TestClient, parts: Engine_
) -> None:
    """A run retried by hand kept naming its failed attempt's output, so deleting that leftover cancelled it."""
    output = f"out-{uuid.uuid4().hex[:6]}"
    run_id = _failed_attempt(client, parts, output, max_retries=0)
    failed = client.get(f"/api/v1/runs/{run_id}").json()
    leftover = failed["output_dataset_id"]
    assert (failed["status"], client.get(f"/api/v1/datasets/{leftover}").json()["status"]) == ("FAILED", "failed")
    assert client.post(f"/api/v1/runs/{run_id}/retry").status_code == 202
    assert client.delete(f"/api/v1/datasets/{leftover}").status_code == 204
    retried = client.get(f"/api/v1/runs/{run_id}").json()
    assert (retried["status"], retried["output_dataset_id"]) == ("PENDING", None), retried
    reasons = [e["reason"] for e in client.get(f"/api/v1/runs/{run_id}/events").json()["items"]]
    assert "dataset_deleted" not in reasons, reasons
    entry = client.get("/api/v1/audit", params={"action": "datasets.delete", "resource_id": leftover}).json()
    assert entry["items"][0]["details"]["cancelled_runs"] == []
    # the new attempt runs, into a new dataset of the same name
    parts.relay.relay_once()
    parts.executor.execute(uuid.UUID(run_id))
    again = client.get(f"/api/v1/runs/{run_id}").json()
    assert again["status"] == "FAILED", again
    assert again["output_dataset_id"] not in (None, leftover), again
    assert client.get(f"/api/v1/datasets/{again['output_dataset_id']}").json()["name"] == output


def test_an_import_that_ends_as_its_dataset_is_deleted_lets_the_delete_through(
    client: TestClient, engine: Engine
) -> None:
    """The delete read the unfinished runs unlocked, then locked each to cancel it: an import that ended in between
    made the delete 409 run_not_cancellable, and the dataset stayed."""
    dataset_id, run_id = _start_import(client)
    with engine.begin() as connection:
        connection.execute(text("UPDATE runs SET status = 'RUNNING', attempt = 1 WHERE id = :id"), {"id": run_id})
    with engine.connect() as worker, engine.connect() as deleting:
        # the worker's finish, not committed yet
        worker.execute(text("UPDATE runs SET status = 'SUCCEEDED', finished_at = now() WHERE id = :id"), {"id": run_id})
        pid = deleting.execute(text("SELECT pg_backend_pid()")).scalar_one()

        with ThreadPoolExecutor(max_workers=1) as pool:
            deleted = pool.submit(_delete_as_the_api, deleting, dataset_id)
            try:
                wait_until_blocked(engine, pid, "the delete")
            finally:
                worker.commit()
            deleted.result(timeout=30)
        deleting.commit()
    assert client.get(f"/api/v1/datasets/{dataset_id}").status_code == 404
    assert client.get(f"/api/v1/runs/{run_id}").json()["status"] == "SUCCEEDED"


def test_a_dataset_deleted_as_a_user_cancels_its_import_deletes_without_a_deadlock(
    client: TestClient, engine: Engine
) -> None:
    """The cancel locked the run, then the dataset it writes; the delete locked the dataset, then the run: each
    waited for the other, PostgreSQL aborted one (40P01), and a DELETE that lost answered 500."""
    dataset_id, run_id = _start_import(client)
    with engine.connect() as cancelling, engine.connect() as deleting:
        # the user's cancel, holding the run's row as it does before it ends the dataset's import
        cancelling.execute(text("SELECT id FROM runs WHERE id = :id FOR UPDATE"), {"id": run_id})
        pid = deleting.execute(text("SELECT pg_backend_pid()")).scalar_one()
        with ThreadPoolExecutor(max_workers=1) as pool:
            deleted = pool.submit(_delete_as_the_api, deleting, dataset_id)
            try:
                wait_until_blocked(engine, pid, "the delete")
                with Session(bind=cancelling) as session:
                    cancel_run(session, uuid.UUID(run_id), ROOT, audit_as=AuditContext(principal=ROOT))
                    session.flush()
            finally:
                cancelling.commit()
            deleted.result(timeout=30)
        deleting.commit()
    # the user's cancel ended the run, and the delete, which found it ended, went through
    last = client.get(f"/api/v1/runs/{run_id}/events").json()["items"][-1]
    assert (last["to_status"], last["reason"]) == ("CANCELLED", "cancel_requested")
    assert client.get(f"/api/v1/datasets/{dataset_id}").status_code == 404
    entry = client.get("/api/v1/audit", params={"action": "datasets.delete", "resource_id": dataset_id}).json()
    assert entry["items"][0]["details"]["cancelled_runs"] == []


def test_a_retried_run_binding_its_output_as_the_output_is_deleted_does_not_deadlock(
    client: TestClient, parts: Engine_, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A retried attempt's run already names its output, so the delete locks the run, then the dataset; the worker
    locked the dataset (finding its output by name), then the run (naming it): a deadlock, the delete a 500."""
    output = f"out-{uuid.uuid4().hex[:6]}"
    run_id = _failed_attempt(client, parts, output, max_retries=3)
    dataset_id = client.get(f"/api/v1/runs/{run_id}").json()["output_dataset_id"]
    with engine.begin() as connection:  # its retry is due
        connection.execute(
            text("UPDATE runs SET status = 'QUEUED', next_retry_at = NULL WHERE id = :id"), {"id": run_id}
        )
    with engine.connect() as deleting:
        pid = deleting.execute(text("SELECT pg_backend_pid()")).scalar_one()
        named = pipeline_job.output_dataset_name

        def delete_begins(*args: Any, **kwargs: Any) -> str | None:
            """The delete has locked the run (its first step) as the attempt, started, is about to name its output."""
            deleting.execute(text("SELECT id FROM runs WHERE id = :id FOR UPDATE"), {"id": run_id})
            return named(*args, **kwargs)

        monkeypatch.setattr(pipeline_job, "output_dataset_name", delete_begins)
        with ThreadPoolExecutor(max_workers=1) as pool:
            attempt = pool.submit(parts.executor.execute, uuid.UUID(run_id))
            try:
                wait_until_waited_on(engine, pid, "the attempt", ignoring="heartbeat_at")
                _delete_as_the_api(deleting, dataset_id)
            finally:
                deleting.commit()
            attempt.result(timeout=60)
    assert client.get(f"/api/v1/datasets/{dataset_id}").status_code == 404
    events = client.get(f"/api/v1/runs/{run_id}/events").json()["items"]
    asked = [e["details"] for e in events if e["reason"] == "cancel_requested"]
    assert asked == [{"cause": "dataset_deleted"}], events
    # the attempt was not the deadlock's victim (an internal_error): it found its output deleted and ended as the
    # delete's cancel says, without making the dataset again under its name
    assert (events[-1]["to_status"], events[-1]["reason"]) == ("CANCELLED", "cancelled"), events
    assert client.get(f"/api/v1/runs/{run_id}").json()["error"]["code"] == "cancelled"
    assert client.get("/api/v1/datasets", params={"search": output}).json()["items"] == []
    entry = client.get("/api/v1/audit", params={"action": "datasets.delete", "resource_id": dataset_id}).json()
    assert entry["items"][0]["details"]["cancelled_runs"] == [run_id]
