"""Runs asked to cancel that wait for a start none will make (a start skips a run asked to cancel) are ended
CANCELLED by the reaper: runs left QUEUED or RETRYING so by a retry scheduled before its cancel request was seen
needed a second cancel to end."""

from __future__ import annotations

import uuid

from litestar.testing import TestClient
from sqlalchemy import text

from app.core.states import RunStatus
from tests.integration.engine_parts import Engine_
from tests.integration.helpers import count


def _ask_to_cancel_behind_its_back(parts: Engine_, run_id: object) -> None:
    """What a retry scheduled before the fix left: a waiting run whose cancel request is set."""
    with parts.engine.begin() as connection:
        connection.execute(text("UPDATE runs SET cancel_requested_at = now() WHERE id = :id"), {"id": str(run_id)})


def test_the_reaper_ends_a_queued_run_asked_to_cancel(client: TestClient, parts: Engine_) -> None:
    parts.pipeline("stuck-queued", [])
    [run_id] = parts.submit("stuck-queued")
    parts.relay.relay_once()
    _ask_to_cancel_behind_its_back(parts, run_id)
    assert parts.executor.execute(run_id) is None  # a start skips it: it would wait for good

    assert parts.reaper.reap_once()["cancelled"] == 1

    run = client.get(f"/api/v1/runs/{run_id}").json()
    assert (run["status"], run["error"]["code"]) == ("CANCELLED", "cancelled"), run
    assert run["finished_at"] is not None
    [*_, last] = client.get(f"/api/v1/runs/{run_id}/events").json()["items"]
    assert (last["from_status"], last["to_status"], last["reason"], last["actor"]) == (
        "QUEUED",
        "CANCELLED",
        "cancelled",
        "reaper-test",
    )
    assert parts.reaper.reap_once()["cancelled"] == 0  # once


def test_the_reaper_ends_a_retrying_run_asked_to_cancel_and_its_output(client: TestClient, parts: Engine_) -> None:
    output = f"out-{uuid.uuid4().hex[:6]}"
    steps = [{"id": "q", "type": "sql", "sql": "SELECT 1 AS n"}, {"type": "fail", "message": "boom"}]
    spec = {"steps": steps, "output": {"dataset": output}}
    pipeline = client.post("/api/v1/pipelines", json={"name": "stuck-retrying", "spec": spec}).json()
    run_id = client.post(f"/api/v1/pipelines/{pipeline['id']}/runs", json={"max_retries": 3}).json()["id"]
    parts.relay.relay_once()
    assert parts.executor.execute(uuid.UUID(run_id)) is RunStatus.RETRYING
    parts.drain()  # the first attempt's message, taken by the call above
    _ask_to_cancel_behind_its_back(parts, run_id)

    assert parts.reaper.reap_once()["cancelled"] == 1

    assert client.get(f"/api/v1/runs/{run_id}").json()["status"] == "CANCELLED"
    with parts.engine.begin() as connection:  # its retry comes due: it is not sent
        connection.execute(text("UPDATE outbox SET available_at = now() WHERE run_id = :id"), {"id": run_id})
    parts.relay.relay_once()
    assert count(parts.engine, "outbox", "run_id = :id", id=run_id) == 0
    assert run_id not in parts.queued_messages()
    assert client.get(f"/api/v1/runs/{run_id}").json()["status"] == "CANCELLED"
    [dataset] = client.get("/api/v1/datasets", params={"search": output}).json()["items"]
    assert dataset["status"] == "failed", dataset  # not left importing


def test_the_sweep_leaves_a_running_run_asked_to_cancel_to_its_worker(parts: Engine_) -> None:
    parts.pipeline("running", [])
    [run_id] = parts.submit("running")
    parts.relay.relay_once()
    with parts.engine.begin() as connection:
        connection.execute(
            text("UPDATE runs SET status = 'RUNNING', attempt = 1, heartbeat_at = now() WHERE id = :id"),
            {"id": str(run_id)},
        )
    _ask_to_cancel_behind_its_back(parts, run_id)
    assert parts.reaper.end_cancel_requested() == 0
    with parts.engine.connect() as connection:
        status = connection.execute(text("SELECT status FROM runs WHERE id = :id"), {"id": str(run_id)}).scalar_one()
    assert status == "RUNNING"
