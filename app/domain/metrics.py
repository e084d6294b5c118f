"""Dashboard metrics: each is a view in sql/views/ plus one catalog entry here; the endpoints need no code per metric.

An entry names its view, the view's time column, the SQL aggregate over the
view's columns (static text from this catalog, never from a request) and the
columns it may be broken down by. Requests choose metrics, a time window, a
bucket and a dimension from these lists only; namespaces and times are bound.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import msgspec
from sqlalchemy import text
from sqlalchemy.orm import Session

from app.domain.errors import InvalidParameter


class Metric(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    view: str
    time_column: str
    value: str
    unit: str
    description: str
    #: Columns of the view it can be broken down by (and grouped by in a time series).
    dimensions: tuple[str, ...] = ()
    #: Whether values add up across groups (so a breakdown can show an "other" row).
    additive: bool = True


_RUN_DIMENSIONS = ("status", "kind", "trigger", "pipeline_id", "deployment_id", "error_code")
_FINAL = "status IN ('SUCCEEDED', 'FAILED', 'CANCELLED', 'TIMED_OUT')"

CATALOG: tuple[Metric, ...] = (
    Metric(
        name="runs",
        view="run_facts",
        time_column="created_at",
        value="count(*)",
        unit="runs",
        description="Runs created",
        dimensions=_RUN_DIMENSIONS,
    ),
    Metric(
        name="runs_failed",
        view="run_facts",
        time_column="created_at",
        value="count(*) FILTER (WHERE status IN ('FAILED', 'TIMED_OUT'))",
        unit="runs",
        description="Runs that failed or timed out",
        dimensions=_RUN_DIMENSIONS,
    ),
    Metric(
        name="success_rate",
        view="run_facts",
        time_column="created_at",
        value=f"avg((status = 'SUCCEEDED')::int) FILTER (WHERE {_FINAL})",
        unit="ratio",
        description="Share of finished runs that succeeded",
        dimensions=("kind", "trigger", "pipeline_id", "deployment_id"),
        additive=False,
    ),
    Metric(
        name="duration_p50",
        view="run_facts",
        time_column="created_at",
        value="percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_seconds)",
        unit="s",
        description="Median run duration (start to finish)",
        dimensions=("kind", "pipeline_id", "deployment_id"),
        additive=False,
    ),
    Metric(
        name="duration_p95",
        view="run_facts",
        time_column="created_at",
        value="percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_seconds)",
        unit="s",
        description="95th percentile of run duration",
        dimensions=("kind", "pipeline_id", "deployment_id"),
        additive=False,
    ),
    Metric(
        name="queue_wait_mean",
        view="run_facts",
        time_column="created_at",
        value="avg(queue_wait_seconds)",
        unit="s",
        description="Mean time from queued to started",
        dimensions=("kind", "pipeline_id"),
        additive=False,
    ),
    Metric(
        name="queue_wait_p95",
        view="run_facts",
        time_column="created_at",
        value="percentile_cont(0.95) WITHIN GROUP (ORDER BY queue_wait_seconds)",
        unit="s",
        description="95th percentile of the time from queued to started",
        dimensions=("kind", "pipeline_id"),
        additive=False,
    ),
    Metric(
        name="rows_processed",
        view="run_facts",
        time_column="created_at",
        value="coalesce(sum(rows_processed), 0)",
        unit="rows",
        description="Rows imported or written by runs",
        dimensions=("kind", "pipeline_id"),
    ),
    Metric(
        name="bytes_processed",
        view="run_facts",
        time_column="created_at",
        value="coalesce(sum(bytes_processed), 0)",
        unit="bytes",
        description="Bytes imported or written by runs",
        dimensions=("kind", "pipeline_id"),
    ),
    Metric(
        name="occurrences_missed",
        view="occurrence_facts",
        time_column="scheduled_for",
        value="count(*) FILTER (WHERE missed)",
        unit="fire times",
        description="Fire times that made no run (misfire, coalesced, overlap, paused, DST)",
        dimensions=("outcome", "deployment_id"),
    ),
    Metric(
        name="datasets_imported",
        view="dataset_facts",
        time_column="created_at",
        value="count(*) FILTER (WHERE source = 'uploaded')",
        unit="versions",
        description="Dataset versions imported from uploads",
        dimensions=("dataset_id",),
    ),
)
BY_NAME = {metric.name: metric for metric in CATALOG}
#: Time series buckets a caller may ask for.
BUCKETS = {"5m": timedelta(minutes=5), "1h": timedelta(hours=1), "1d": timedelta(days=1)}
#: Most points one time series returns.
MAX_POINTS = 2000


def enabled(disabled: str) -> list[Metric]:
    """The catalog less the metrics switched off in settings (comma-separated names)."""
    off = {name.strip() for name in disabled.split(",") if name.strip()}
    return [metric for metric in CATALOG if metric.name not in off]


def metric(name: str, disabled: str) -> Metric:
    found = {m.name: m for m in enabled(disabled)}.get(name)
    if found is None:
        raise InvalidParameter(
            f"unknown or disabled metric {name!r}; GET /api/v1/metrics/catalog lists them",
            code="unknown_metric",
            errors=[{"field": "metric", "message": "not in the catalog"}],
        )
    return found


def _scope(visible: list[uuid.UUID] | None) -> tuple[str, dict[str, Any]]:
    if visible is None:
        return "", {}
    return " AND namespace_id = ANY(CAST(:visible AS uuid[]))", {"visible": [str(v) for v in visible]}


def summary(
    session: Session, metrics: list[Metric], *, start: datetime, end: datetime, visible: list[uuid.UUID] | None
) -> dict[str, Any]:
    """Every metric over [start, end), one query per view."""
    where, params = _scope(visible)
    values: dict[str, Any] = {}
    by_view: dict[tuple[str, str], list[Metric]] = {}
    for m in metrics:
        by_view.setdefault((m.view, m.time_column), []).append(m)
    for (view, column), group in by_view.items():
        columns = ", ".join(f"{m.value} AS {m.name}" for m in group)
        sql = f"SELECT {columns} FROM {view} WHERE {column} >= :start AND {column} < :end{where}"
        row = session.execute(text(sql), {"start": start, "end": end, **params}).mappings().one()
        values.update({m.name: _number(row[m.name]) for m in group})
    return values


def current(session: Session, visible: list[uuid.UUID] | None) -> dict[str, int]:
    """Runs by status right now (not windowed): running, queued, waiting."""
    where, params = _scope(visible)
    sql = (
        "SELECT status, count(*) FROM runs WHERE status IN ('PENDING', 'QUEUED', 'RUNNING', 'RETRYING')"
        f"{where} GROUP BY status"
    )
    return {status: int(n) for status, n in session.execute(text(sql), params).all()}


def timeseries(
    session: Session,
    m: Metric,
    *,
    bucket: str,
    by: str | None,
    start: datetime,
    end: datetime,
    visible: list[uuid.UUID] | None,
) -> list[dict[str, Any]]:
    """One point per bucket in [start, end), empty buckets filled; with `by`, one series per value."""
    width = BUCKETS.get(bucket)
    if width is None:
        raise InvalidParameter(f"bucket must be one of {', '.join(BUCKETS)}", code="invalid_bucket")
    if (end - start) / width > MAX_POINTS:
        raise InvalidParameter(
            f"at most {MAX_POINTS} buckets: widen the bucket or narrow the window", code="too_many_points"
        )
    if by is not None and by not in m.dimensions:
        raise InvalidParameter(f"{m.name} can be split by {', '.join(m.dimensions) or 'nothing'}", code="invalid_by")
    where, params = _scope(visible)
    key = f"CAST({by} AS text)" if by else "''"
    sql = f"""
        WITH buckets AS (
            SELECT generate_series(
                date_bin(CAST(:width AS interval), CAST(:start AS timestamptz), TIMESTAMPTZ '2000-01-01'),
                CAST(:end AS timestamptz) - interval '1 microsecond',
                CAST(:width AS interval)
            ) AS at
        ), measured AS (
            SELECT date_bin(CAST(:width AS interval), {m.time_column}, TIMESTAMPTZ '2000-01-01') AS at, {key} AS key,
                   {m.value} AS value
            FROM {m.view}
            WHERE {m.time_column} >= :start AND {m.time_column} < :end{where}
            GROUP BY 1, 2
        ), keys AS (SELECT DISTINCT key FROM measured UNION SELECT '' WHERE NOT EXISTS (SELECT 1 FROM measured))
        SELECT k.key, b.at, m.value
        FROM buckets b CROSS JOIN keys k LEFT JOIN measured m ON m.at = b.at AND m.key = k.key
        ORDER BY k.key, b.at"""
    rows = session.execute(text(sql), {"width": width, "start": start, "end": end, **params}).all()
    series: dict[str, list[list[Any]]] = {}
    empty = 0 if m.additive else None
    for key, at, value in rows:
        series.setdefault(key, []).append([at, empty if value is None else _number(value)])
    return [{"key": key if by else m.name, "points": points} for key, points in series.items()]


def breakdown(
    session: Session, m: Metric, *, by: str, top: int, start: datetime, end: datetime, visible: list[uuid.UUID] | None
) -> list[dict[str, Any]]:
    """The `top` values of `by` with the largest metric, and (for additive metrics) an "other" row."""
    if by not in m.dimensions:
        raise InvalidParameter(f"{m.name} can be split by {', '.join(m.dimensions) or 'nothing'}", code="invalid_by")
    where, params = _scope(visible)
    base = f"FROM {m.view} WHERE {m.time_column} >= :start AND {m.time_column} < :end{where}"
    sql = (
        f"SELECT CAST({by} AS text) AS key, {m.value} AS value {base} GROUP BY 1 "
        "ORDER BY 2 DESC NULLS LAST, 1 LIMIT :top"
    )
    bind = {"start": start, "end": end, "top": top, **params}
    rows = [{"key": key, "value": _number(value)} for key, value in session.execute(text(sql), bind).all()]
    if m.additive:
        total = _number(session.execute(text(f"SELECT {m.value} {base}"), bind).scalar_one()) or 0
        shown = sum(r["value"] or 0 for r in rows)
        if total > shown:
            rows.append({"key": "other", "value": total - shown})
    return rows


def _number(value: Any) -> Any:
    if value is None or isinstance(value, int):
        return value
    return float(value)
