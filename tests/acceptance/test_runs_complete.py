"""Runs submitted over HTTP all finish, each through exactly the states a user expects."""

from __future__ import annotations

import math
from collections import Counter
from datetime import datetime

import pytest

from tests.acceptance.harness import MAX_BATCH_RUNS, WORKER_THREADS, ConveyorSystem

HAPPY_PATH = ["PENDING", "QUEUED", "RUNNING", "SUCCEEDED"]


@pytest.mark.acceptance
def test_two_hundred_runs_submitted_one_by_one_and_in_batches_all_succeed(system: ConveyorSystem) -> None:
    # Given a pipeline that logs one line
    pipeline = system.create_pipeline([{"type": "log", "message": "hello from the acceptance suite"}])

    # When 100 runs are submitted one by one and 100 more in batches (interleaved)
    run_ids: list[str] = []
    for index in range(20):
        for _ in range(5):
            run_ids.append(system.submit(pipeline["id"], params={"i": index})["id"])
        batch = system.submit_batch(
            [{"pipeline": pipeline["name"], "params": {"batch": index, "i": i}} for i in range(MAX_BATCH_RUNS)]
        )
        assert len(batch) == MAX_BATCH_RUNS
        run_ids += [run["id"] for run in batch]
    assert len(set(run_ids)) == 200

    # Then every run reaches SUCCEEDED, on its first attempt
    runs = system.wait_runs(run_ids, timeout=90, pipeline=pipeline["id"])
    system.assert_healthy()
    statuses = Counter(run["status"] for run in runs.values())
    assert statuses == {"SUCCEEDED": 200}, statuses
    assert {run["attempt"] for run in runs.values()} == {1}

    # And each run's history is exactly PENDING → QUEUED → RUNNING → SUCCEEDED
    unexpected = {}
    for run_id in run_ids:
        sequence = [event["to_status"] for event in system.events(run_id)]
        if sequence != HAPPY_PATH:
            unexpected[run_id] = sequence
    assert not unexpected, f"{len(unexpected)} runs took another path, e.g. {list(unexpected.items())[:3]}"


@pytest.mark.acceptance
def test_a_run_submitted_on_its_own_overtakes_batch_runs_already_waiting(system: ConveyorSystem) -> None:
    # Given every worker thread busy with batch runs, and two more threads' worth of them waiting
    threads = 2 * WORKER_THREADS  # the shared system's two workers
    sleeper = system.create_pipeline([{"type": "sleep", "seconds": 1}])
    batch_ids: list[str] = []
    for _ in range(math.ceil(3 * threads / MAX_BATCH_RUNS)):
        batch = system.submit_batch([{"pipeline": sleeper["name"]}] * MAX_BATCH_RUNS)
        batch_ids += [run["id"] for run in batch]

    # When one run is submitted on its own
    quick = system.create_pipeline([{"type": "log", "message": "someone is waiting for me"}])
    single = system.submit(quick["id"])["id"]

    # Then it starts with the next free thread, ahead of the batch runs that were waiting (the bulk lane)
    runs = system.wait_runs([single, *batch_ids], timeout=90)
    assert {run["status"] for run in runs.values()} == {"SUCCEEDED"}
    started = {run_id: datetime.fromisoformat(run["started_at"]) for run_id, run in runs.items()}
    overtaken = [run_id for run_id in batch_ids if started[run_id] > started[single]]
    assert len(overtaken) >= threads, f"only {len(overtaken)} of {len(batch_ids)} batch runs started after it"
