"""A run the user asked to cancel is not retried: an attempt that fails (or is lost) after the request ends it
CANCELLED, as the state machine's RUNNING → CANCELLED, never RETRYING."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from app.core.states import RunStatus
from app.domain.runs import cancel_run
from tests.integration.engine_parts import ROOT, Engine_
from tests.integration.helpers import count, statuses, vanish_worker
from workers import pipeline_job


def _failing_run(client: TestClient, output: str) -> str:
    """A pipeline run with retries left whose one step fails, writing `output`; its id."""
    steps = [{"id": "q", "type": "sql", "sql": "SELECT 1 AS n"}, {"type": "fail", "message": "boom"}]
    spec = {"steps": steps, "output": {"dataset": output}}
    pipeline = client.post("/api/v1/pipelines", json={"name": f"p-{uuid.uuid4().hex[:8]}", "spec": spec}).json()
    run: str = client.post(f"/api/v1/pipelines/{pipeline['id']}/runs", json={"max_retries": 3}).json()["id"]
    return run


def test_a_run_asked_to_cancel_whose_attempt_then_fails_ends_cancelled_not_retrying(
    client: TestClient, parts: Engine_, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The failed attempt was retried (RETRYING, then QUEUED), and the retry never started (a start skips a run
    asked to cancel): the run stayed QUEUED for good, its message re-sent by the reaper, the cancel never done."""
    output = f"out-{uuid.uuid4().hex[:6]}"
    run_id = _failing_run(client, output)
    real = pipeline_job.run_pipeline

    def cancelled_as_it_runs(*args: Any, **kwargs: Any) -> Any:
        """The user cancels while the attempt runs; its step fails before the heartbeat says so."""
        assert client.post(f"/api/v1/runs/{run_id}/cancel").json()["status"] == "RUNNING"
        return real(*args, **kwargs)

    monkeypatch.setattr(pipeline_job, "run_pipeline", cancelled_as_it_runs)
    parts.relay.relay_once()
    assert parts.executor.execute(uuid.UUID(run_id)) is RunStatus.CANCELLED

    run = client.get(f"/api/v1/runs/{run_id}").json()
    assert (run["status"], run["error"]["code"]) == ("CANCELLED", "cancelled"), run
    assert run["finished_at"] is not None
    events = client.get(f"/api/v1/runs/{run_id}/events").json()
    assert [e["to_status"] for e in events][-3:] == ["RUNNING", "RUNNING", "CANCELLED"], events
    # the failure the cancel overtook is kept with the run's last event
    assert events[-1]["details"]["error_code"] == "pipeline_step_failed", events[-1]
    # nothing is left to send, and the output it made is not left importing
    assert count(parts.engine, "outbox", "run_id = :id", id=run_id) == 0
    assert parts.relay.relay_once() == 0
    [dataset] = client.get("/api/v1/datasets", params={"search": output}).json()["items"]
    assert dataset["status"] == "failed", dataset


def test_a_lost_attempt_of_a_run_asked_to_cancel_is_cancelled_by_the_reaper(parts: Engine_) -> None:
    """The reaper retried the lost attempt of a run asked to cancel; the retry never started and the run stayed
    QUEUED."""
    parts.pipeline("lost-cancelled", [])
    [run_id] = parts.submit("lost-cancelled", max_retries=2)
    parts.relay.relay_once()
    vanish_worker(parts.engine, run_id)  # a worker started it, then died without a word
    with parts.engine.begin() as connection, Session(bind=connection) as session:
        assert cancel_run(session, run_id, ROOT).status == "RUNNING"  # the user asks; no worker hears it
        session.flush()
    assert parts.reaper.reap_lost() == 1
    assert statuses(parts.engine, run_id)[-2:] == ["RUNNING", "CANCELLED"]
    with parts.engine.connect() as connection:
        row = connection.execute(text("SELECT status, error_code FROM runs WHERE id = :id"), {"id": run_id}).one()
    assert tuple(row) == ("CANCELLED", "cancelled")
    assert count(parts.engine, "outbox", "run_id = :id", id=str(run_id)) == 0
