"""The lines Conveyor writes in a run's log, and its timeline's reasons, are stable codes with typed parameters
(app.core.run_notices, app.core.states.EventReason) beside their English: the console words them."""

from __future__ import annotations

import uuid

from litestar.testing import TestClient

from app.core.states import EventReason, RunStatus
from tests.integration.dataset_support import upload
from tests.integration.engine_parts import Engine_


def _log(client: TestClient, run_id: str) -> list[dict]:
    response = client.get(f"/api/v1/runs/{run_id}/logs")
    assert response.status_code == 200, response.text
    return response.json()["items"]


def test_a_failed_attempt_logs_its_retry_and_its_end_as_codes(client: TestClient, parts: Engine_) -> None:
    parts.pipeline("flaky", [{"type": "sleep", "seconds": 0}, {"type": "fail", "message": "boom"}])
    [run_id] = parts.submit("flaky", max_retries=1)
    parts.relay.relay_once()
    assert parts.executor.execute(run_id) is RunStatus.RETRYING
    lines = _log(client, str(run_id))
    coded = [line["notice"]["code"] if line["notice"] else None for line in lines]
    assert coded[0] == "attempt_started"
    assert "sleeping" in coded
    assert "step_done" in coded
    retry = lines[coded.index("retry_scheduled")]
    assert retry["notice"]["attempt"] == 1
    assert retry["notice"]["reason"] == "failed"
    assert retry["notice"]["error"] == "boom"
    assert retry["message"] == retry["notice"]["message"]  # the English line, as before
    assert retry["message"].startswith("attempt 1 failed: boom; retrying in ")

    events = client.get(f"/api/v1/runs/{run_id}/events").json()["items"]
    assert [e["reason"] for e in events] == ["created", "dispatched", "started", "failed"]
    assert all(e["reason"] in set(EventReason) for e in events)
    assert events[-1]["to_status"] == "RETRYING"


def test_a_cancelled_run_names_why_in_its_timeline(client: TestClient, parts: Engine_) -> None:
    parts.pipeline("idle", [{"type": "log", "message": "用户自己的日志"}])
    [run_id] = parts.submit("idle")
    assert client.post(f"/api/v1/runs/{run_id}/cancel").status_code == 200
    events = client.get(f"/api/v1/runs/{run_id}/events").json()["items"]
    assert events[-1]["reason"] == "cancel_requested"
    assert events[-1]["to_status"] == "CANCELLED"


def test_a_pipelines_own_log_lines_carry_no_code(client: TestClient, parts: Engine_) -> None:
    parts.pipeline("talk", [{"type": "log", "message": "用户自己的日志"}])
    [run_id] = parts.submit("talk")
    parts.relay.relay_once()
    assert parts.executor.execute(run_id) is RunStatus.SUCCEEDED
    lines = _log(client, str(run_id))
    own = next(line for line in lines if line["message"] == "用户自己的日志")
    assert own["notice"] is None
    ended = lines[-1]["notice"]
    assert (ended["code"], ended["status"], ended["error"]) == ("attempt_ended", "SUCCEEDED", None)


def test_an_import_logs_its_warnings_with_their_codes(client: TestClient, parts: Engine_) -> None:
    dataset = upload(client, b"a,,b\n1,2,3\n", filename="blank.csv")
    started = client.post(f"/api/v1/datasets/{dataset['id']}/imports", json={})
    assert started.status_code == 202, started.text
    run_id = started.json()["id"]
    parts.relay.relay_once()
    parts.executor.execute(uuid.UUID(run_id))
    coded = {line["notice"]["code"]: line for line in _log(client, run_id) if line["notice"]}
    assert {"importing", "empty_header", "import_version", "attempt_ended"} <= set(coded)
    assert coded["empty_header"]["level"] == "warning"
    assert (coded["empty_header"]["notice"]["column"], coded["empty_header"]["notice"]["name"]) == (2, "column_2")
    assert coded["importing"]["notice"]["config"] is None
    assert coded["import_version"]["notice"]["rows"] == 1
