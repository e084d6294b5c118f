"""Faults while a batch of 1,000 runs is worked off: a worker killed, database sessions and Redis connections cut.

What an outside tester tries once we stop: the api, the scheduler and two workers are busy with runs
submitted in batches over REST (some allowed retries, some failing for good) when, one after another, a
worker is killed with SIGKILL and replaced, every Postgres backend of the system's database is terminated
(then only the api's and the workers'), and the api's Redis connections (then everyone's) are killed.
Afterwards every run is final, none lost, none stuck, none succeeded twice; the submitter never saw a 500
(a 503 with a code is allowed while a fault lasts, and the submit is repeated with its Idempotency-Key);
and the dashboard and Prometheus count what the runs table holds.

A worker killed with messages fetched but not started leaves them in its Redis ack set; they come back when its
Redis heartbeat is older than the broker's heartbeat_timeout (15 s with the harness's timings), which is most
of this test's ~45 s. Connections are matched to processes by their sockets (tests/acceptance/faults.py).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

import httpx
import psycopg
import pytest

from tests.acceptance.faults import kill_redis_clients, kill_worker, terminate_backends
from tests.acceptance.harness import FINAL, ConveyorSystem, Process, wait_until, worker_pid
from tests.servers import TestServers

pytestmark = pytest.mark.acceptance

BATCH = 50
BATCHES = 20
#: Of each batch: runs that fail for good (allowed one retry), slow ones (so a killed worker has some in flight,
#: allowed two retries), and quick ones of which every third is allowed two retries.
FAILING_PER_BATCH = 5
SLOW_PER_BATCH = 2
SLOW_SECONDS = 1.5
RETRIES_EVERY = 3
#: The only answers the submitter may see: created, read, or unavailable-with-a-code while a fault lasts.
ALLOWED = {200, 201, 503}
#: What Dramatiq logs when an actor raises.
UNHANDLED = "with unhandled exception"


@dataclass
class Submitter:
    """Submits the batches over REST, repeating a 503 (or a cut connection) with the same Idempotency-Key."""

    client: httpx.Client
    quick: str
    slow: str
    failing: str
    run_ids: list[str] = field(default_factory=list)
    #: (method path, status code or exception name, problem code) of every answer.
    answers: list[tuple[str, str, str | None]] = field(default_factory=list)
    error: BaseException | None = None

    def batch(self, index: int) -> list[dict[str, Any]]:
        quick = [
            {"pipeline": self.quick, "params": {"b": index, "i": i}, "max_retries": 2 if i % RETRIES_EVERY == 0 else 0}
            for i in range(BATCH - FAILING_PER_BATCH - SLOW_PER_BATCH)
        ]
        slow = [{"pipeline": self.slow, "max_retries": 2}] * SLOW_PER_BATCH
        return quick + slow + [{"pipeline": self.failing, "max_retries": 1}] * FAILING_PER_BATCH

    def call(self, method: str, path: str, *, route: str = "", **kwargs: Any) -> httpx.Response | None:
        """One request; its answer is recorded under `route` (the path without its query by default)."""
        where = f"{method} {route or path.split('?')[0]}"
        try:
            response = self.client.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            self.answers.append((where, type(exc).__name__, None))
            return None
        code = None
        if response.headers.get("content-type", "").startswith("application/problem+json"):
            code = response.json().get("code")
        self.answers.append((where, str(response.status_code), code))
        return response

    def submit(self, index: int) -> None:
        key = str(uuid.uuid4())
        deadline = time.monotonic() + 30
        while True:
            response = self.call(
                "POST", "/api/v1/runs/batch", json={"runs": self.batch(index)}, headers={"Idempotency-Key": key}
            )
            if response is not None and response.status_code == 201:
                self.run_ids += [run["id"] for run in response.json()["runs"]]
                return
            assert time.monotonic() < deadline, f"batch {index} not accepted in 30 s: {self.answers[-5:]}"
            time.sleep(0.2)

    def run(self) -> None:
        try:
            for index in range(BATCHES):
                self.submit(index)
                # Reads during the faults too: one run, a page of the list, the dashboard.
                if self.run_ids:
                    self.call("GET", f"/api/v1/runs/{self.run_ids[-1]}", route="/api/v1/runs/{id}")
                self.call("GET", "/api/v1/runs?limit=20&status=RUNNING")
                self.call("GET", "/api/v1/metrics/summary")
                time.sleep(0.3)
        except BaseException as exc:  # shown by the test, not lost in the thread
            self.error = exc


@pytest.fixture
def system(servers: TestServers, tmp_path: Path) -> Iterator[ConveyorSystem]:
    conveyor = ConveyorSystem(
        servers=servers, root=tmp_path / "system", extra_env={"CONVEYOR_MAX_BATCH_RUNS": str(BATCH)}
    )
    try:
        yield conveyor.start(workers=2)
    finally:
        conveyor.stop()


def _api(system: ConveyorSystem) -> Process:
    return next(process for process in system.processes if process.name == "api")


def _after(pause: float, what: Callable[[], Any], log: list[str], name: str) -> None:
    time.sleep(pause)
    log.append(f"{name}: {what()}")


def test_a_killed_worker_cut_database_sessions_and_dropped_redis_connections_lose_no_run(
    system: ConveyorSystem,
) -> None:
    since = datetime.now(UTC) - timedelta(minutes=1)
    quick = system.create_pipeline([{"type": "log", "message": "ok"}])
    slow = system.create_pipeline([{"type": "sleep", "seconds": SLOW_SECONDS}, {"type": "log", "message": "ok"}])
    failing = system.create_pipeline([{"type": "fail", "message": "for good"}])
    client = httpx.Client(base_url=system.base_url, timeout=15.0, headers=dict(system.http.headers))
    submitter = Submitter(client, quick["id"], slow["id"], failing["id"])

    # Given 1,000 runs being submitted in batches of 50 and worked off by two workers
    thread = threading.Thread(target=submitter.run, daemon=True)
    thread.start()
    wait_until(lambda: len(submitter.run_ids) >= 3 * BATCH or submitter.error, timeout=30, what="the first batches")

    # When, twice over, one after another: every backend of the database is terminated, a worker running a run
    # is killed and replaced, the api's Redis connections are killed, the api's and workers' backends are
    # terminated, every Redis connection is killed, and every backend is terminated again
    injected: list[str] = []
    for _ in range(2):
        _after(1.0, lambda: terminate_backends(system), injected, "backends terminated (all)")
        _after(1.0, lambda: _replace_a_busy_worker(system), injected, "worker")
        _after(1.0, lambda: kill_redis_clients(system, of=[_api(system)]), injected, "redis clients killed (api)")
        _after(
            1.0,
            lambda: terminate_backends(system, of=[_api(system), *system.workers]),
            injected,
            "backends terminated (api, workers)",
        )
        _after(1.0, lambda: kill_redis_clients(system), injected, "redis clients killed (all)")
        _after(1.0, lambda: terminate_backends(system), injected, "backends terminated (all)")
    thread.join(60)
    assert not thread.is_alive(), "the submitter did not finish"
    assert submitter.error is None, f"submitter failed: {submitter.error!r}; faults: {injected}"
    client.close()

    # Then the submitter never saw a 500: only answers, or a 503 that names its cause
    statuses = Counter(status for _, status, _ in submitter.answers)
    unexpected = [a for a in submitter.answers if a[1] not in {str(s) for s in ALLOWED}]
    assert not unexpected, f"unexpected answers {unexpected[:10]}; all {statuses}; faults {injected}"
    assert all(code for _, status, code in submitter.answers if status == "503"), statuses

    # And every run is final: none lost, none stuck, each submitted once
    run_ids = submitter.run_ids
    assert len(run_ids) == len(set(run_ids)) == BATCH * BATCHES
    try:
        wait_until(lambda: _unfinished(system) == 0, timeout=60, what="every run to be final")
    except AssertionError as exc:
        raise AssertionError(f"{exc}; {_stuck(system)}; faults {injected}") from None
    runs = _runs(system)
    assert len(runs) == BATCH * BATCHES, f"{len(runs)} runs in the table for {BATCH * BATCHES} submitted"
    assert set(runs) == set(run_ids)
    by_status = Counter(run.status for run in runs.values())

    # And each ended as its pipeline says: the failing ones FAILED, the others SUCCEEDED unless a killed worker
    # took their last allowed attempt (then FAILED worker_lost); none succeeded twice, none started more often
    # than its attempts say, none beyond its retries
    lost = 0
    for run_id, run in runs.items():
        if run.pipeline_id == failing["id"]:
            assert run.status == "FAILED", (run_id, run)
        elif run.status != "SUCCEEDED":
            assert (run.status, run.last_reason, run.attempt) == ("FAILED", "worker_lost", run.max_retries + 1), run
            lost += 1
        assert run.successes == (1 if run.status == "SUCCEEDED" else 0), (run_id, run)
        assert run.starts == run.attempt <= run.max_retries + 1, (run_id, run)
    assert by_status["FAILED"] == BATCHES * FAILING_PER_BATCH + lost, by_status

    # And the dashboard and Prometheus count what the runs table holds
    window = {"from": since.isoformat(), "to": (datetime.now(UTC) + timedelta(minutes=1)).isoformat()}

    def counted() -> dict[str, Any]:
        if "\nconveyor_rollup_backlog 0.0" not in system.http.get("/metrics").text:
            return {}
        summary = system.http.get("/api/v1/metrics/summary", params=window).json()
        return summary if summary["runs_by_status"] == dict(by_status) else {}

    wait_until(counted, timeout=30, what=f"the summary to count {dict(by_status)}")
    scrape = system.http.get("/metrics").text
    for status, count in by_status.items():
        assert f'conveyor_runs{{kind="pipeline",status="{status}"}} {float(count)}' in scrape, (status, count)
    system.assert_healthy()
    # And no process let a fault escape as an unhandled error (an attempt that broke so is reaped as lost)
    unhandled = [
        line
        for process in [*system.processes, *system.workers]
        for line in process.output().splitlines()
        if UNHANDLED in line or "unhandled error on" in line
    ]
    assert not unhandled, unhandled[:5]
    problems = Counter(f"{where} {status} {code}" for where, status, code in submitter.answers if status != "201")
    print(f"faults: {injected}\nanswers: {dict(statuses)} {dict(problems)}\ndetours: {_detours(system)}")


def _unfinished(system: ConveyorSystem) -> int:
    with psycopg.connect(system.database_url) as connection:
        row = connection.execute("SELECT count(*) FROM runs WHERE NOT (status = ANY(%s))", (sorted(FINAL),)).fetchone()
    assert row is not None
    return int(row[0])


class RunRow(NamedTuple):
    pipeline_id: str
    status: str
    attempt: int
    max_retries: int
    #: How often its events say it started, and succeeded; the reason of its last event.
    starts: int
    successes: int
    last_reason: str


def _runs(system: ConveyorSystem) -> dict[str, RunRow]:
    """Every run of the runs table, with what its events say."""
    with psycopg.connect(system.database_url) as connection:
        rows = connection.execute(
            """
            SELECT r.id::text, r.pipeline_id::text, r.status, r.attempt, r.max_retries,
                   count(*) FILTER (WHERE e.to_status = 'RUNNING'),
                   count(*) FILTER (WHERE e.to_status = 'SUCCEEDED'),
                   (array_agg(e.reason ORDER BY e.id DESC))[1]
            FROM runs r LEFT JOIN run_events e ON e.run_id = r.id
            GROUP BY r.id
            """
        ).fetchall()
    return {row[0]: RunRow(*row[1:]) for row in rows}


def _replace_a_busy_worker(system: ConveyorSystem) -> str:
    """SIGKILL a `conveyor worker` that has a run RUNNING (with its children), and start a new one."""

    def busy() -> list[tuple[Process, int]]:
        """Our live workers, each with how many runs it has RUNNING, the busiest first."""
        with psycopg.connect(system.database_url) as connection:
            rows = connection.execute("SELECT worker_id FROM runs WHERE status = 'RUNNING'").fetchall()
        pids = Counter(worker_pid(str(actor)) for (actor,) in rows if actor)
        counts = [(w, sum(pids[child] for child in system.worker_children(w))) for w in system.workers]
        return sorted([c for c in counts if c[1]], key=lambda c: -c[1])

    # (the load may be worked off already on a fast machine: then the first worker, idle, is killed all the same)
    deadline = time.monotonic() + 5
    while not (found := busy()) and time.monotonic() < deadline:
        time.sleep(0.05)
    victim, running = found[0] if found else (system.workers[0], 0)
    kill_worker(victim)
    system.workers.remove(victim)
    system.start_workers(1, wait=False)
    return f"{victim.name} killed with {running} run(s) RUNNING, {system.workers[-1].name} started"


def _detours(system: ConveyorSystem) -> dict[str, int]:
    """How many events left the happy path, by move and reason (shown, so a run says what the faults did)."""
    with psycopg.connect(system.database_url) as connection:
        rows = connection.execute(
            """
            SELECT from_status || '>' || to_status || ':' || reason, count(*) FROM run_events
            WHERE from_status IS NOT NULL
              AND (from_status, to_status)
                  NOT IN (('PENDING', 'QUEUED'), ('QUEUED', 'RUNNING'), ('RUNNING', 'SUCCEEDED'))
            GROUP BY 1 ORDER BY 2 DESC
            """
        ).fetchall()
    return {str(move): int(count) for move, count in rows}


def _stuck(system: ConveyorSystem) -> str:
    """The runs not final, by status, and the history of a few (for a failing test)."""
    with psycopg.connect(system.database_url) as connection:
        rows = connection.execute(
            "SELECT id, status, attempt, worker_id, heartbeat_at, next_retry_at FROM runs"
            " WHERE NOT (status = ANY(%s)) ORDER BY id",
            (sorted(FINAL),),
        ).fetchall()
        lines = [f"{len(rows)} runs not final: {dict(Counter(row[1] for row in rows))}"]
        for row in rows[:5]:
            events = connection.execute(
                "SELECT from_status, to_status, reason, actor, attempt, created_at FROM run_events"
                " WHERE run_id = %s ORDER BY id",
                (row[0],),
            ).fetchall()
            outbox = connection.execute("SELECT * FROM outbox WHERE run_id = %s", (row[0],)).fetchall()
            lines.append(f"{row}: events {events}; outbox {outbox}")
    return "\n".join(lines)
