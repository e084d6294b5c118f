"""GET /runs at 1,000,000 runs: the list query the API uses, timed per filter, with its plan.

A fresh database migrated to head gets 1,000,000 runs in one INSERT ... SELECT
FROM generate_series (30 days, mixed statuses, kinds, triggers, pipelines and
two namespaces), then ANALYZE. Each case calls app.domain.runs.list_runs (what
GET /api/v1/runs runs, in a fresh session per call, limit 50) `--calls` times
and prints p50 and p95, the ratio of p95 to the 50 ms target (≤ 1 is good),
and the EXPLAIN ANALYZE of the runs statement: its node types, the rows
its filters threw away, and whether a Seq Scan or a Sort appears.

    python -m bench.runs_list [--rows 1000000] [--calls 50]
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, create_engine, select, text, tuple_
from sqlalchemy.orm import Session, sessionmaker

from app.core.states import RunKind, RunStatus, RunTrigger
from app.db import migrate
from app.db.models import Run
from app.domain.pagination import decode_cursor, encode_cursor
from app.domain.permissions import Principal, Role
from app.domain.runs import RunFilters, list_runs
from bench._plans import StatementCapture
from bench._servers import BenchServers, figure, percentile, sqlalchemy_url

TARGET_P95_MS = 50.0
DEFAULT_NAMESPACE_ID = "00000000-0000-7000-8000-000000000001"
PIPELINES = 20
DAYS = 30
#: GET /runs as an instance admin calls it: every namespace.
ADMIN = Principal(user_id=uuid.UUID(int=0), username="bench", is_superuser=True)


def listed(principal: Principal = ADMIN) -> Callable[..., list[Run]]:
    """app.domain.runs.list_runs as `principal` calls it: (session, filters, limit=, cursor=)."""
    return lambda session, filters, **page: list_runs(session, principal, filters, **page)


def member_of(namespace_id: uuid.UUID) -> Principal:
    """A viewer of one namespace: GET /runs adds the namespaces such a caller may read."""
    return Principal(user_id=uuid.UUID(int=1), username="viewer", roles={namespace_id: Role.VIEWER})


def log(message: str) -> None:
    print(f"# {message}", file=sys.stderr, flush=True)


SEED_RUNS = text("""
INSERT INTO runs (id, namespace_id, kind, trigger, status, pipeline_id, pipeline_version, params, priority,
                  attempt, max_retries, retry_backoff_seconds, retry_backoff_max_seconds, retry_jitter,
                  timeout_seconds, created_at, queued_at, dispatched_at, started_at, finished_at, heartbeat_at,
                  worker_id, error_code, progress, log_lines)
SELECT
    -- a UUIDv7 from created_at, as the API makes them (time-ordered)
    (lpad(to_hex((extract(epoch FROM ts) * 1000)::bigint), 12, '0') || '7' || substr(h, 1, 3) || '8'
     || substr(h, 4, 15))::uuid,
    CASE WHEN small THEN CAST(:small_ns AS uuid) ELSE CAST(:default_ns AS uuid) END,
    kind, trig, status,
    CASE WHEN kind = 'ingest' THEN NULL WHEN small THEN CAST(:small_pipeline AS uuid)
         ELSE (CAST(:pipelines AS uuid[]))[1 + floor(:n_pipelines * r_pipe * r_pipe)::int] END,
    CASE WHEN kind = 'ingest' THEN NULL ELSE 1 END,
    '{}'::jsonb, 0,
    CASE WHEN status IN ('PENDING', 'QUEUED', 'SKIPPED') THEN 0 ELSE 1 END,
    0, 10, 600, 0.2, 3600,
    ts,
    CASE WHEN status NOT IN ('PENDING', 'SKIPPED') THEN ts + interval '5 ms' END,
    CASE WHEN status NOT IN ('PENDING', 'SKIPPED') THEN ts + interval '5 ms' END,
    CASE WHEN status NOT IN ('PENDING', 'QUEUED', 'SKIPPED') THEN ts + interval '12 ms' END,
    CASE WHEN status IN ('SUCCEEDED', 'FAILED', 'CANCELLED', 'TIMED_OUT', 'SKIPPED')
         THEN ts + make_interval(secs => 1 + 60 * r_pipe) END,
    CASE WHEN status = 'RUNNING' THEN now() END,
    CASE WHEN status NOT IN ('PENDING', 'QUEUED', 'SKIPPED') THEN 'worker:bench:' || (g % 4) END,
    CASE status WHEN 'FAILED' THEN 'step_failed' WHEN 'TIMED_OUT' THEN 'timeout'
                WHEN 'CANCELLED' THEN 'cancelled' END,
    '{}'::jsonb, 3
FROM (
    SELECT g, ts, h, small, r_pipe,
           CASE WHEN r_kind < 0.1 THEN 'ingest' ELSE 'pipeline' END AS kind,
           CASE WHEN r_trig < 0.40 THEN 'api' WHEN r_trig < 0.70 THEN 'batch' WHEN r_trig < 0.90 THEN 'schedule'
                WHEN r_trig < 0.95 THEN 'manual' ELSE 'backfill' END AS trig,
           CASE WHEN g > :rows - 2000 THEN (ARRAY['PENDING', 'QUEUED', 'RUNNING', 'RUNNING'])[1 + g % 4]
                WHEN r_stat < 0.80 THEN 'SUCCEEDED' WHEN r_stat < 0.88 THEN 'FAILED'
                WHEN r_stat < 0.92 THEN 'CANCELLED' WHEN r_stat < 0.93 THEN 'TIMED_OUT'
                WHEN r_stat < 0.94 THEN 'SKIPPED' WHEN r_stat < 0.945 THEN 'RETRYING'
                ELSE 'SUCCEEDED' END AS status
    FROM (
        SELECT g,
               CAST(:start AS timestamptz) + (g - 1 + random()) * make_interval(secs => :step) AS ts,
               md5(g::text) AS h, g % 1000 = 7 AS small,
               random() AS r_pipe, random() AS r_kind, random() AS r_trig, random() AS r_stat
        FROM generate_series(1, :rows) AS g
    ) raw
) s
""")


@dataclass
class Seeded:
    pipelines: list[str]  # names, most used first
    start: datetime
    end: datetime
    small_namespace: uuid.UUID  # 0.1 % of the runs, spread over the 30 days


def seed(engine: Engine, rows: int) -> Seeded:
    small_ns, small_pipeline = str(uuid.uuid4()), str(uuid.uuid4())
    pipeline_ids = [str(uuid.uuid4()) for _ in range(PIPELINES)]
    names = [f"pipeline-{i:02d}" for i in range(PIPELINES)]
    end = datetime.now(UTC).replace(microsecond=0)
    start = end - timedelta(days=DAYS)
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO namespaces (id, name) VALUES (:id, 'small')"), {"id": small_ns})
        for pid, name, ns in [
            *zip(pipeline_ids, names, [DEFAULT_NAMESPACE_ID] * PIPELINES, strict=True),
            (small_pipeline, "small-pipeline", small_ns),
        ]:
            connection.execute(
                text("INSERT INTO pipelines (id, namespace_id, name) VALUES (:id, :ns, :name)"),
                {"id": pid, "ns": ns, "name": name},
            )
            connection.execute(
                text("INSERT INTO pipeline_versions (pipeline_id, version, spec) VALUES (:id, 1, '{\"steps\": []}')"),
                {"id": pid},
            )
        connection.execute(text("SELECT setseed(0.42)"))
        connection.execute(
            SEED_RUNS,
            {
                "rows": rows,
                "small_ns": small_ns,
                "default_ns": DEFAULT_NAMESPACE_ID,
                "small_pipeline": small_pipeline,
                "pipelines": pipeline_ids,
                "n_pipelines": PIPELINES,
                "start": start,
                "step": (end - start).total_seconds() / rows,
            },
        )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE runs"))
        connection.execute(text("ANALYZE"))
    return Seeded(pipelines=names, start=start, end=end, small_namespace=uuid.UUID(small_ns))


def explain(capture: StatementCapture) -> dict[str, Any]:
    plan = capture.explained()
    nodes: list[str] = []
    removed = 0
    bad: list[str] = []

    def walk(node: dict[str, Any]) -> None:
        nonlocal removed
        kind = node["Node Type"]
        if node.get("Scan Direction") == "Backward":
            kind += " Backward"
        label = kind + (f"({node['Index Name']})" if node.get("Index Name") else "")
        nodes.append(label)
        removed += int(node.get("Rows Removed by Filter", 0)) + int(node.get("Rows Removed by Index Recheck", 0))
        if node["Node Type"] in ("Seq Scan", "Sort", "Incremental Sort"):
            bad.append(node["Node Type"])
        for child in node.get("Plans", []):
            walk(child)

    walk(plan["Plan"])
    return {
        "nodes": " > ".join(nodes),
        "removed": removed,
        "db_ms": float(plan["Execution Time"]),
        "buffers": int(plan["Plan"].get("Shared Hit Blocks", 0)) + int(plan["Plan"].get("Shared Read Blocks", 0)),
        "ok": not bad,
    }


def row_compare_page(session: Session, filters: RunFilters, *, limit: int, cursor: str | None) -> list[Run]:
    """The reference for deep pages: the same page with a row comparison, `(created_at, id) < (:at, :id)`,
    which Postgres turns into an index bound; only the filters the reference cases use."""
    query_ = select(Run).order_by(Run.created_at.desc(), Run.id.desc()).limit(limit + 1)
    if filters.status:
        query_ = query_.where(Run.status.in_([s.value for s in filters.status]))
    if cursor:
        position = decode_cursor(cursor)
        query_ = query_.where(tuple_(Run.created_at, Run.id) < tuple_(position.at, position.id))
    return list(session.scalars(query_))


def time_case(
    sessions: Callable[[], Session],
    filters: RunFilters,
    cursor: str | None,
    *,
    calls: int,
    limit: int,
    page: Callable[..., list[Run]] = listed(),
) -> list[float]:
    timings: list[float] = []
    deadline = time.monotonic() + 30  # a pathological case stops early rather than stall the run
    for _ in range(calls):
        started = time.perf_counter()
        with sessions() as session:
            rows = page(session, filters, limit=limit, cursor=cursor)
        timings.append((time.perf_counter() - started) * 1000)
        if not rows:
            raise RuntimeError(f"case returned no rows: {filters} cursor={cursor}")
        if time.monotonic() > deadline and len(timings) >= 5:
            break
    return timings


def _page(
    sessions: Callable[[], Session], page: Callable[..., list[Run]], filters: RunFilters, cursor: str | None, limit: int
) -> list[Run]:
    with sessions() as session:
        return page(session, filters, limit=limit, cursor=cursor)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.runs_list", description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--calls", type=int, default=50)
    parser.add_argument("--limit", type=int, default=50)
    args = parser.parse_args(argv)

    with BenchServers() as servers:
        log(f"runs_list: {servers.where}")
        url = sqlalchemy_url(servers.create_database("conveyor_bench_list"))
        migrate.upgrade(url)
        engine = create_engine(url, pool_size=2)
        try:
            started = time.perf_counter()
            seeded = seed(engine, args.rows)
            seed_s = time.perf_counter() - started
            figure(
                "runs_list.seed",
                args.rows / seed_s,
                "rows/s",
                rows=args.rows,
                seconds=seed_s,
                note="insert_select_generate_series+vacuum_analyze",
            )
            run(engine, seeded, calls=args.calls, limit=args.limit)
        finally:
            engine.dispose()
    return 0


def run(engine: Engine, seeded: Seeded, *, calls: int, limit: int) -> None:
    sessions = sessionmaker(engine, expire_on_commit=False)
    with engine.connect() as connection:
        total = connection.execute(text("SELECT count(*) FROM runs")).scalar_one()
        deep = connection.execute(
            text("SELECT created_at, id FROM runs ORDER BY created_at DESC, id DESC OFFSET :n LIMIT 1"),
            {"n": total // 2},
        ).one()
        deep_failed = connection.execute(
            text(
                "SELECT created_at, id FROM runs WHERE status = 'FAILED' ORDER BY created_at DESC, id DESC "
                "OFFSET :n LIMIT 1"
            ),
            {"n": connection.execute(text("SELECT count(*) FROM runs WHERE status = 'FAILED'")).scalar_one() // 2},
        ).one()
    mid_pipeline = seeded.pipelines[PIPELINES // 2]  # about 2 % of the runs
    day = seeded.end - timedelta(days=10)
    cases: list[tuple[str, RunFilters, str | None, bool]] = [
        # name, filters, cursor, one of the five the issue names
        ("no_filter", RunFilters(), None, True),
        ("status", RunFilters(status=[RunStatus.FAILED]), None, True),
        ("pipeline", RunFilters(pipeline=mid_pipeline), None, True),
        ("created_range", RunFilters(created_after=day, created_before=day + timedelta(days=1)), None, True),
        ("deep_cursor", RunFilters(), encode_cursor(deep.created_at, deep.id), True),
        ("status_multi", RunFilters(status=[RunStatus.FAILED, RunStatus.TIMED_OUT]), None, False),
        (
            "status_deep_cursor",
            RunFilters(status=[RunStatus.FAILED]),
            encode_cursor(deep_failed.created_at, deep_failed.id),
            False,
        ),
        ("kind_trigger", RunFilters(kind=RunKind.INGEST, trigger=RunTrigger.SCHEDULE), None, False),
        ("namespace_small", RunFilters(namespace="small"), None, False),
    ]
    # What GET /runs adds for a caller who is not an instance admin: the namespaces they may read.
    callers = {
        "member_of_default": member_of(uuid.UUID(DEFAULT_NAMESPACE_ID)),
        "member_of_small": member_of(seeded.small_namespace),
    }
    cases += [(name, RunFilters(), None, False) for name in callers]
    capture = StatementCapture(engine, lambda statement: "FROM runs" in statement)
    worst = 0.0
    p95s: dict[str, float] = {}
    for name, filters, cursor, required in cases:
        page = listed(callers.get(name, ADMIN))
        time_case(sessions, filters, cursor, calls=3, limit=limit, page=page)  # warm the cache and the plan
        timings = time_case(sessions, filters, cursor, calls=calls, limit=limit, page=page)
        plan = explain(capture)
        p50, p95 = percentile(timings, 50), percentile(timings, 95)
        p95s[name] = p95
        if required:
            worst = max(worst, p95)
        prefix = f"runs_list.{name}" if required else f"runs_list.extra.{name}"
        figure(f"{prefix}.p50", p50, "ms", ratio_to_target=p50 / TARGET_P95_MS, calls=len(timings))
        figure(
            f"{prefix}.p95",
            p95,
            "ms",
            ratio_to_target=p95 / TARGET_P95_MS,
            plan_ok="yes" if plan["ok"] else "NO",
            db_ms=plan["db_ms"],
            rows_removed=plan["removed"],
            index_bounded="yes" if plan["removed"] <= 100 * limit else "NO",
            buffers=plan["buffers"],
            plan=f'"{plan["nodes"]}"',
        )
    # Reference for the deep pages: the same rows fetched with a row-comparison keyset.
    for name, filters, cursor, _ in cases:
        if name not in ("deep_cursor", "status_deep_cursor"):
            continue
        time_case(sessions, filters, cursor, calls=3, limit=limit, page=row_compare_page)
        expected = [r.id for r in _page(sessions, listed(), filters, cursor, limit)]
        if [r.id for r in _page(sessions, row_compare_page, filters, cursor, limit)] != expected:
            raise RuntimeError(f"the row-comparison reference returned other rows than list_runs for {name}")
        timings = time_case(sessions, filters, cursor, calls=calls, limit=limit, page=row_compare_page)
        plan = explain(capture)
        p95 = percentile(timings, 95)
        figure(
            f"runs_list.reference.{name}_row_compare.p95",
            p95,
            "ms",
            ratio_of_list_runs_to_reference=p95s[name] / p95,
            ratio_to_target=p95 / TARGET_P95_MS,
            db_ms=plan["db_ms"],
            rows_removed=plan["removed"],
            plan=f'"{plan["nodes"]}"',
        )
    figure(
        "runs_list.worst_p95",
        worst,
        "ms",
        ratio_to_target=worst / TARGET_P95_MS,
        rows=total,
        note="max_over_the_five_required_cases",
    )


if __name__ == "__main__":
    raise SystemExit(main())
