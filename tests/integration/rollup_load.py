"""A mixed load of runs for the rollup tests (every status, three pipelines, two users, runs still going), and the
figures they compare: measured through the rollup path and computed straight from run_facts."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from app.domain import metric_catalog, metrics
from scheduler.rollup import RollupFolder
from tests.integration.engine_parts import ROOT

T0 = datetime(2032, 5, 1, 10, 0, tzinfo=UTC)
INDIA = timezone(timedelta(hours=5, minutes=30))
STATUSES = ["SUCCEEDED"] * 6 + ["FAILED", "TIMED_OUT", "CANCELLED", "RUNNING", "PENDING", "QUEUED"]
WINDOWS = {
    "aligned": (T0, T0 + timedelta(hours=5)),
    "unaligned": (T0 + timedelta(minutes=17), T0 + timedelta(hours=4, minutes=43)),
    "sub_hour": (T0 + timedelta(hours=1, minutes=5), T0 + timedelta(hours=1, minutes=50)),
    # An offset of half an hour: whole local hours are not whole UTC hours.
    "india": (
        (T0 + timedelta(minutes=30)).astimezone(INDIA),
        (T0 + timedelta(hours=4)).astimezone(INDIA),
    ),
}
_LOAD = text("""
INSERT INTO runs (id, namespace_id, kind, trigger, status, pipeline_id, params, priority, attempt, max_retries,
                  retry_backoff_seconds, retry_backoff_max_seconds, retry_jitter, timeout_seconds, created_by,
                  created_at, queued_at, started_at, finished_at, error_code, progress)
SELECT gen_random_uuid(), p.namespace_id, CASE WHEN i % 4 = 0 THEN 'ingest' ELSE 'pipeline' END, 'api',
       s.status, p.id, '{}', 0, 1, 0, 10, 600, 0.2, 3600,
       CASE WHEN i % 3 = 0 THEN CAST(:user_a AS uuid) ELSE CAST(:user_b AS uuid) END,
       t.at, t.at + interval '1 s',
       CASE WHEN s.status NOT IN ('PENDING', 'QUEUED') THEN t.at + make_interval(secs => 1 + i % 5) END,
       CASE WHEN s.status NOT IN ('PENDING', 'QUEUED', 'RUNNING')
            THEN t.at + make_interval(secs => 1 + i % 5 + (i * 37) % 900) END,
       CASE WHEN s.status IN ('FAILED', 'TIMED_OUT') THEN 'step_failed' END,
       jsonb_build_object('rows', i * 10, 'bytes', i * 100)
FROM generate_series(1, 240) i
JOIN LATERAL (SELECT (CAST(:statuses AS text[]))[1 + i % 12] AS status) s ON true
JOIN LATERAL (SELECT CAST(:t0 AS timestamptz) + make_interval(mins => (i * 7) % 300) AS at) t ON true
JOIN LATERAL (SELECT id, namespace_id FROM pipelines WHERE name = ANY(CAST(:pipelines AS text[]))
              ORDER BY name OFFSET i % 3 LIMIT 1) p ON true
""")
#: The figures straight from the view: what the rollup path must equal.
_FROM_VIEW = text("""
SELECT count(*) AS runs,
       count(*) FILTER (WHERE status IN ('FAILED', 'TIMED_OUT')) AS runs_failed,
       coalesce(sum(rows_processed), 0) AS rows_processed,
       avg(queue_wait_seconds) AS queue_wait_mean,
       avg((status = 'SUCCEEDED')::int) FILTER (WHERE status IN ('SUCCEEDED', 'FAILED', 'CANCELLED', 'TIMED_OUT'))
           AS success_rate,
       latency_bin_value(latency_bin(percentile_disc(0.95) WITHIN GROUP (ORDER BY duration_seconds)::float8))
           AS duration_p95,
       latency_bin_value(latency_bin(percentile_disc(0.5) WITHIN GROUP (ORDER BY duration_seconds)::float8))
           AS duration_p50
FROM run_facts WHERE created_at >= :start AND created_at < :end
""")
_BY_STATUS = text(
    "SELECT status, count(*) FROM run_facts WHERE created_at >= :start AND created_at < :end GROUP BY status"
)


def loaded_runs(engine: Engine, client: TestClient) -> Iterator[dict[str, Any]]:
    """The mixed load, for a fixture to yield from: its runs are deleted and the rollup rebuilt afterwards."""
    suffix = uuid.uuid4().hex[:8]
    names = [f"rollup-{suffix}-{n}" for n in "abc"]
    for name in names:
        assert client.post("/api/v1/pipelines", json={"name": name, "spec": {"steps": []}}).status_code == 201
    users = [uuid.uuid4(), uuid.uuid4()]
    with engine.begin() as connection:
        connection.execute(
            _LOAD,
            {"user_a": users[0], "user_b": users[1], "statuses": STATUSES, "t0": T0, "pipelines": names},
        )
    yield {"pipelines": names}
    with engine.begin() as connection:
        connection.execute(
            text("DELETE FROM runs WHERE pipeline_id IN (SELECT id FROM pipelines WHERE name LIKE :p)"),
            {"p": f"rollup-{suffix}-%"},
        )
        RollupFolder(engine=engine).rebuild()


def measured(engine: Engine, start: datetime, end: datetime) -> dict[str, Any]:
    with Session(engine) as session:
        names = ("runs", "runs_failed", "rows_processed", "queue_wait_mean", "success_rate")
        chosen = [metric_catalog.BY_NAME[n] for n in names]
        chosen += [metric_catalog.BY_NAME["duration_p95"], metric_catalog.BY_NAME["duration_p50"]]
        figures = metrics.summary(session, ROOT, chosen, start=start, end=end)
        by_status = metrics.breakdown(
            session, ROOT, metric_catalog.BY_NAME["runs"], by="status", top=20, start=start, end=end
        )
    figures["by_status"] = {item["key"]: item["value"] for item in by_status}
    return figures


def from_view(engine: Engine, start: datetime, end: datetime) -> dict[str, Any]:
    with engine.connect() as connection:
        row = dict(connection.execute(_FROM_VIEW, {"start": start, "end": end}).mappings().one())
        row["by_status"] = dict(connection.execute(_BY_STATUS, {"start": start, "end": end}).all())
    return row


def assert_same_as_the_view(engine: Engine) -> None:
    for name, (start, end) in WINDOWS.items():
        got, want = measured(engine, start, end), from_view(engine, start, end)
        assert got["by_status"] == want["by_status"], name
        for figure in ("runs", "runs_failed", "rows_processed"):
            assert got[figure] == want[figure], (name, figure)
        for figure in ("queue_wait_mean", "duration_p95", "duration_p50", "success_rate"):
            assert got[figure] == pytest.approx(float(want[figure]), rel=1e-9), (name, figure)


def queued_changes(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text("SELECT count(*) FROM run_rollup_changes")).scalar_one())
