"""Run logs in Postgres: write cost per line, page read latency, and what a 3-line log adds to a run.

A fresh database migrated to head. Three figures:

- `run_log.write_per_line`: 100,000 lines written as a worker writes them (app.domain.runlog_buffer:
  buffered, flushed in chunks by the background flusher), from the first write until all are stored.
  CPU per line of this process (writer and flusher threads) and of the Postgres backend, and wall time.
- `run_log.page_p95`: a page of 1,000 lines at a random place in that 100,000-line log, as
  GET /runs/{id}/logs reads it (app.domain.runlogs.read_lines on a fresh autocommit connection,
  then the JSON encoding of the page); p50 and p95 over `--pages` reads; target p95 ≤ 50 ms. Also the
  CPU a page costs (this process plus the Postgres backend), which a busy machine inflates less.
- `run_log.per_run_3_lines`: what a run's 3-line log adds to finishing it. Each run is finished as a
  worker finishes it (the finish_run statement, which stores the attempt's unwritten lines too), once
  with 3 lines and once without, alternating batches; the difference per run, in CPU of this process
  plus the Postgres backend (issue 16 counts both), and in wall time.

Postgres backend CPU is read from /proc, so it is reported only when Postgres runs on this machine.

    python -m bench.run_log [--lines 100000] [--pages 200] [--runs 2000]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
import uuid
from pathlib import Path

import msgspec
from sqlalchemy import Engine, create_engine, text

from app.core.states import RunStatus
from app.db import migrate
from app.db.database import Database
from app.db.queries import query
from app.domain.attempts import AfterAttempt
from app.domain.runlog_buffer import RunLogBuffer, RunLogWriter, chunk_params
from app.domain.runlogs import read_lines
from bench._servers import BenchServers, figure, percentile, sqlalchemy_url

TARGET_PAGE_P95_MS = 50.0
NAMESPACE = "00000000-0000-7000-8000-000000000001"
MESSAGE = "batch {i:06d}: read 5,000 rows from orders.csv, 0 rejected, wrote part-{p:03d}.parquet"

ADD_RUNS = text("""
INSERT INTO runs (id, namespace_id, kind, trigger, status, attempt, retry_backoff_seconds,
                  retry_backoff_max_seconds, retry_jitter, timeout_seconds)
SELECT id, CAST(:namespace AS uuid), 'ingest', 'api', 'RUNNING', 1, 10, 600, 0.2, 3600
FROM unnest(CAST(:ids AS uuid[])) AS id
""")


def log(message: str) -> None:
    print(f"# {message}", file=sys.stderr, flush=True)


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3]) if sys.platform == "linux" else "?"


class Backend:
    """CPU seconds used so far by the one Postgres backend of a one-connection engine (None if not local)."""

    def __init__(self, engine: Engine) -> None:
        with engine.connect() as connection:
            self.pid = int(connection.execute(text("SELECT pg_backend_pid()")).scalar_one())
        self.local = Path(f"/proc/{self.pid}/stat").exists()

    def cpu(self) -> float | None:
        if not self.local:
            return None
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def one_connection(url: str) -> Engine:
    return create_engine(sqlalchemy_url(url), pool_size=1, max_overflow=0)


def add_runs(engine: Engine, count: int) -> list[uuid.UUID]:
    ids = [uuid.uuid4() for _ in range(count)]
    with engine.begin() as connection:
        connection.execute(ADD_RUNS, {"ids": ids, "namespace": NAMESPACE})
    return ids


def write_lines(url: str, lines: int) -> uuid.UUID:
    engine = one_connection(url)
    [run_id] = add_runs(engine, 1)
    backend = Backend(engine)
    buffer = RunLogBuffer(engine=engine, redis_client=None, redis_namespace="bench", maxlen=10)
    writer = RunLogWriter(buffer=buffer, run_id=run_id, attempt=1, first_line=1)
    db0, cpu0, wall0 = backend.cpu(), time.process_time(), time.perf_counter()
    for i in range(lines):
        writer.write(MESSAGE.format(i=i, p=i % 97))
    buffer.flush_all()  # what is left when the run ends
    wall, cpu, db1 = time.perf_counter() - wall0, time.process_time() - cpu0, backend.cpu()
    db = None if db0 is None or db1 is None else db1 - db0
    with engine.connect() as connection:
        chunks = connection.execute(text("SELECT count(*) FROM run_log_chunks WHERE run_id = :r"), {"r": run_id})
        rows = chunks.scalar_one()
        size = connection.execute(text("SELECT pg_total_relation_size('run_log_chunks')")).scalar_one()
    total = cpu + (db or 0.0)
    figure(
        "run_log.write_per_line",
        total / lines * 1e6,
        "us_cpu",
        process_us=round(cpu / lines * 1e6, 2),
        postgres_us=None if db is None else round(db / lines * 1e6, 2),
        wall_us=round(wall / lines * 1e6, 2),
        lines=lines,
        chunk_rows=rows,
        table_bytes_per_line=round(size / lines, 1),
        load=load_average(),
    )
    engine.dispose()
    return run_id


def read_pages(url: str, run_id: uuid.UUID, lines: int, pages: int) -> None:
    database = Database(one_connection(url))
    backend = Backend(database.engine)
    encoder = msgspec.json.Encoder()
    rng = random.Random(17)
    timings: list[float] = []
    db0, cpu0 = backend.cpu(), time.process_time()
    for _ in range(pages):
        after = rng.randrange(0, max(lines - 1000, 1))
        started = time.perf_counter()
        with database.connection() as connection:
            items = list(read_lines(connection, run_id, after=after, limit=1000))
        encoder.encode({"items": items, "next_after": items[-1].n})
        timings.append((time.perf_counter() - started) * 1000)
        assert [x.n for x in items] == list(range(after + 1, after + 1001)), "a page was not exact"
    cpu, db1 = time.process_time() - cpu0, backend.cpu()
    db = None if db0 is None or db1 is None else db1 - db0
    p95 = percentile(timings, 95)
    figure(
        "run_log.page_p95",
        p95,
        "ms",
        ratio_to_target=round(p95 / TARGET_PAGE_P95_MS, 3),
        target_ms=TARGET_PAGE_P95_MS,
        p50_ms=round(percentile(timings, 50), 2),
        cpu_ms_per_page=round((cpu + (db or 0.0)) / pages * 1000, 2),
        postgres_ms_per_page=None if db is None else round(db / pages * 1000, 2),
        page_lines=1000,
        log_lines=lines,
        load=load_average(),
    )
    database.engine.dispose()


def finish_runs(engine: Engine, backend: Backend, runs: list[uuid.UUID], *, with_lines: bool) -> tuple[float, float]:
    """(CPU seconds of this process + the backend, wall seconds) to finish `runs` as a worker does."""
    buffer = RunLogBuffer(engine=engine, redis_client=None, redis_namespace="bench", maxlen=10, delay=3600)
    decision = AfterAttempt(retry=False, status=RunStatus.SUCCEEDED)
    common = {
        "attempt": 1,
        "progress": "{}",
        "log_lines": 3,
        "actor": "worker:bench:1",
        **decision.params(
            queue="default", reason="succeeded", error_code=None, error_message=None, details={"elapsed_ms": 1.0}
        ),
    }
    statement = query("finish_run")
    db0, cpu0, wall0 = backend.cpu(), time.process_time(), time.perf_counter()
    for run_id in runs:
        params = {**common, "run_id": run_id}
        if with_lines:
            writer = RunLogWriter(buffer=buffer, run_id=run_id, attempt=1, first_line=1)
            writer.write("attempt 1 started on worker:bench:1")
            writer.write("step 1/1 step_1 (log) done in 0 ms")
            writer.write("SUCCEEDED in 1 ms")
            params.update(chunk_params(buffer.take(run_id)))
        with engine.begin() as connection:
            connection.execute(statement, params).first()
    wall, cpu, db1 = time.perf_counter() - wall0, time.process_time() - cpu0, backend.cpu()
    return cpu + (0.0 if db0 is None or db1 is None else db1 - db0), wall


def per_run(url: str, runs: int, rounds: int = 5) -> None:
    engine = one_connection(url)
    backend = Backend(engine)
    finish_runs(engine, backend, add_runs(engine, 200), with_lines=True)  # warm up (prepared statements)
    totals = {False: [0.0, 0.0], True: [0.0, 0.0]}
    for _ in range(rounds):  # alternating, so both see the same load
        for with_lines in (False, True):
            cpu, wall = finish_runs(engine, backend, add_runs(engine, runs // rounds), with_lines=with_lines)
            totals[with_lines][0] += cpu
            totals[with_lines][1] += wall
    done = runs // rounds * rounds
    without, with_log = totals[False], totals[True]
    figure(
        "run_log.per_run_3_lines",
        (with_log[0] - without[0]) / done * 1e6,
        "us_cpu",
        finish_without_log_us_cpu=round(without[0] / done * 1e6, 1),
        finish_with_log_us_cpu=round(with_log[0] / done * 1e6, 1),
        added_wall_us=round((with_log[1] - without[1]) / done * 1e6, 1),
        postgres_measured=backend.local,
        runs=done,
        load=load_average(),
    )
    engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run_log", description=__doc__.split("\n")[0])
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--pages", type=int, default=200)
    parser.add_argument("--runs", type=int, default=2000)
    args = parser.parse_args(argv)
    with BenchServers() as servers:
        url = servers.create_database("conveyor_bench_runlog")
        migrate.upgrade(sqlalchemy_url(url))
        log(f"writing {args.lines} lines (load average {load_average()})")
        run_id = write_lines(url, args.lines)
        log(f"reading {args.pages} pages")
        read_pages(url, run_id, args.lines, args.pages)
        log(f"finishing 2 x {args.runs} runs")
        per_run(url, args.runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
