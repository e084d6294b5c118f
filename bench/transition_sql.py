"""Postgres CPU per run of the run engine's statements, stage by stage, measured on the backend itself.

A fresh database migrated to head (plus `--variant` SQL files, each on a database of its own, for A/B pairs
run back to back) gets a `noop` pipeline, optionally `--prefill` finished runs and `--subscriptions` webhook
subscriptions of another namespace (nothing matches them: the common case). Then, on one connection per
stage, as the processes send them:

1. insert:   `insert_runs` in batches of 1,000, as the API's batch submit writes them (QUEUED, dispatched by
             the API, which sends them itself after the commit);
2. start:    `start_runs` in batches of `--batch` (a worker process's shared batch: prepared, pipeline mode,
             one commit per batch, as workers/transitions.py sends it);
3. finish:   `finish_runs` likewise, each attempt with one log chunk of two lines;
4. worker:   start and finish of the next runs mixed, as a busy worker writes them: each transaction starts
             one batch and finishes the batch started before.

The worker's connection is opened, and its statements first run, while the table is still small, as when
`conveyor up` starts, and nothing is analysed (autovacuum is off on the shared server): a plan kept for the
session must stay right as the table grows. Each stage prints the CPU its backend used per run
(/proc/<pid>/schedstat, ns on CPU: the Postgres side only) and per commit, and how the prepared statements
were planned (pg_prepared_statements: generic vs custom plans). `--explain` prints EXPLAIN (ANALYZE, BUFFERS)
of one more start and finish batch, trigger times included. The load average goes with every figure: the
machine is shared.

`--rounds N` runs instead only the worker stage, on every database (base and variants) at once, a batch on each
in turn, N rounds of `--runs` runs: the A/B to trust on a shared machine (see `interleaved`).

    python -m bench.transition_sql [--runs 4000] [--batch 6] [--prefill 0] [--subscriptions 0]
                                   [--explain] [--unprepared] [--variant FILE.sql ...] [--rounds N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import text

from app.core.ids import uuid7
from app.core.states import RunKind, RunStatus, RunTrigger, sources
from app.db.queries import conninfo_of, psycopg_sql, query
from app.domain.run_rows import insert_runs, run_row
from app.settings import Settings
from bench._servers import BenchServers, figure, migrated, noop_pipeline

API_BATCH = 1000
WORKER_ID = "bench-worker"
START_SQL = psycopg_sql(str(query("start_runs")))
FINISH_SQL = psycopg_sql(str(query("finish_runs")))
START_FROM = sources(RunStatus.RUNNING)
FINISH_FROM = ",".join(sources(RunStatus.SUCCEEDED))
#: Two encoded log lines, about what a no-op run writes ("attempt 1 started", "SUCCEEDED in 0 ms").
LOG_CHUNK = (
    b'{"n":1,"ts":"2026-01-01T00:00:00.000000Z","level":"info","message":"attempt 1 started on bench-worker"}\n'
    b'{"n":2,"ts":"2026-01-01T00:00:00.001000Z","level":"info","message":"SUCCEEDED in 0 ms"}\n'
)


def log(message: str) -> None:
    print(f"# {message}", file=sys.stderr, flush=True)


def load_average() -> str:
    return "/".join(Path("/proc/loadavg").read_text().split()[:3])


def cpu_ns(pid: int) -> int:
    """Nanoseconds process `pid` has run on a CPU (the first field of /proc/<pid>/schedstat)."""
    return int(Path(f"/proc/{pid}/schedstat").read_text().split()[0])


class Stage:
    """CPU and commits of one backend over one stage."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.cpu = 0
        self.wall = 0.0

    @contextmanager
    def measure(self) -> Iterator[None]:
        cpu, wall = cpu_ns(self.pid), time.perf_counter()
        yield
        self.cpu += cpu_ns(self.pid) - cpu
        self.wall += time.perf_counter() - wall


def report(label: str, name: str, stage: Stage, runs: int, commits: int) -> None:
    figure(
        f"transition_sql.{label}.{name}.pg_cpu_per_run",
        stage.cpu / 1e3 / max(runs, 1),
        "us",
        per_commit_us=stage.cpu / 1e3 / max(commits, 1),
        runs=runs,
        commits=commits,
        wall_s=stage.wall,
        load=load_average(),
    )


def plans(connection: psycopg.Connection[Any]) -> str:
    """How each prepared statement of this connection was planned: generic/custom plan counts."""
    rows = connection.execute(
        "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE from_sql IS false ORDER BY prepare_time"
    ).fetchall()
    return ",".join(f"g{g}/c{c}" for g, c in rows) or "none"


def finish_params(run_ids: list[uuid.UUID]) -> dict[str, list[Any]]:
    """finish_runs parameters: every attempt (the first) SUCCEEDED with one log chunk of two lines."""
    n = len(run_ids)
    return {
        "run_ids": run_ids,
        "attempts": [1] * n,
        "to_statuses": [RunStatus.SUCCEEDED.value] * n,
        "from_statuses": [FINISH_FROM] * n,
        "error_codes": [None] * n,
        "error_messages": [None] * n,
        "progress": ['{"step": 0, "steps": 0, "percent": 100.0}'] * n,
        "log_lines": [2] * n,
        "reasons": ["succeeded"] * n,
        "actors": [WORKER_ID] * n,
        "details": ['{"elapsed_ms": 0.2}'] * n,
        "log_run_ids": run_ids,
        "log_attempts": [1] * n,
        "log_first_n": [1] * n,
        "log_last_n": [2] * n,
        "log_chunks": [LOG_CHUNK] * n,
    }


def start_params(run_ids: list[uuid.UUID]) -> dict[str, Any]:
    return {"run_ids": run_ids, "worker_id": WORKER_ID, "from_statuses": START_FROM}


def batches(ids: list[uuid.UUID], size: int) -> list[list[uuid.UUID]]:
    return [ids[i : i + size] for i in range(0, len(ids), size)]


class Bench:
    """One database: its seed, and the stages run against it."""

    def __init__(self, servers: BenchServers, args: argparse.Namespace, label: str, variant: Path | None) -> None:
        self.args = args
        self.label = label
        self.settings, self.engine = migrated(servers)
        self.conninfo = conninfo_of(self.settings.sqlalchemy_url)
        with self.engine.begin() as connection:
            self.pipeline = noop_pipeline(connection)
            self.namespace = connection.execute(text("SELECT id FROM namespaces WHERE name = 'default'")).scalar_one()
            self._seed(connection)
        with psycopg.connect(self.conninfo, autocommit=True) as connection:
            if variant is not None:
                connection.execute(variant.read_text().encode())  # no parameters: % is SQL's own

    def _seed(self, connection: Any) -> None:
        if self.args.subscriptions:
            # two statements: a statement with parameters is sent as one prepared statement, which holds only one
            connection.execute(text("INSERT INTO namespaces (id, name) VALUES (gen_random_uuid(), 'elsewhere')"))
            connection.execute(
                text(
                    "INSERT INTO webhook_subscriptions (id, namespace_id, url, event_types, secret)"
                    " SELECT gen_random_uuid(), (SELECT id FROM namespaces WHERE name = 'elsewhere'),"
                    " 'https://example.com/hook', ARRAY['run.succeeded', 'run.failed'], 'whsec_x'"
                    " FROM generate_series(1, :n)"
                ),
                {"n": self.args.subscriptions},
            )
        if self.args.prefill:
            log(f"{self.label}: {self.args.prefill} finished runs")
            for first in range(0, self.args.prefill, 50_000):
                ids = [uuid7() for _ in range(min(50_000, self.args.prefill - first))]
                connection.execute(
                    text(
                        "INSERT INTO runs (id, namespace_id, kind, trigger, status, pipeline_id, pipeline_version,"
                        " retry_backoff_seconds, retry_backoff_max_seconds, retry_jitter, timeout_seconds,"
                        " attempt, queued_at, started_at, finished_at)"
                        " SELECT id, :ns, 'pipeline', 'batch', 'SUCCEEDED', :p, 1, 1, 60, 0.1, 3600, 1,"
                        " now(), now(), now() FROM unnest(CAST(:ids AS uuid[])) AS id"
                    ),
                    {"ids": ids, "ns": self.namespace, "p": self.pipeline},
                )

    def submit(self, count: int, *, quiet: bool = False) -> list[uuid.UUID]:
        """`count` batch runs inserted (QUEUED) as the API's batch submit does it, measured on its backend."""
        settings = Settings()
        rows = [
            run_row(
                settings,
                namespace_id=self.namespace,
                kind=RunKind.PIPELINE,
                trigger=RunTrigger.BATCH,
                actor="bench",
                created_by=None,
                pipeline_id=self.pipeline,
                pipeline_version=1,
            )
            for _ in range(count)
        ]
        ids: list[uuid.UUID] = []
        with self.engine.connect() as connection:
            stage = Stage(connection.exec_driver_sql("SELECT pg_backend_pid()").scalar_one())
            connection.commit()
            with stage.measure():
                for first in range(0, count, API_BATCH):
                    with connection.begin():
                        ids += insert_runs(connection, rows[first : first + API_BATCH], dispatch_actor="bench")
        if not quiet:
            report(self.label, "insert", stage, count, -(-count // API_BATCH))
        return ids

    def worker_stage(
        self, connection: psycopg.Connection[Any], name: str, ids: list[uuid.UUID], write: Callable[..., int]
    ) -> None:
        """Batches written on the worker's connection, measured on its backend."""
        stage = Stage(connection.info.backend_pid)
        commits = 0
        with stage.measure():
            commits = write(connection, ids)
        report(self.label, name, stage, len(ids), commits)
        log(f"{self.label}.{name}: plans {plans(connection)}")

    def run(self) -> None:
        runs, size = self.args.runs, self.args.batch
        # As a worker process's TransitionWriter: one connection, opened (and its statements first planned) while
        # the table is still small, as when `conveyor up` starts; the database is never analysed (autovacuum is
        # off here). psycopg's default prepare_threshold, as workers/transitions.py connects with: prepare=True
        # prepares both statements on first use. --unprepared (prepare_threshold=None) parses and plans each.
        extra = {"prepare_threshold": None} if self.args.unprepared else {}
        with psycopg.connect(self.conninfo, autocommit=True, **extra) as connection:
            self._mixed(connection, batches(self.submit(size, quiet=True), size))
            ids = self.submit(runs)
            self.worker_stage(connection, "start", ids, lambda c, i: self._batches(c, batches(i, size), []))
            self.worker_stage(connection, "finish", ids, lambda c, i: self._batches(c, [], batches(i, size)))
            mixed = self.submit(runs)
            self.worker_stage(connection, "worker", mixed, lambda c, i: self._mixed(c, batches(i, size)))
        self._check(ids + mixed)
        if self.args.explain:
            self.explain()

    def _batches(self, connection: psycopg.Connection[Any], starts: list[list[uuid.UUID]], finishes: list[Any]) -> int:
        for batch in starts:
            self._write(connection, batch, [])
        for batch in finishes:
            self._write(connection, [], batch)
        return len(starts) + len(finishes)

    def _mixed(self, connection: psycopg.Connection[Any], groups: list[list[uuid.UUID]]) -> int:
        previous: list[uuid.UUID] = []
        for batch in [*groups, []]:
            self._write(connection, batch, previous)
            previous = batch
        return len(groups) + 1

    @staticmethod
    def _write(connection: psycopg.Connection[Any], starts: list[uuid.UUID], finishes: list[uuid.UUID]) -> None:
        with connection.pipeline(), connection.transaction():
            started = connection.cursor()
            finished = connection.cursor()
            if starts:
                started.execute(START_SQL, start_params(starts), prepare=True)
            if finishes:
                finished.execute(FINISH_SQL, finish_params(finishes), prepare=True)
        if starts:
            assert len(started.fetchall()) == len(starts), "a start matched nothing"
        if finishes:
            assert len(finished.fetchall()) == len(finishes), "a finish matched nothing"

    def _check(self, ids: list[uuid.UUID]) -> None:
        """Every run SUCCEEDED with its four events and its log chunk, and the rollup queue counts each once."""
        with psycopg.connect(self.conninfo, autocommit=True) as connection:
            row = connection.execute(
                "SELECT (SELECT count(*) FROM runs WHERE id = ANY(%(ids)s) AND status = 'SUCCEEDED'),"
                " (SELECT count(*) FROM run_events WHERE run_id = ANY(%(ids)s)),"
                " (SELECT count(*) FROM run_log_chunks WHERE run_id = ANY(%(ids)s)),"
                " (SELECT coalesce(sum(runs), 0) FROM run_rollup_changes WHERE run_id = ANY(%(ids)s))",
                {"ids": ids},
            ).fetchone()
        expected = (len(ids), 4 * len(ids), len(ids), len(ids))
        if tuple(row or ()) != expected:
            log(f"WRONG: {self.label}: runs/events/chunks/rollup {row}, expected {expected}")

    def explain(self) -> None:
        ids = self.submit(self.args.batch)
        with psycopg.connect(self.conninfo, autocommit=True) as connection:
            for name, sql, params in (
                ("start", START_SQL, start_params(ids)),
                ("finish", FINISH_SQL, finish_params(ids)),
            ):
                with connection.transaction():
                    plan = connection.execute(f"EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) {sql}", params).fetchall()
                print(f"# {self.label}.{name} EXPLAIN (ANALYZE, BUFFERS):", file=sys.stderr)
                for (line,) in plan:
                    print(f"#   {line}", file=sys.stderr)


def interleaved(benches: list[Bench], args: argparse.Namespace) -> None:
    """The worker stage on every database at once, batch by batch in turn, `--rounds` times: load from the
    rest of the machine then weighs on every variant alike (run one after the other, the same code differed by
    ±20 % on a shared 2-core machine). Prints each variant's median and lowest CPU per run over the rounds."""
    threshold: dict[str, Any] = {"prepare_threshold": None} if args.unprepared else {}
    connections = [psycopg.connect(b.conninfo, autocommit=True, **threshold) for b in benches]
    try:
        for bench, connection in zip(benches, connections, strict=True):  # planned while the table is small
            bench._mixed(connection, batches(bench.submit(args.batch, quiet=True), args.batch))
        per_run: list[list[float]] = [[] for _ in benches]
        for _ in range(args.rounds):
            groups = [[*batches(b.submit(args.runs, quiet=True), args.batch), []] for b in benches]
            previous: list[list[uuid.UUID]] = [[] for _ in benches]
            cpu = [0] * len(benches)
            for i in range(len(groups[0])):
                for k, connection in enumerate(connections):
                    before = cpu_ns(connection.info.backend_pid)
                    Bench._write(connection, groups[k][i], previous[k])
                    cpu[k] += cpu_ns(connection.info.backend_pid) - before
                    previous[k] = groups[k][i]
            for k, used in enumerate(cpu):
                per_run[k].append(used / 1e3 / args.runs)
        for bench, values in zip(benches, per_run, strict=True):
            figure(
                f"transition_sql.{bench.label}.interleaved.pg_cpu_per_run",
                statistics.median(values),
                "us",
                lowest=min(values),
                rounds=len(values),
                batch=args.batch,
                load=load_average(),
            )
    finally:
        for connection in connections:
            connection.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.transition_sql", description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=4000)
    parser.add_argument("--batch", type=int, default=6, help="runs per worker batch (transaction)")
    parser.add_argument("--prefill", type=int, default=0, help="finished runs in the table before the stages")
    parser.add_argument("--subscriptions", type=int, default=0, help="webhook subscriptions of another namespace")
    parser.add_argument("--explain", action="store_true")
    parser.add_argument("--unprepared", action="store_true", help="worker statements parsed and planned each time")
    parser.add_argument("--variant", type=Path, action="append", default=[], help="SQL run after migrating (A/B)")
    parser.add_argument("--rounds", type=int, default=0, help="instead of the stages: interleaved A/B, N rounds")
    args = parser.parse_args(argv)
    with BenchServers() as servers:
        log(f"transition_sql: {servers.where}; load {load_average()}")
        variants = [("base", None), *((path.stem, path) for path in args.variant)]
        if args.rounds:
            benches = [Bench(servers, args, label, variant) for label, variant in variants]
            try:
                interleaved(benches, args)
            finally:
                for bench in benches:
                    bench.engine.dispose()
            return 0
        for label, variant in variants:
            bench = Bench(servers, args, label, variant)
            try:
                bench.run()
            finally:
                bench.engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
