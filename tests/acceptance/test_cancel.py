"""Cancel: a queued run at once, a running one within seconds; neither runs afterwards."""

from __future__ import annotations

import time

import pytest

from tests.acceptance.harness import ADMIN, ConveyorSystem


@pytest.mark.acceptance
def test_a_queued_run_is_cancelled_at_once_and_never_runs(system: ConveyorSystem) -> None:
    # Given a run QUEUED behind busy workers
    blockers = system.occupy_all_threads()
    pipeline = system.create_pipeline([{"type": "log", "message": "must not run"}])
    run_id = system.submit(pipeline["id"])["id"]
    system.wait_runs([run_id], statuses=frozenset({"QUEUED"}), timeout=10)

    # When it is cancelled
    response = system.cancel(run_id)

    # Then it is CANCELLED at once, in the answer and on every later read
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "CANCELLED"
    assert system.run(run_id)["status"] == "CANCELLED"
    events = system.events(run_id)
    assert [e["to_status"] for e in events] == ["PENDING", "QUEUED", "CANCELLED"]
    assert events[-1]["actor"] == f"user:{ADMIN}"  # who cancelled it

    # And once the workers free up and consume its message, it still has not run
    for blocker in blockers:
        system.cancel(blocker)
    system.wait_runs(blockers, timeout=20)
    system.wait_broker_drained()
    run = system.run(run_id)
    assert run["status"] == "CANCELLED"
    assert run["attempt"] == 0
    assert system.events(run_id) == events
    assert system.log_lines(run_id) == []


def _running_run(system: ConveyorSystem) -> str:
    """A run in the middle of a 30 s sleep, allowed retries (which a cancel must not use)."""
    pipeline = system.create_pipeline([{"type": "sleep", "seconds": 30}, {"type": "log", "message": "too late"}])
    run_id = system.submit(pipeline["id"], max_retries=2)["id"]
    system.wait_runs([run_id], statuses=frozenset({"RUNNING"}), timeout=20)
    return run_id


@pytest.mark.acceptance
def test_a_running_run_is_cancelled_within_seconds(system: ConveyorSystem) -> None:
    # Given a run in the middle of a 30 s sleep
    run_id = _running_run(system)

    # When it is cancelled
    asked = time.monotonic()
    system.cancel(run_id)  # the answer itself is checked in the next test

    # Then the run is CANCELLED within a few seconds, not after its sleep
    run = system.wait_runs([run_id], timeout=5)[run_id]
    assert time.monotonic() - asked < 5
    assert run["status"] == "CANCELLED", run
    assert run["attempt"] == 1
    # And its history records the request and the stop, with no retry despite max_retries=2
    events = system.events(run_id)
    assert [(e["from_status"], e["to_status"], e["reason"]) for e in events[2:]] == [
        ("QUEUED", "RUNNING", "started"),
        ("RUNNING", "RUNNING", "cancel_requested"),
        ("RUNNING", "CANCELLED", "cancelled"),
    ]
    assert "too late" not in [line["message"] for line in system.log_lines(run_id)]

    # And cancelling it again is refused: it is already final
    again = system.cancel(run_id)
    assert again.status_code == 409
    assert again.headers["content-type"].startswith("application/problem+json")
    assert again.json()["code"] == "run_not_cancellable"


@pytest.mark.acceptance
def test_cancelling_a_running_run_answers_202_with_the_run(system: ConveyorSystem) -> None:
    # Given a running run
    run_id = _running_run(system)

    # When it is cancelled
    response = system.cancel(run_id)

    # Then the API says the stop was asked for (202), with the run as it is now
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["id"] == run_id
    assert body["status"] == "RUNNING"
    assert body["cancel_requested"] is True
    assert system.wait_runs([run_id], timeout=5)[run_id]["status"] == "CANCELLED"
