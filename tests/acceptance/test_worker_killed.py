"""A worker killed mid-run: the run is reaped, retried on the other worker, and succeeds."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from datetime import datetime

import pytest

from tests.acceptance.harness import ConveyorSystem, wait_until, worker_pid


def _at(event: dict) -> datetime:
    return datetime.fromisoformat(event["created_at"])


@pytest.mark.acceptance
def test_run_on_a_killed_worker_is_retried_on_the_other_worker_and_succeeds(
    make_system: Callable[..., ConveyorSystem],
) -> None:
    # Given two workers and a run that sleeps 3 s, allowed 2 retries
    system = make_system(workers=2)
    pipeline = system.create_pipeline(
        [{"type": "log", "message": "before"}, {"type": "sleep", "seconds": 3}, {"type": "log", "message": "after"}]
    )
    run_id = system.submit(pipeline["id"], max_retries=2)["id"]

    # When the worker process running it is killed with SIGKILL
    started = wait_until(
        lambda: [e for e in system.events(run_id) if e["to_status"] == "RUNNING"], timeout=20, what="the run to start"
    )
    victim, survivor = system.victim_and_survivor(started[0]["actor"])
    # (killed once its pre-sleep line is stored: a kill in the first ~50 ms, before the flusher ran, takes those lines)
    wait_until(
        lambda: "before" in [line["message"] for line in system.log_lines(run_id)], timeout=10, what="attempt 1's lines"
    )
    os.kill(victim, signal.SIGKILL)

    # Then the run is retried and succeeds, on its second attempt
    run = system.wait_runs([run_id], timeout=30)[run_id]
    assert run["status"] == "SUCCEEDED", run
    assert run["attempt"] == 2

    # And its history shows the loss, then attempt 2 on the surviving worker
    events = system.events(run_id)
    assert [e["to_status"] for e in events] == [
        "PENDING",
        "QUEUED",
        "RUNNING",
        "RETRYING",
        "QUEUED",
        "RUNNING",
        "SUCCEEDED",
    ]
    running = [e for e in events if e["to_status"] == "RUNNING"]
    lost = next(e for e in events if e["to_status"] == "RETRYING")
    assert lost["from_status"] == "RUNNING"
    assert lost["reason"] == "worker_lost"
    assert lost["attempt"] == 1
    assert [e["attempt"] for e in running] == [1, 2]
    assert worker_pid(running[1]["actor"]) != victim
    assert worker_pid(running[1]["actor"]) in system.worker_children(survivor)
    assert survivor.alive()
    assert events[-1]["attempt"] == 2
    # And the two attempts never overlapped: attempt 2 started only after attempt 1 was reaped
    assert _at(running[0]) < _at(lost) <= _at(running[1])

    # And the log tells the same story: attempt 1 cut short, attempt 2 complete
    lines = system.log_lines(run_id)
    assert [line["n"] for line in lines] == list(range(1, len(lines) + 1))
    started_lines = [line for line in lines if " started on " in line["message"]]
    assert [line["attempt"] for line in started_lines] == [1, 2]
    assert [line["message"] for line in lines if line["attempt"] == 2][-1].startswith("SUCCEEDED")
    assert "after" not in [line["message"] for line in lines if line["attempt"] == 1]
    # (the lines attempt 1 logged before its sleep were stored by the flusher, so the kill did not take them)
    assert "before" in [line["message"] for line in lines if line["attempt"] == 1]
