"""Following a run's log live over Server-Sent Events, and resuming with Last-Event-ID."""

from __future__ import annotations

import json
import time
from datetime import datetime

import pytest

from tests.acceptance.harness import ConveyorSystem
from tests.acceptance.sse import sse_events


@pytest.mark.acceptance
def test_the_log_stream_delivers_lines_live_ends_with_the_status_and_resumes_after_last_event_id(
    system: ConveyorSystem,
) -> None:
    # Given a run that logs three lines, half a second apart
    pipeline = system.create_pipeline(
        [
            {"type": "log", "message": "one"},
            {"type": "sleep", "seconds": 0.5},
            {"type": "log", "message": "two"},
            {"type": "sleep", "seconds": 0.5},
            {"type": "log", "message": "three"},
        ]
    )
    run_id = system.submit(pipeline["id"])["id"]
    path = f"/api/v1/runs/{run_id}/logs/stream"

    # When a client follows its log from the start
    received: list[tuple[float, dict[str, str]]] = []
    for event in sse_events(system.http, path, timeout=30):
        received.append((time.time(), event))

    # Then it gets every line once, in order, numbered from 1, and one final `end` event with the status
    events = [event for _, event in received]
    logs = [event for event in events if event.get("event") == "log"]
    assert [event.get("event") for event in events] == ["log"] * len(logs) + ["end"]
    lines = [json.loads(event["data"]) for event in logs]
    assert [int(event["id"]) for event in logs] == [line["n"] for line in lines] == list(range(1, len(lines) + 1))
    messages = [line["message"] for line in lines]
    assert [m for m in messages if m in ("one", "two", "three")] == ["one", "two", "three"]
    assert messages == [line["message"] for line in system.log_lines(run_id)]
    end = json.loads(events[-1]["data"])
    assert end["status"] == "SUCCEEDED"
    assert end["lines"] == len(lines)
    assert system.run(run_id)["status"] == "SUCCEEDED"
    # And the lines came live: "one" reached the client before "three" was even written
    got_one = next(at for at, event in received if event.get("event") == "log" and '"one"' in event["data"])
    three_written = datetime.fromisoformat(next(line["ts"] for line in lines if line["message"] == "three"))
    assert got_one < three_written.timestamp()

    # When the client reconnects with Last-Event-ID: 2
    resumed = list(sse_events(system.http, path, headers={"Last-Event-ID": "2"}, timeout=30))

    # Then it gets only the lines after line 2, then the end again
    assert [int(event["id"]) for event in resumed if event.get("event") == "log"] == list(range(3, len(lines) + 1))
    assert [json.loads(event["data"])["message"] for event in resumed[:-1]] == messages[2:]
    assert resumed[-1]["event"] == "end"
    assert json.loads(resumed[-1]["data"])["status"] == "SUCCEEDED"


@pytest.mark.acceptance
def test_the_log_stream_of_a_run_cancelled_while_queued_ends_with_cancelled(system: ConveyorSystem) -> None:
    # Given a run QUEUED behind busy workers, cancelled before it started
    blockers = system.occupy_all_threads()
    pipeline = system.create_pipeline([{"type": "log", "message": "never"}])
    run_id = system.submit(pipeline["id"])["id"]
    system.wait_runs([run_id], statuses=frozenset({"QUEUED"}), timeout=10)
    assert system.cancel(run_id).status_code == 200
    for blocker in blockers:
        system.cancel(blocker)

    # When a client follows its log
    events = list(sse_events(system.http, f"/api/v1/runs/{run_id}/logs/stream", timeout=15))

    # Then the stream ends at once with the final status, and no line
    assert [event.get("event") for event in events] == ["end"]
    assert json.loads(events[0]["data"]) == {"status": "CANCELLED", "lines": 0}


@pytest.mark.acceptance
@pytest.mark.parametrize(
    "last_event_id",
    # b"\xb2" is "²" once the server decodes the header as latin-1: str.isdigit() said yes, int() no (a 500).
    # Only a real server sees those bytes: the in-process test client re-encodes header values as UTF-8.
    [b"line-two", b"\xb2"],
    ids=["letters", "superscript-two"],
)
def test_a_bad_last_event_id_is_refused(system: ConveyorSystem, last_event_id: bytes) -> None:
    pipeline = system.create_pipeline([{"type": "log", "message": "x"}])
    run_id = system.submit(pipeline["id"])["id"]
    response = system.http.get(f"/api/v1/runs/{run_id}/logs/stream", headers={b"Last-Event-ID": last_event_id})
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "invalid_last_event_id"
