"""A worker stopped with SIGTERM in the middle of a batch: every finish it handed over is written before it exits."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.acceptance.harness import ConveyorSystem, wait_until
from tests.servers import TestServers

RUNS = 120


@pytest.fixture
def system(servers: TestServers, tmp_path: Path) -> Iterator[ConveyorSystem]:
    """A system of the test's own with one worker, taking the whole batch in one call."""
    conveyor = ConveyorSystem(
        servers=servers, root=tmp_path / "system", extra_env={"CONVEYOR_MAX_BATCH_RUNS": str(RUNS)}
    )
    try:
        yield conveyor.start(workers=1)
    finally:
        conveyor.stop()


@pytest.mark.acceptance
def test_a_worker_stopped_mid_batch_writes_its_finishes_and_loses_no_run(system: ConveyorSystem) -> None:
    # Given one worker going through a batch of no-op runs
    pipeline = system.create_pipeline([])
    run_ids = [run["id"] for run in system.submit_batch([{"pipeline": pipeline["id"]}] * RUNS)]
    wait_until(
        lambda: len(system.list_runs(pipeline=pipeline["id"], status=["SUCCEEDED"])) >= 10,
        timeout=60,
        what="the batch to get going",
    )

    # When it is stopped with SIGTERM, and another worker takes over
    system.stop_workers()
    system.start_workers(1)

    # Then every run succeeds, and none was left RUNNING for the reaper: the stopped worker wrote every
    # finish it had handed over (an attempt it had not finished is handed back, as worker_shutdown)
    runs = system.wait_runs(run_ids, timeout=120, pipeline=pipeline["id"])
    assert Counter(run["status"] for run in runs.values()) == {"SUCCEEDED": RUNS}
    with psycopg.connect(system.database_url) as connection:
        reasons = Counter(
            dict(connection.execute("SELECT reason, count(*) FROM run_events GROUP BY reason").fetchall())
        )
    assert reasons["worker_lost"] == 0, reasons
    assert reasons["succeeded"] == RUNS, reasons
