"""The relations a metric aggregates: run figures from the hourly rollup plus what it does not hold yet.

A run metric over a window reads, in one statement (one snapshot):

- `run_rollup` for the whole hours inside the window (finished runs, folded);
- `run_rollup_changes` for those hours (runs counted or taken back, not folded yet);
- `run_partials` for runs in those hours that are not final (they are never in the rollup);
- `run_partials` for every run in the partial hours at the window's edges.

All four have the rollup's shape, so one aggregate (`sum(runs)`, ...) serves
them all, and the figures stay defined once, by run_facts. Percentiles read
the same four parts as log-scale bins (`run_latency_rollup`), accurate to 2 %.
Occurrence and dataset metrics read their views directly.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Final, LiteralString

from app.core.states import ACTIVE, sql_list

HOUR = timedelta(hours=1)
#: Bucket origin: every bucket width of an hour or more starts on a whole UTC hour.
ORIGIN: Final = "TIMESTAMPTZ '2000-01-01 00:00+00'"
NOT_FINAL: Final[LiteralString] = f"status IN ({sql_list(ACTIVE)})"

_RUN_DIMENSIONS: Final = "namespace_id, kind, trigger, status, pipeline_id, deployment_id, error_code, created_by"
_RUN_SUMS: Final = "runs, duration_n, duration_sum, wait_n, wait_sum, rows_sum, bytes_sum"
_LATENCY_DIMENSIONS: Final = "namespace_id, kind, pipeline_id, deployment_id"
#: Dimension (as the API names it) -> column, per source.
COLUMNS: dict[str, dict[str, LiteralString]] = {
    "runs": {
        "status": "status",
        "kind": "kind",
        "trigger": "trigger",
        "pipeline": "pipeline_id",
        "deployment": "deployment_id",
        "user": "created_by",
        "error": "error_code",
    },
    "latency": {"kind": "kind", "pipeline": "pipeline_id", "deployment": "deployment_id"},
    "occurrences": {"outcome": "outcome", "deployment": "deployment_id"},
    "datasets": {"dataset": "dataset_id", "source": "source"},
}
#: A dimension as requests name it (`?by=`): every source's, so the OpenAPI document lists them (a metric may allow
#: fewer: its catalog entry's `dimensions`; another one is 400 `invalid_by`).
MetricDimension = StrEnum(  # type: ignore[misc]
    "MetricDimension", [(d.upper(), d) for d in dict.fromkeys(d for c in COLUMNS.values() for d in c)], module=__name__
)
#: Raw views and their time column, for the sources that are not rolled up.
#: The latency rollup's grain for a key column (any other key reads the `kind` grain).
_GRAINS: dict[str, LiteralString] = {"pipeline_id": "pipeline", "deployment_id": "deployment"}
VIEWS: dict[str, tuple[LiteralString, LiteralString]] = {
    "occurrences": ("occurrence_facts", "scheduled_for"),
    "datasets": ("dataset_facts", "created_at"),
}


class Window:
    """[start, end) and the whole hours inside it, which the rollup can answer."""

    def __init__(self, start: datetime, end: datetime, *, bucket: timedelta | None = None) -> None:
        # Rollup hours are whole UTC hours: 10:30+05:30 is on one, 10:00+05:30 is not.
        start, end = start.astimezone(UTC), end.astimezone(UTC)
        self.start, self.end = start, end
        first = start.replace(minute=0, second=0, microsecond=0)
        self.hours_from = first if first == start else first + HOUR
        self.hours_to = end.replace(minute=0, second=0, microsecond=0)
        # A bucket narrower than an hour, or not made of whole hours, cannot use hourly rows.
        if bucket is not None and bucket % HOUR:
            self.hours_to = self.hours_from
        self.has_hours = self.hours_from < self.hours_to

    def params(self) -> dict[str, Any]:
        return {"start": self.start, "end": self.end, "hours_from": self.hours_from, "hours_to": self.hours_to}


def scope(visible: list[uuid.UUID] | None) -> tuple[LiteralString, dict[str, Any]]:
    """The condition (and its bound value) that keeps rows of the namespaces a caller may see; None: all."""
    if visible is None:
        return "", {}
    return " AND namespace_id = ANY(CAST(:visible AS uuid[]))", {"visible": [str(v) for v in visible]}


def _time_parts(window: Window, column: LiteralString) -> list[LiteralString]:
    """Conditions covering [start, end) less the whole hours: one range, or the two edges."""
    if not window.has_hours:
        return [f"{column} >= :start AND {column} < :end"]
    return [f"{column} >= :start AND {column} < :hours_from", f"{column} >= :hours_to AND {column} < :end"]


def _run_rows(
    window: Window,
    where: LiteralString,
    *,
    rollup: LiteralString,
    rollup_filter: LiteralString = "",
    rollup_select: LiteralString,
    changes_select: LiteralString,
    partials_select: LiteralString,
    join: LiteralString = "",
    only: LiteralString = "",
) -> LiteralString:
    """UNION ALL of the four parts; `join` and `only` apply to the queue and the view (e.g. to unpivot bins).

    `rollup` is the rollup table; `rollup_filter` a condition of its own, ending in AND (`grain = ... AND `).
    """
    hours: LiteralString = "hour >= :hours_from AND hour < :hours_to"
    parts: list[LiteralString] = [
        f"SELECT {partials_select} FROM run_partials{join} WHERE {cond}{only}{where}"
        for cond in _time_parts(window, "created_at")
    ]
    if window.has_hours:
        whole_hours: list[LiteralString] = [
            f"SELECT {rollup_select} FROM {rollup} WHERE {rollup_filter}{hours}{where}",
            f"SELECT {changes_select} FROM run_rollup_changes{join} WHERE {hours}{only}{where}",
            f"SELECT {partials_select} FROM run_partials{join}"
            f" WHERE created_at >= :hours_from AND created_at < :hours_to AND {NOT_FINAL}{only}{where}",
        ]
        parts += whole_hours
    return "\nUNION ALL\n".join(parts)


def column(source: str, dimension: str | None) -> LiteralString | None:
    """The column behind a dimension of `source` (callers check the dimension against the metric first)."""
    return COLUMNS[source][dimension] if dimension is not None else None


def relation(
    source: str,
    window: Window,
    visible: list[uuid.UUID] | None,
    *,
    key: LiteralString | None = None,
    bucket: timedelta | None = None,
) -> tuple[LiteralString, dict[str, Any]]:
    """A FROM item with columns `key` (the dimension as text, or ''), `at` (the bucket, or NULL) and the source's.

    `key` is a column from COLUMNS; `bucket` a width from the catalog. Both are
    static text chosen from lists; times and namespaces are bound parameters.
    """
    where, params = scope(visible)
    params |= window.params()
    key_sql = f"CAST({key} AS text)" if key else "''"
    at_sql = f"date_bin(CAST(:bucket AS interval), at, {ORIGIN})" if bucket else "CAST(NULL AS timestamptz)"
    if bucket:
        params["bucket"] = bucket
    if source == "runs":
        rows = _run_rows(
            window,
            where,
            rollup="run_rollup",
            rollup_select=f"hour AS at, {_RUN_DIMENSIONS}, {_RUN_SUMS}",
            changes_select=f"hour AS at, {_RUN_DIMENSIONS}, {_RUN_SUMS}",
            partials_select=f"created_at AS at, {_RUN_DIMENSIONS}, {_RUN_SUMS}",
        )
        return f"(SELECT {key_sql} AS key, {at_sql} AS bucket_at, * FROM ({rows}) r) s", params
    if source == "latency":
        grain = _GRAINS.get(key or "", "kind")
        return _latency(window, where, key_sql, at_sql, grain), params
    view, time_column = VIEWS[source]
    rows = f"SELECT *, {time_column} AS at FROM {view} WHERE {time_column} >= :start AND {time_column} < :end{where}"
    return f"(SELECT {key_sql} AS key, {at_sql} AS bucket_at, * FROM ({rows}) r) s", params


def _latency(
    window: Window, where: LiteralString, key_sql: LiteralString, at_sql: LiteralString, grain: LiteralString
) -> LiteralString:
    """Bins with their running count per (key, bucket, measure): a percentile is the first bin past q * total."""
    # A run row carries both bins; unpivoted, it reads like run_latency_rollup rows.
    unpivot = (
        " CROSS JOIN LATERAL (VALUES ('duration', duration_bin, duration_n), ('queue_wait', wait_bin, wait_n))"
        " AS m(measure, bin, n)"
    )
    rows = _run_rows(
        window,
        where,
        rollup="run_latency_rollup",
        rollup_filter=f"grain = '{grain}' AND ",
        rollup_select=f"hour AS at, {_LATENCY_DIMENSIONS}, measure, bin, n",
        changes_select=f"hour AS at, {_LATENCY_DIMENSIONS}, m.measure, m.bin, m.n",
        partials_select=f"created_at AS at, {_LATENCY_DIMENSIONS}, m.measure, m.bin, m.n",
        join=unpivot,
        only=" AND m.bin IS NOT NULL",
    )
    return f"""(
        SELECT key, bucket_at, measure, bin,
               sum(n) OVER (PARTITION BY key, bucket_at, measure ORDER BY bin) AS cum,
               sum(n) OVER (PARTITION BY key, bucket_at, measure) AS total
        FROM (
            SELECT {key_sql} AS key, {at_sql} AS bucket_at, measure, bin, sum(n) AS n
            FROM ({rows}) r
            GROUP BY 1, 2, 3, 4
        ) b
    ) s"""
