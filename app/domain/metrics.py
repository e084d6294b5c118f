"""Dashboard metrics: the catalog's entries (app/domain/metric_catalog.py) measured over the sql/views/ sources.

Requests choose metrics, a time window, a bucket and a dimension from the
catalog's lists only; namespaces and times are bound values, and the
namespaces are those the caller may read runs in.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, LiteralString

from sqlalchemy import TextClause, text
from sqlalchemy.orm import Session

from app.core.errors import InvalidParameter
from app.db.queries import query
from app.domain.metric_catalog import Metric
from app.domain.metric_sources import Window, column, relation
from app.domain.namespaces import visible_namespaces
from app.domain.permissions import Permission, Principal

#: Time series buckets a caller may ask for.
BUCKETS = {"5m": timedelta(minutes=5), "1h": timedelta(hours=1), "1d": timedelta(days=1)}
#: A bucket as requests name it (`?bucket=`): BUCKETS' keys, so the OpenAPI document lists them.
MetricBucket = StrEnum("MetricBucket", [(f"EVERY_{b}".upper(), b) for b in BUCKETS], module=__name__)  # type: ignore[misc]
#: The `code` of a bucket that is not one of BUCKETS.
INVALID_BUCKET = "invalid_bucket"
#: The `code` of a dimension the metric cannot be split by.
INVALID_BY = "invalid_by"
#: The grid every bucket starts on (metric_sources.ORIGIN in SQL).
BUCKET_ORIGIN = datetime(2000, 1, 1, tzinfo=UTC)
#: Most points one time series returns.
MAX_POINTS = 2000
#: Series a time series split by a dimension shows at most: those with the largest totals.
MAX_SERIES = 50


def _scope(session: Session, principal: Principal, namespace: str | None) -> list[uuid.UUID] | None:
    """The namespaces the figures cover: `namespace` (if the caller may see it), else every one it reads runs in."""
    return visible_namespaces(session, principal, Permission.RUNS_READ, namespace)


def summary(
    session: Session,
    principal: Principal,
    metrics: list[Metric],
    *,
    namespace: str | None = None,
    start: datetime,
    end: datetime,
) -> dict[str, Any]:
    """Every metric over [start, end), one query per source."""
    return _measure(session, metrics, Window(start, end), _scope(session, principal, namespace), split={})[0]


def _measure(
    session: Session,
    metrics: list[Metric],
    window: Window,
    visible: list[uuid.UUID] | None,
    *,
    split: dict[str, str],
) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """Every metric, and the metrics named in `split` per value of a dimension, in one scan per source.

    `split` maps a metric to a dimension of its source; the totals and the
    split come from one GROUPING SETS query, so the runs are read once.
    """
    values: dict[str, Any] = {}
    splits: dict[str, dict[str, Any]] = {}
    by_source: dict[str, list[Metric]] = {}
    for m in metrics:
        by_source.setdefault(m.source, []).append(m)
    for source, group in by_source.items():
        split_here = [m for m in group if m.name in split]
        key = column(source, split[split_here[0].name]) if split_here else None
        from_, params = relation(source, window, visible, key=key)
        columns = ", ".join(f"{m.value} AS {m.name}" for m in group)
        sql = f"SELECT key, grouping(key) AS total, {columns} FROM {from_} GROUP BY GROUPING SETS ((), (key))"
        for row in session.execute(_sql(sql), params).mappings():
            if row["total"]:
                values.update({m.name: _number(row[m.name]) for m in group})
            else:
                for m in split_here:
                    if row[m.name]:
                        splits.setdefault(m.name, {})[row["key"]] = _number(row[m.name])
    return values, splits


def dashboard(
    session: Session,
    principal: Principal,
    metrics: list[Metric],
    *,
    namespace: str | None = None,
    start: datetime,
    end: datetime,
) -> dict[str, Any]:
    """What GET /metrics/summary shows: every metric, runs by status, missed fire times by outcome, runs now."""
    visible = _scope(session, principal, namespace)
    split = {"runs": "status", "occurrences_missed": "outcome"}
    values, splits = _measure(session, metrics, Window(start, end), visible, split=split)
    return {
        "metrics": values,
        "runs_by_status": splits.get("runs", {}),
        "missed_by_outcome": splits.get("occurrences_missed", {}),
        "now": current(session, visible),
    }


def current(session: Session, visible: list[uuid.UUID] | None) -> dict[str, int]:
    """Runs by status right now (not windowed): running, queued, waiting."""
    rows = session.execute(
        query("runs_now_by_status"), {"visible": None if visible is None else [str(v) for v in visible]}
    )
    return {status: int(n) for status, n in rows.all()}


def timeseries(
    session: Session,
    principal: Principal,
    m: Metric,
    *,
    namespace: str | None = None,
    bucket: str,
    by: str | None,
    start: datetime,
    end: datetime,
) -> tuple[list[dict[str, Any]], int]:
    """One point per bucket in [start, end), empty buckets filled; with `by`, one series per value, for the
    MAX_SERIES values with the largest totals (largest values, for a metric that does not add up); and how many
    values the window has. Every series is read into this process: 10,000 users or datasets over 2,000 buckets
    would have been 20 million rows in one response."""
    visible = _scope(session, principal, namespace)
    width = BUCKETS.get(bucket)
    if width is None:
        raise InvalidParameter(
            f"bucket must be one of {', '.join(BUCKETS)}",
            code=INVALID_BUCKET,
            errors=[{"field": "bucket", "message": f"one of {', '.join(BUCKETS)}"}],
        )
    if (end - start) / width > MAX_POINTS:
        raise InvalidParameter(
            f"at most {MAX_POINTS} buckets: widen the bucket or narrow the window", code="too_many_points"
        )
    key = column(m.source, _allowed(m, by))
    from_, params = relation(m.source, Window(start, end, bucket=width), visible, key=key, bucket=width)
    rank = "sum" if m.additive else "max"
    sql = f"""
        WITH buckets AS (
            SELECT unnest(CAST(:buckets AS timestamptz[])) AS at
        ), measured AS (
            SELECT bucket_at AS at, key, {m.value} AS value FROM {from_} GROUP BY 1, 2
        ), ranked AS (
            SELECT key, count(*) OVER () AS found FROM measured GROUP BY key
            ORDER BY {rank}(value) DESC NULLS LAST, key NULLS LAST LIMIT :series
        ), keys AS (SELECT key, found FROM ranked UNION ALL SELECT '', 0 WHERE NOT EXISTS (SELECT 1 FROM measured))
        SELECT k.key, b.at, m.value, k.found
        FROM buckets b CROSS JOIN keys k LEFT JOIN measured m ON m.at = b.at AND m.key IS NOT DISTINCT FROM k.key
        ORDER BY k.key NULLS LAST, b.at"""
    binds = {**params, "buckets": bucket_starts(start, end, width), "series": MAX_SERIES}
    rows = session.execute(_sql(sql), binds).all()
    series: dict[str | None, list[list[Any]]] = {}
    empty = 0 if m.additive else None
    values = 0
    for key_value, at, value, keys in rows:
        series.setdefault(key_value, []).append([at, empty if value is None else _number(value)])
        values = keys
    out = [{"key": key_value if by else m.name, "points": points} for key_value, points in series.items()]
    if by:
        names = labels(session, by, [item["key"] for item in out])
        for item in out:
            item["label"] = names.get(item["key"])
    return out, values


def bucket_starts(start: datetime, end: datetime, width: timedelta) -> list[datetime]:
    """The buckets [start, end) touches, on the same UTC grid as date_bin(width, at, 2000-01-01 UTC).

    Computed here, in absolute time: generate_series in SQL would step days in
    the session's time zone and drift off the grid across a DST change.
    """
    first = BUCKET_ORIGIN + ((start - BUCKET_ORIGIN) // width) * width
    return [first + i * width for i in range(-(-(end - first) // width))]


def breakdown(
    session: Session,
    principal: Principal,
    m: Metric,
    *,
    namespace: str | None = None,
    by: str,
    top: int,
    start: datetime,
    end: datetime,
) -> list[dict[str, Any]]:
    """The `top` values of `by` with the largest metric, and (for additive metrics) an "other" row."""
    visible = _scope(session, principal, namespace)
    key = column(m.source, _allowed(m, by))
    from_, params = relation(m.source, Window(start, end), visible, key=key)
    sql = f"""
        SELECT key, value, sum(value) OVER () AS total
        FROM (SELECT key, {m.value} AS value FROM {from_} GROUP BY key) g
        WHERE {"value <> 0" if m.additive else "value IS NOT NULL"}
        ORDER BY value DESC, key NULLS LAST
        LIMIT :top"""
    rows = session.execute(_sql(sql), {**params, "top": top}).all()
    names = labels(session, by, [r.key for r in rows])
    items = [{"key": r.key, "label": names.get(r.key), "value": _number(r.value)} for r in rows]
    if m.additive and rows:
        rest = _number(rows[0].total) - sum(item["value"] for item in items)
        if rest > 0:
            items.append({"key": "other", "label": None, "value": rest})
    return items


def ranking(
    session: Session,
    principal: Principal,
    rank: Metric,
    also: list[Metric],
    *,
    namespace: str | None = None,
    by: str,
    top: int,
    start: datetime,
    end: datetime,
) -> list[dict[str, Any]]:
    """The top `by` values by `rank`, each with the `also` metrics beside it (e.g. slowest pipelines, with runs).

    One grouped query per source, all metrics of that source in it; ranked as a breakdown ranks.
    """
    visible = _scope(session, principal, namespace)
    window = Window(start, end)
    by_source: dict[str, list[Metric]] = {}
    for m in [rank, *also]:
        by_source.setdefault(m.source, []).append(m)
    values: dict[str | None, dict[str, Any]] = {}
    for source, group in by_source.items():
        for m in group:
            _allowed(m, by)
        key = column(source, by)
        from_, params = relation(source, window, visible, key=key)
        columns = ", ".join(f"{m.value} AS {m.name}" for m in group)
        for row in session.execute(_sql(f"SELECT key, {columns} FROM {from_} GROUP BY key"), params).mappings():
            values.setdefault(row["key"], {}).update({m.name: _number(row[m.name]) for m in group})
    kept = [
        (key, figures)
        for key, figures in values.items()
        if figures.get(rank.name) is not None and (figures[rank.name] != 0 or not rank.additive)
    ]
    kept.sort(key=lambda item: (-item[1][rank.name], item[0] is None, item[0] or ""))
    kept = kept[:top]
    names = labels(session, by, [key for key, _ in kept])
    return [
        {
            "key": key,
            "label": names.get(key),
            **{m.name: figures.get(m.name, 0 if m.additive else None) for m in also},
            rank.name: figures[rank.name],
        }
        for key, figures in kept
    ]


#: The named query that names each kind of key a breakdown or series can list.
LABEL_QUERIES = {
    "pipeline": lambda: query("metric_labels_pipeline"),
    "deployment": lambda: query("metric_labels_deployment"),
    "user": lambda: query("metric_labels_user"),
    "dataset": lambda: query("metric_labels_dataset"),
}


def labels(session: Session, by: str, keys: list[str | None]) -> dict[str | None, str]:
    """Names for the ids a breakdown or series lists (sql/queries/metrics.sql), so a chart can show them."""
    ids = [k for k in keys if k and k != "other"]
    named = LABEL_QUERIES.get(by)
    if named is None or not ids:
        return {}
    return dict(session.execute(named(), {"ids": ids}).all())


def _sql(statement: LiteralString) -> TextClause:
    """A statement assembled from the catalog's static fragments only (LiteralString, checked by basedpyright)."""
    return text(statement)


def _allowed(m: Metric, by: str | None) -> str | None:
    if by is not None and by not in m.dimensions:
        raise InvalidParameter(
            f"{m.name} can be split by {', '.join(m.dimensions) or 'nothing'}",
            code=INVALID_BY,
            errors=[{"field": "by", "message": f"one of {', '.join(m.dimensions)}"}],
        )
    return by


def _number(value: Any) -> Any:
    if value is None or isinstance(value, int):
        return value
    return float(value)
