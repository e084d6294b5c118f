"""A 10,000-line live log in the console: all lines received and rendered (target ≤ 2 s), long tasks ≤ 200 ms.

Starts the whole system (`python -m app up`), runs a pipeline that logs a line and then sleeps, and
opens its run page in Chromium (signed in through the sign-in form). When the page follows the
live log, the benchmark appends 10,000 lines to the run's log exactly as a worker does
(app.domain.runlog_buffer: Postgres in batches, then the Redis stream), as fast as it can.
Measured in the page: from the first line written until the log counts every line and
the last one is in the DOM (the view follows the end), and every main-thread long task meanwhile
(PerformanceObserver 'longtask'). The run is cancelled afterwards.

    python -m bench.console_log [--lines 10000]
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid

import redis
from sqlalchemy import create_engine

from app.domain.runlog_buffer import RunLogBuffer, RunLogWriter
from app.domain.runlogs import last_line
from bench._console import Probe, load_average, require_console
from bench._conveyor import Conveyor
from bench._processes import log
from bench._servers import BenchServers, figure, sqlalchemy_url

TARGET_S = 2.0
TARGET_LONGTASK_MS = 200.0


def wait_running(conveyor: Conveyor, run_id: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = conveyor.db.execute("SELECT status FROM runs WHERE id = %s", (run_id,)).fetchone()[0]  # type: ignore[index]
        if status == "RUNNING":
            return
        conveyor.check_alive()
        time.sleep(0.1)
    raise RuntimeError(f"run {run_id} did not start in {timeout:.0f} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.console_log", description=__doc__.split("\n")[0])
    parser.add_argument("--lines", type=int, default=10_000)
    args = parser.parse_args(argv)
    require_console()
    with BenchServers() as servers:
        conveyor = Conveyor(servers, workers=1, threads=2)
        try:
            conveyor.start(timeout=180)
            conveyor.authenticate()
            measure(conveyor, args.lines)
        finally:
            conveyor.stop()
    return 0


def measure(conveyor: Conveyor, lines: int) -> None:
    steps = [{"type": "log", "message": "bench: about to log a lot"}, {"type": "sleep", "seconds": 600}]
    response = conveyor.http.post("/api/v1/pipelines", json={"name": "bench-log", "spec": {"steps": steps}})
    response.raise_for_status()
    response = conveyor.http.post("/api/v1/runs", json={"pipeline": "bench-log"})
    response.raise_for_status()
    run_id = str(response.json()["id"])
    wait_running(conveyor, run_id)
    time.sleep(1.0)  # the worker's own first lines are written
    engine = create_engine(sqlalchemy_url(conveyor.database_url))
    with engine.connect() as connection:
        first = last_line(connection, uuid.UUID(run_id)) + 1
    last = first + lines - 1
    probe = Probe(
        {
            "mode": "log",
            "url": str(conveyor.http.base_url).rstrip("/"),
            "user": "admin",
            "password": conveyor.admin_password,
            "runId": run_id,
            "expectLines": last,
            "lastLine": last,
        }
    )
    client = redis.Redis.from_url(conveyor.redis_url)
    try:
        probe.read()  # the run page is open and following
        time.sleep(1.0)  # its stream has caught up with the lines already there
        buffer = RunLogBuffer(engine=engine, redis_client=client, redis_namespace=conveyor.namespace, maxlen=10_000)
        writer = RunLogWriter(buffer=buffer, run_id=uuid.UUID(run_id), attempt=1, first_line=first)
        probe.go()
        started = time.time()
        for i in range(lines):
            writer.write(f"batch {i:05d}: read 5,000 rows from orders.csv, 0 rejected, wrote part-{i % 97:03d}.parquet")
        buffer.flush_all()
        written = time.time() - started
        answer = probe.read()
    finally:
        probe.close()
        client.close()
        engine.dispose()
    conveyor.http.post(f"/api/v1/runs/{run_id}/cancel")
    elapsed = answer["done_epoch_ms"] / 1000 - started
    longtasks = answer["longtasks"]
    longest = max(longtasks, default=0.0)
    figure(
        "console.log_10k_rendered",
        elapsed,
        "s",
        ratio_to_target=round(elapsed / TARGET_S, 3),
        target_s=TARGET_S,
        lines=answer["count"],
        dom_lines=answer["dom_lines"],
        writing_s=round(written, 2),
        load=load_average(),
    )
    figure(
        "console.log_10k_longest_task",
        longest,
        "ms",
        ratio_to_target=round(longest / TARGET_LONGTASK_MS, 3),
        target_ms=TARGET_LONGTASK_MS,
        long_tasks=len(longtasks),
        long_task_total_ms=round(sum(longtasks), 1),
    )
    log(f"console_log: long tasks (ms) {sorted((round(t) for t in longtasks), reverse=True)[:10]}")


if __name__ == "__main__":
    sys.exit(main())
