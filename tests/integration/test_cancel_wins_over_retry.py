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


def _failing_run(client: TestClient, output: str, *, max_retries: int = 3) -> str:
    """A pipeline run (with retries left, by default) whose one step fails, writing `output`; its id."""
    steps = [{"id": "q", "type": "sql", "sql": "SELECT 1 AS n"}, {"type": "fail", "message": "boom"}]
    spec = {"steps": steps, "output": {"dataset": output}}
    pipeline = client.post("/api/v1/pipelines", json={"name": f"p-{uuid.uuid4().hex[:8]}", "spec": spec}).json()
    run: str = client.post(f"/api/v1/pipelines/{pipeline['id']}/runs", json={"max_retries": max_retries}).json()["id"]
    return run


def _cancel_as_it_runs(client: TestClient, run_id: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The user cancels while the attempt runs; its step fails before the heartbeat says so."""
    real = pipeline_job.run_contained

    def cancelled_as_it_runs(*args: Any, **kwargs: Any) -> Any:
        assert client.post(f"/api/v1/runs/{run_id}/cancel").json()["status"] == "RUNNING"
        return real(*args, **kwargs)

    monkeypatch.setattr(pipeline_job, "run_contained", cancelled_as_it_runs)


def test_a_run_asked_to_cancel_whose_attempt_then_fails_ends_cancelled_not_retrying(
    client: TestClient, parts: Engine_, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The failed attempt was retried (RETRYING, then QUEUED), and the retry never started (a start skips a run
    asked to cancel): the run stayed QUEUED for good, its message re-sent by the reaper, the cancel never done."""
    output = f"out-{uuid.uuid4().hex[:6]}"
    run_id = _failing_run(client, output)
    _cancel_as_it_runs(client, run_id, monkeypatch)
    parts.relay.relay_once()
    assert parts.executor.execute(uuid.UUID(run_id)) is RunStatus.CANCELLED

    run = client.get(f"/api/v1/runs/{run_id}").json()
    assert (run["status"], run["error"]["code"]) == ("CANCELLED", "cancelled"), run
    assert run["finished_at"] is not None
    events = client.get(f"/api/v1/runs/{run_id}/events").json()["items"]
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


def test_a_run_asked_to_cancel_whose_last_attempt_then_fails_ends_cancelled_not_failed(
    client: TestClient, parts: Engine_, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With no retry left the failure won over the cancel: the run ended FAILED though the user had asked to cancel
    it. A cancel asked for while an attempt runs ends the run CANCELLED whether a retry or an end was next; the
    attempt's own error stays in its last event."""
    output = f"out-{uuid.uuid4().hex[:6]}"
    run_id = _failing_run(client, output, max_retries=0)
    _cancel_as_it_runs(client, run_id, monkeypatch)
    parts.relay.relay_once()
    assert parts.executor.execute(uuid.UUID(run_id)) is RunStatus.CANCELLED

    run = client.get(f"/api/v1/runs/{run_id}").json()
    assert (run["status"], run["error"]["code"]) == ("CANCELLED", "cancelled"), run
    events = client.get(f"/api/v1/runs/{run_id}/events").json()["items"]
    assert [e["to_status"] for e in events][-2:] == ["RUNNING", "CANCELLED"], events
    assert events[-1]["reason"] == "cancelled"
    assert events[-1]["details"]["error_code"] == "pipeline_step_failed", events[-1]
    assert events[-1]["details"]["error_message"] == "boom", events[-1]
    [dataset] = client.get("/api/v1/datasets", params={"search": output}).json()["items"]
    assert dataset["status"] == "failed", dataset


def test_a_lost_last_attempt_of_a_run_asked_to_cancel_ends_cancelled_not_failed(parts: Engine_) -> None:
    """The reaper ended a run with no retry left FAILED worker_lost, though the user had asked to cancel it."""
    parts.pipeline("lost-last-cancelled", [])
    [run_id] = parts.submit("lost-last-cancelled", max_retries=0)
    parts.relay.relay_once()
    vanish_worker(parts.engine, run_id)
    with parts.engine.begin() as connection, Session(bind=connection) as session:
        assert cancel_run(session, run_id, ROOT).status == "RUNNING"
        session.flush()
    assert parts.reaper.reap_lost() == 1
    with parts.engine.connect() as connection:
        row = connection.execute(text("SELECT status, error_code FROM runs WHERE id = :id"), {"id": run_id}).one()
        details = connection.execute(
            text("SELECT details FROM run_events WHERE run_id = :id ORDER BY id DESC LIMIT 1"), {"id": run_id}
        ).scalar_one()
    assert tuple(row) == ("CANCELLED", "cancelled")
    assert details["error_code"] == "worker_lost", details


def test_the_log_of_a_run_whose_cancel_overtook_its_retry_says_it_was_cancelled(
    client: TestClient, parts: Engine_, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The log said "retrying in 2.0 s" (written before the end was decided) though the run ended CANCELLED."""
    run_id = _failing_run(client, f"out-{uuid.uuid4().hex[:6]}")
    _cancel_as_it_runs(client, run_id, monkeypatch)
    parts.relay.relay_once()
    assert parts.executor.execute(uuid.UUID(run_id)) is RunStatus.CANCELLED

    lines = client.get(f"/api/v1/runs/{run_id}/logs").json()["items"]
    codes = [line["notice"]["code"] for line in lines if line["notice"]]
    assert "retry_scheduled" not in codes, lines
    last = lines[-1]
    assert last["notice"]["code"] == "attempt_ended", last
    assert last["notice"]["status"] == "CANCELLED", last
    assert last["message"].startswith("CANCELLED in "), last
    assert "boom" in last["message"], last
    # the line was stored with the outcome and counted: a later line would number on after it
    assert client.get(f"/api/v1/runs/{run_id}").json()["log_lines"] == last["n"]
