"""Response bodies of /api/v1/metrics: the document states each figure's place, not just "an object".

A figure is a number (a count, a ratio, seconds) or null where it is undefined (a
rate over no finished runs, a percentile of nothing). A metric switched off in
settings (CONVEYOR_DISABLED_METRICS) is absent from where it would be.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar

import msgspec
from msgspec import UNSET, UnsetType

from app.domain.metric_catalog import MetricName
from app.domain.metric_sources import MetricDimension
from app.domain.metrics import MetricBucket

#: A metric's value: a number, or null where it is undefined.
Figure = float | None


class Windowed(msgspec.Struct, kw_only=True):
    """A body's window: [from, to)."""

    from_: datetime = msgspec.field(name="from")
    to: datetime


class MetricSummary(Windowed, kw_only=True):
    """GET /metrics/summary: every enabled metric over the window, runs by status and missed fire times by
    outcome in it, and runs by status right now (not windowed)."""

    #: Each enabled metric of the catalog by name.
    metrics: dict[str, Figure]
    #: Runs created in the window, by status (statuses with none left out).
    runs_by_status: dict[str, int]
    #: Fire times in the window that made no run, by outcome.
    missed_by_outcome: dict[str, int]
    #: Runs running, queued or waiting now, by status.
    now: dict[str, int]


class Series(msgspec.Struct, kw_only=True):
    #: The metric's name, or (split `by` a dimension) the dimension's value, null for runs that have none.
    key: str | None
    #: A name for the key (a pipeline's, deployment's, user's or dataset's), null when it has none or is not split.
    label: str | None = None
    #: [bucket start, value] for every bucket of the window, empty ones too.
    points: list[tuple[datetime, Figure]]


class Measured(Windowed, kw_only=True):
    """One metric over the window, and its unit."""

    metric: MetricName
    unit: str


class MetricTimeseries(Measured, kw_only=True):
    bucket: MetricBucket
    series: list[Series]
    #: How many values of `by` the window has (without `by`: 1, or 0 when it measured nothing): past 50, only the
    #: series of the 50 with the largest totals are given (the largest values, for a metric that does not add up).
    values: int = msgspec.field(default=0)


class Keyed(msgspec.Struct, kw_only=True):
    """One value of a dimension: the value (a status, an id, ...; `other` sums the rest past the top N; null for
    runs that have none) and its name, if it has one (a pipeline's, deployment's, user's or dataset's)."""

    key: str | None
    label: str | None


class BreakdownItem(Keyed, kw_only=True):
    value: float


class MetricBreakdown(Measured, kw_only=True):
    by: MetricDimension
    items: list[BreakdownItem]


class SlowPipeline(Keyed, kw_only=True):
    """A pipeline (its id, null for runs of no pipeline: imports) and its figures."""

    duration_p95: Figure
    duration_p50: Figure | UnsetType = UNSET
    runs: float | UnsetType = UNSET


class FailingDeployment(Keyed, kw_only=True):
    """A deployment (its id) and its figures."""

    runs_failed: float
    runs: float | UnsetType = UNSET
    success_rate: Figure | UnsetType = UNSET


class SlowestPipelines(Windowed, kw_only=True):
    by: MetricDimension
    items: list[SlowPipeline]


class FailingDeployments(Windowed, kw_only=True):
    by: MetricDimension
    items: list[FailingDeployment]


T = TypeVar("T")


def convert(body: dict[str, Any], kind: type[T]) -> T:
    """A measured body (app/domain/metrics.py) as its response Struct."""
    return msgspec.convert(body, kind, strict=False)
