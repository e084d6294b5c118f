"""Dashboard metrics over 1,000,000 runs (30 days, 50 pipelines, 200 deployments), with the system running.

Starts the whole system (`python -m app up`: api, scheduler, workers) on its
own database, seeds the runs (statuses, durations, queue waits, rows and
bytes that vary) and counts them into the hourly rollup as
`conveyor rollup rebuild` does, then keeps the scheduler and workers busy:
deployments on a 2-second interval make runs that workers finish, so the
triggers, the fold and the relay all work while the metrics are read. It
times the domain calls behind the endpoints (server side), and the same
requests over HTTP: summary over 24 h, timeseries over 7 days by hour (split
by status), breakdown over 7 days by pipeline. Targets from the issue: p95
summary <= 50 ms, timeseries <= 150 ms, breakdown <= 150 ms.

    python -m bench.metrics_views [--rows 1000000] [--calls 30] [--deployments 20]
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.orm import Session

from app.db.engine import get_engine
from app.domain import metric_catalog, metrics
from app.domain.permissions import Principal
from app.settings import Settings
from bench._conveyor import Conveyor
from bench._ingest_data import env_int
from bench._processes import log
from bench._servers import BenchServers, figure, percentile
from scheduler.rollup import RollupFolder

#: The figures as an instance admin sees them: every namespace.
ADMIN = Principal(user_id=uuid.UUID(int=0), username="bench", is_superuser=True)
PIPELINES = text("""
INSERT INTO pipelines (id, namespace_id, name)
SELECT gen_random_uuid(), (SELECT id FROM namespaces WHERE name = 'default'), 'p' || i FROM generate_series(1, 50) i
""")
SEED = text("""
WITH p AS (SELECT array_agg(id) AS ids FROM pipelines),
     d AS (SELECT array_agg(gen_random_uuid()) AS ids FROM generate_series(1, 200))
INSERT INTO runs (id, namespace_id, kind, trigger, status, pipeline_id, deployment_id, params, priority, attempt,
                  max_retries, retry_backoff_seconds, retry_backoff_max_seconds, retry_jitter, timeout_seconds,
                  created_at, queued_at, started_at, finished_at, error_code, progress)
SELECT gen_random_uuid(), (SELECT id FROM namespaces WHERE name = 'default'),
       CASE WHEN i % 10 = 0 THEN 'ingest' ELSE 'pipeline' END,
       CASE WHEN i % 3 = 0 THEN 'schedule' ELSE 'api' END,
       CASE WHEN i % 50 = 0 THEN 'FAILED' WHEN i % 97 = 0 THEN 'TIMED_OUT' WHEN i % 211 = 0 THEN 'CANCELLED'
            ELSE 'SUCCEEDED' END,
       p.ids[1 + (i % 50)], CASE WHEN i % 3 = 0 THEN d.ids[1 + (i % 200)] END,
       '{}', 0, 1, 0, 10, 600, 0.2, 3600,
       ts, ts + interval '20 ms', ts + make_interval(secs => (i % 7) * 0.05),
       ts + make_interval(secs => 1 + (i % 120)),
       CASE WHEN i % 50 = 0 THEN 'step_failed' WHEN i % 97 = 0 THEN 'timeout' END,
       jsonb_build_object('rows', i % 5000, 'bytes', (i % 5000) * 64)
FROM p, d, generate_series(1, :rows) i,
     LATERAL (SELECT CAST(:end AS timestamptz) - make_interval(secs => CAST(:seconds AS float8) * i / :rows) AS ts) t
""")


def timed(calls: int, call: Callable[[], Any]) -> list[float]:
    call()  # warm the cache and the plan once
    out = []
    for _ in range(calls):
        started = time.perf_counter()
        call()
        out.append((time.perf_counter() - started) * 1000)
    return out


def keep_busy(conveyor: Conveyor, deployments: int) -> None:
    """A no-op pipeline on `deployments` deployments every 2 s: runs the scheduler plans and workers finish."""
    conveyor.create_pipeline("bench-noop")
    for i in range(deployments):
        response = conveyor.http.post(
            "/api/v1/deployments",
            json={"name": f"busy-{i}", "pipeline": "bench-noop", "schedule": {"kind": "interval", "seconds": 2}},
        )
        response.raise_for_status()


def finished_since(conveyor: Conveyor, since: datetime) -> int:
    row = conveyor.db.execute(
        "SELECT count(*) FROM runs WHERE trigger = 'schedule' AND finished_at >= %s", (since,)
    ).fetchone()
    return int(row[0])  # type: ignore[index]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.metrics_views", description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=env_int("CONVEYOR_BENCH_METRIC_ROWS", 1_000_000))
    parser.add_argument("--calls", type=int, default=30)
    parser.add_argument("--deployments", type=int, default=20)
    args = parser.parse_args(argv)
    with BenchServers() as servers:
        conveyor = Conveyor(servers, workers=2, threads=2)
        try:
            conveyor.start()
            conveyor.authenticate()
            measure(conveyor, args)
        finally:
            conveyor.stop()
    return 0


def measure(conveyor: Conveyor, args: argparse.Namespace) -> None:
    settings = Settings(database_url=conveyor.database_url, data_root=str(conveyor.data_root))
    engine = get_engine(settings, pre_ping=False)
    end = datetime.now(UTC)
    started = time.perf_counter()
    with engine.begin() as connection:
        # Seeded history is counted by a rebuild below, as after a restore, not run by run by the triggers.
        connection.execute(text("SET LOCAL session_replication_role = replica"))
        connection.execute(PIPELINES)
        connection.execute(SEED, {"rows": args.rows, "end": end, "seconds": 30 * 86_400})
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE runs"))
    log(f"metrics_views: {args.rows} runs seeded in {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    counted = RollupFolder(engine=engine).rebuild()
    figure("metrics.rollup_rebuild", time.perf_counter() - started, "s", runs=counted)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("ANALYZE"))
    keep_busy(conveyor, args.deployments)
    time.sleep(5)  # the deployments' first runs are planned, sent and finished
    busy_from = conveyor.db_now()
    end = datetime.now(UTC)
    day, week = end - timedelta(hours=24), end - timedelta(days=7)
    enabled = metric_catalog.enabled("")
    requests = {
        "summary_24h": ("/api/v1/metrics/summary", {"from": day.isoformat(), "to": end.isoformat()}),
        "timeseries_7d_hourly": (
            "/api/v1/metrics/timeseries",
            {"from": week.isoformat(), "to": end.isoformat(), "bucket": "1h", "by": "status"},
        ),
        "breakdown_7d": (
            "/api/v1/metrics/breakdown",
            {"from": week.isoformat(), "to": end.isoformat(), "by": "pipeline", "top": 10},
        ),
    }
    with Session(engine) as session:
        cases = {
            "summary_24h": (50.0, lambda: metrics.dashboard(session, ADMIN, enabled, start=day, end=end)),
            "timeseries_7d_hourly": (
                150.0,
                lambda: metrics.timeseries(
                    session, ADMIN, metric_catalog.BY_NAME["runs"], bucket="1h", by="status", start=week, end=end
                ),
            ),
            "breakdown_7d": (
                150.0,
                lambda: metrics.breakdown(
                    session, ADMIN, metric_catalog.BY_NAME["runs"], by="pipeline", top=10, start=week, end=end
                ),
            ),
        }
        for name, (target, call) in cases.items():
            latencies = timed(args.calls, call)
            p95 = percentile(latencies, 95)
            path, params = requests[name]
            over_http = timed(args.calls, lambda p=path, q=params: _get(conveyor.http, p, q))
            figure(
                f"metrics.{name}.p95",
                p95,
                "ms",
                ratio_to_target=round(p95 / target, 3),
                target_ms=target,
                p50_ms=round(percentile(latencies, 50), 1),
                http_p95_ms=round(percentile(over_http, 95), 1),
                calls=args.calls,
            )
    finished = finished_since(conveyor, busy_from)
    conveyor.check_alive()
    figure("metrics.load_while_measuring", finished, "runs", note="scheduled runs finished by the workers meanwhile")
    if finished == 0:
        raise RuntimeError("the scheduler and workers finished no run while the metrics were read")
    engine.dispose()


def _get(http: httpx.Client, path: str, params: dict[str, Any]) -> None:
    response = http.get(path, params=params)
    if response.status_code != 200:
        raise RuntimeError(f"{path} answered {response.status_code}: {response.text[:300]}")


if __name__ == "__main__":
    sys.exit(main())
