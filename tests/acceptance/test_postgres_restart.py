"""PostgreSQL restarts under load: the API answers 503 while it is down, every process reconnects by itself,
and afterwards every run and the import finish, none lost and none run twice."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.acceptance.dataset_calls import start_import, write_csv
from tests.acceptance.harness import TIMINGS, ConveyorSystem, wait_until
from tests.acceptance.own_postgres import OwnPostgres, ServersOn
from tests.servers import TestServers

pytestmark = pytest.mark.acceptance

RUNS = 500
#: Rows of the CSV imported across the restart, on one DuckDB thread: enough that the import is still running
#: when the server stops (about a second after it starts).
IMPORT_ROWS = 3_000_000
LEASE = float(TIMINGS["CONVEYOR_LEASE_SECONDS"])


@pytest.fixture
def postgres() -> Iterator[OwnPostgres]:
    server = OwnPostgres().start()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def system(postgres: OwnPostgres, servers: TestServers, tmp_path: Path) -> Iterator[ConveyorSystem]:
    """api + scheduler + two workers on the test's own PostgreSQL, taking the whole batch in one call."""
    conveyor = ConveyorSystem(
        servers=ServersOn(postgres, servers.redis_url),
        root=tmp_path / "system",
        extra_env={"CONVEYOR_MAX_BATCH_RUNS": str(RUNS), "CONVEYOR_JOB_THREADS": "1"},
    )
    try:
        yield conveyor.start(workers=2)
    finally:
        conveyor.stop()


def assert_database_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "database_unavailable", response.text
    assert int(response.headers["retry-after"]) > 0


def logged(system: ConveyorSystem, text: str) -> list[str]:
    """Names of the processes whose output holds `text`."""
    return [p.name for p in [*system.processes, *system.workers] if text in p.output()]


def test_a_postgres_restart_during_a_batch_and_an_import_loses_nothing_and_runs_nothing_twice(
    system: ConveyorSystem, postgres: OwnPostgres, tmp_path: Path
) -> None:
    # Given an import in progress, and a batch of 500 runs started
    dataset_id, import_id = start_import(system, write_csv(tmp_path / "big.csv", IMPORT_ROWS))
    wait_until(lambda: system.run(import_id)["status"] == "RUNNING", timeout=60, what="the import to start")
    pipeline = system.create_pipeline([{"type": "sleep", "seconds": 0.2}, {"type": "log", "message": "done"}])
    run_ids = [run["id"] for run in system.submit_batch([{"pipeline": pipeline["id"]}] * RUNS)]
    assert len(run_ids) == RUNS
    wait_until(
        lambda: system.list_runs(pipeline=pipeline["id"], status=["RUNNING", "SUCCEEDED"]),
        timeout=60,
        what="the first runs of the batch to start",
    )
    assert system.run(import_id)["status"] == "RUNNING", "the import ended before the outage: make the file bigger"

    # When PostgreSQL stops (fast shutdown: every session is cut)
    postgres.stop()
    stopped_at = time.monotonic()

    # Then the API answers 503 database_unavailable, never 500, and readiness names the database
    assert_database_unavailable(system.http.get(f"/api/v1/runs/{run_ids[0]}"))
    assert_database_unavailable(system.http.get("/api/v1/runs", params={"limit": 5}))
    assert_database_unavailable(system.http.post("/api/v1/runs", json={"pipeline": pipeline["id"]}))
    ready = system.http.get("/readyz")
    assert ready.status_code == 503, ready.text
    assert "database: unreachable" in ready.json()["detail"], ready.text
    # And the scheduler and the workers wait it out; it lasts longer than a lease, so every heartbeat is stale
    wait_until(
        lambda: (
            time.monotonic() > stopped_at + LEASE + 1
            and logged(system, "the database is unavailable")
            and logged(system, "database unavailable while finishing run")
        ),
        timeout=60,
        what="the scheduler and a worker finishing a run to notice the outage",
    )
    system.assert_healthy()

    # When PostgreSQL comes back
    postgres.restart()

    # Then every process reconnects by itself: the API is ready again...
    system.wait_ready()
    # ...and all 500 runs and the import finish, each in one attempt, none lost, none run twice
    runs = system.wait_runs(run_ids, timeout=180, pipeline=pipeline["id"])
    assert Counter(run["status"] for run in runs.values()) == {"SUCCEEDED": RUNS}
    assert {run["attempt"] for run in runs.values()} == {1}
    for run_id in run_ids:
        moves = [(e["from_status"], e["to_status"]) for e in system.events(run_id)]
        assert moves.count(("QUEUED", "RUNNING")) == 1, moves
        assert moves[-1] == ("RUNNING", "SUCCEEDED"), moves
    imported = system.wait_runs([import_id], timeout=180)[import_id]
    assert (imported["status"], imported["attempt"]) == ("SUCCEEDED", 1), imported
    assert [e["to_status"] for e in system.events(import_id)].count("RUNNING") == 1
    dataset = system.http.get(f"/api/v1/datasets/{dataset_id}").json()
    assert (dataset["current_version"], dataset["row_count"], dataset["status"]) == (1, IMPORT_ROWS, "ready")
    system.assert_healthy()
