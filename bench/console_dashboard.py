"""The console's dashboard over 1,000,000 runs: from navigation to the trend chart drawn (target ≤ 1.5 s).

Migrates its own database, seeds 1,000,000 runs over 30 days with one INSERT ... SELECT and
counts them into the hourly rollup as `conveyor rollup rebuild` does (the same seed as
bench.metrics_views), then starts the whole system (`python -m app up`) on it. Then Chromium signs in and loads the
dashboard `--repeats` times as a full page load (scripts, the silent sign-in from the refresh
cookie, the metrics calls, ECharts): the time is the page's performance.now() when the trend chart
says it finished drawing, and its canvas is checked for painted pixels.

    python -m bench.console_dashboard [--rows 1000000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import UTC, datetime

from sqlalchemy import text

from app.db import migrate
from app.db.engine import get_engine
from app.settings import Settings
from bench._console import Probe, load_average, require_console
from bench._conveyor import Conveyor
from bench._ingest_data import env_int
from bench._processes import log
from bench._servers import BenchServers, figure, sqlalchemy_url
from bench.metrics_views import PIPELINES, SEED
from scheduler.rollup import RollupFolder

TARGET_S = 1.5


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.console_dashboard", description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=env_int("CONVEYOR_BENCH_METRIC_ROWS", 1_000_000))
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    require_console()
    with BenchServers() as servers:
        conveyor = Conveyor(servers, workers=1, threads=1)
        try:
            # Seeded and counted before the system starts, so the rebuild does not race the scheduler's fold.
            migrate.upgrade(sqlalchemy_url(conveyor.database_url))
            seed(conveyor, args.rows)
            conveyor.start(timeout=180)
            measure(conveyor, args.repeats, args.rows)
        finally:
            conveyor.stop()
    return 0


def seed(conveyor: Conveyor, rows: int) -> None:
    engine = get_engine(Settings(database_url=conveyor.database_url, data_root=str(conveyor.data_root)), pre_ping=False)
    started = time.perf_counter()
    with engine.begin() as connection:
        connection.execute(text("SET LOCAL session_replication_role = replica"))  # counted by the rebuild below
        connection.execute(PIPELINES)
        connection.execute(SEED, {"rows": rows, "end": datetime.now(UTC), "seconds": 30 * 86_400})
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE runs"))
    counted = RollupFolder(engine=engine).rebuild()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("ANALYZE"))
    log(f"console_dashboard: {rows} runs seeded and {counted} rolled up in {time.perf_counter() - started:.1f} s")
    engine.dispose()


def measure(conveyor: Conveyor, repeats: int, rows: int) -> None:
    probe = Probe(
        {
            "mode": "dashboard",
            "url": str(conveyor.http.base_url).rstrip("/"),
            "user": "admin",
            "password": conveyor.admin_password,
            "repeats": repeats,
        }
    )
    try:
        answer = probe.read()
    finally:
        probe.close()
    times = [entry["at"] / 1000 for entry in answer["times"]]
    painted = min(entry["painted"] for entry in answer["times"])
    if painted == 0:
        raise RuntimeError("the trend chart said it was drawn but its canvas is blank")
    median = statistics.median(times)
    figure(
        "console.dashboard_trend_drawn",
        median,
        "s",
        ratio_to_target=round(median / TARGET_S, 3),
        target_s=TARGET_S,
        worst_s=round(max(times), 2),
        first_s=round(times[0], 2),
        repeats=len(times),
        runs=rows,
        painted_pixels=painted,
        load=load_average(),
    )
    for name in ("signed_in", "metrics_done", "echarts_done"):
        at = statistics.median(entry[name] / 1000 for entry in answer["times"])
        log(f"console_dashboard: median {name} at {at:.2f} s after navigation start")


if __name__ == "__main__":
    sys.exit(main())
