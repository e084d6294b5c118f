"""Redis is only transport: losing it (FLUSHALL, or a stop and restart) loses no run."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator

import pytest

from tests.acceptance.harness import MAX_BATCH_RUNS, ConveyorSystem, wait_until
from tests.servers import TestServers


@pytest.fixture(scope="module")
def idle_system(servers: TestServers, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConveyorSystem]:
    """api + scheduler and no worker yet, so submitted runs stay QUEUED in the broker."""
    system = ConveyorSystem(servers=servers, root=tmp_path_factory.mktemp("redis-loss"))
    try:
        system.start(workers=0)
        yield system
    finally:
        system.stop()


@pytest.fixture
def system(idle_system: ConveyorSystem) -> Iterator[ConveyorSystem]:
    """The idle system; the workers a test starts are stopped after it."""
    assert not idle_system.workers
    yield idle_system
    idle_system.stop_workers()
    idle_system.settle()


def _submit(system: ConveyorSystem, pipeline: dict, count: int) -> list[str]:
    """`count` runs of `pipeline`, submitted in batches."""
    runs: list[str] = []
    while len(runs) < count:
        size = min(MAX_BATCH_RUNS, count - len(runs))
        runs += [r["id"] for r in system.submit_batch([{"pipeline": pipeline["id"]}] * size)]
    return runs


def _assert_each_ran_once_and_succeeded(system: ConveyorSystem, run_ids: list[str], pipeline: dict) -> None:
    runs = system.wait_runs(run_ids, timeout=60, pipeline=pipeline["id"])
    system.assert_healthy()  # a worker that crashed would have lost runs: say so first
    statuses = Counter(run["status"] for run in runs.values())
    assert statuses == {"SUCCEEDED": len(run_ids)}, statuses
    assert {run["attempt"] for run in runs.values()} == {1}
    for run_id in run_ids:
        events = system.events(run_id)
        assert [e["to_status"] for e in events].count("RUNNING") == 1, events
        assert events[-1]["to_status"] == "SUCCEEDED", events


@pytest.mark.acceptance
def test_runs_queued_when_redis_is_flushed_all_finish(system: ConveyorSystem) -> None:
    # Given 100 runs QUEUED, their messages waiting in Redis (no worker is running)
    pipeline = system.create_pipeline([{"type": "log", "message": "survived a FLUSHALL"}])
    run_ids = _submit(system, pipeline, 100)
    system.wait_runs(run_ids, statuses=frozenset({"QUEUED"}), timeout=30, pipeline=pipeline["id"])
    assert system.unacked_messages() == 100

    # When Redis loses everything, and only then workers start
    system.redis.flushall()
    assert system.unacked_messages() == 0
    system.start_workers(2)

    # Then every run still finishes SUCCEEDED, exactly once
    _assert_each_ran_once_and_succeeded(system, run_ids, pipeline)
    # And each was re-sent because the broker had lost its message
    for run_id in run_ids:
        reasons = [e["reason"] for e in system.events(run_id) if e["from_status"] == e["to_status"] == "QUEUED"]
        assert "message_resent" in reasons, system.events(run_id)


@pytest.mark.acceptance
def test_runs_queued_across_a_redis_restart_all_finish(system: ConveyorSystem) -> None:
    # Given 50 runs QUEUED in the broker (no worker is running)
    pipeline = system.create_pipeline([{"type": "log", "message": "survived a Redis restart"}])
    run_ids = _submit(system, pipeline, 50)
    system.wait_runs(run_ids, statuses=frozenset({"QUEUED"}), timeout=30, pipeline=pipeline["id"])

    # When Redis stops, 50 more runs are submitted while it is down, and Redis comes back
    system.stop_redis()
    run_ids += _submit(system, pipeline, 50)
    system.wait_runs(run_ids[50:], statuses=frozenset({"PENDING", "QUEUED"}), timeout=10, pipeline=pipeline["id"])
    system.start_redis()
    system.wait_ready()
    system.start_workers(2)

    # Then all 100 finish SUCCEEDED, each exactly once
    _assert_each_ran_once_and_succeeded(system, run_ids, pipeline)


@pytest.mark.acceptance
def test_runs_in_flight_when_redis_restarts_under_busy_workers_all_finish(system: ConveyorSystem) -> None:
    # Given busy workers: 40 one-second runs for 8 threads, some running, the rest waiting in Redis
    workers = system.start_workers(2)
    pipeline = system.create_pipeline([{"type": "sleep", "seconds": 1}, {"type": "log", "message": "done"}])
    run_ids = _submit(system, pipeline, 40)
    wait_until(
        lambda: system.list_runs(pipeline=pipeline["id"], status=["RUNNING"]),
        timeout=20,
        what="the first runs to start",
    )

    # When Redis stops (the workers notice), 10 more runs are submitted, and Redis comes back
    said_before = {process.name: len(process.output()) for process in system.processes}
    system.stop_redis()
    wait_until(
        lambda: all("Lost the connection to Redis" in worker.output() for worker in workers),
        timeout=20,
        what="both workers to notice that Redis is gone",
    )
    run_ids += _submit(system, pipeline, 10)
    system.start_redis()

    # Then all 50 finish SUCCEEDED, each exactly once
    _assert_each_ran_once_and_succeeded(system, run_ids, pipeline)
    # and the workers said so in a warning and an info line each, with no critical line to wake anyone for
    for worker in workers:
        output = worker.output()
        assert "CRITICAL" not in output, output
        assert "Reconnected to Redis after" in output, output
    # and every process said it at most once per component (logger), though each tried again and again meanwhile
    for process in [*system.processes, *workers]:
        output = process.output()[said_before.get(process.name, 0) :]
        warned = _redis_warnings(output)
        assert all(count == 1 for count in warned.values()), (process.name, warned, output[-5000:])


def _redis_warnings(output: str) -> Counter[str]:
    """How many warnings about Redis or the broker each logger of a process wrote (text log lines)."""
    warned: Counter[str] = Counter()
    for line in output.splitlines():
        said = re.search(r" WARNING +\S+ (\S+): (.*)", line)
        if said and re.search(r"Redis|broker|live log", said[2]):
            warned[said[1]] += 1
    return warned
