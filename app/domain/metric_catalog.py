"""The metric catalog: what each dashboard metric means, as one entry over a source the views in sql/views/ define.

An entry names its source (runs, latency, occurrences, datasets; see
app/domain/metric_sources.py), the SQL aggregate over the source's columns
(static text from this catalog, never from a request) and the dimensions it
may be broken down by. app/domain/metrics.py measures them.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final, LiteralString

import msgspec

from app.core.errors import InvalidParameter
from app.core.states import CONCLUDED, FAILURES, sql_list
from app.domain.metric_sources import COLUMNS


class Metric(msgspec.Struct, frozen=True, kw_only=True):
    #: Also the column alias in the metric's SQL.
    name: LiteralString
    #: runs, latency, occurrences or datasets (app/domain/metric_sources.py).
    source: str
    #: An aggregate over the source's columns: static SQL, so LiteralString (basedpyright checks it, `make lint`).
    value: LiteralString
    unit: str
    description: str
    #: The view behind the source: where the figure is defined.
    view: str = "run_facts"
    #: Whether values add up across groups (so a breakdown can show an "other" row).
    additive: bool = True
    #: Dimensions allowed, if fewer than the source's.
    only: tuple[str, ...] | None = None

    @property
    def dimensions(self) -> tuple[str, ...]:
        return self.only if self.only is not None else tuple(COLUMNS[self.source])


_FINAL: Final[LiteralString] = f"status IN ({sql_list(CONCLUDED)})"


def _quantile(measure: LiteralString, q: LiteralString) -> LiteralString:
    return f"latency_bin_value(min(bin) FILTER (WHERE measure = '{measure}' AND total > 0 AND cum >= {q} * total))"


CATALOG: tuple[Metric, ...] = (
    Metric(
        name="runs",
        source="runs",
        value="CAST(coalesce(sum(runs), 0) AS bigint)",
        unit="runs",
        description="Runs created",
    ),
    Metric(
        name="runs_failed",
        source="runs",
        value=f"CAST(coalesce(sum(runs) FILTER (WHERE status IN ({sql_list(FAILURES)})), 0) AS bigint)",
        unit="runs",
        description="Runs that failed or timed out",
    ),
    Metric(
        name="success_rate",
        source="runs",
        value=(
            "CAST(coalesce(sum(runs) FILTER (WHERE status = 'SUCCEEDED'), 0) AS float8)"
            f" / nullif(sum(runs) FILTER (WHERE {_FINAL}), 0)"
        ),
        unit="ratio",
        description="Share of finished runs that succeeded",
        additive=False,
        only=("kind", "trigger", "pipeline", "deployment", "user"),
    ),
    Metric(
        name="duration_p50",
        source="latency",
        value=_quantile("duration", "0.5"),
        unit="s",
        description="Median run duration (start to finish), within 2 %",
        additive=False,
    ),
    Metric(
        name="duration_p95",
        source="latency",
        value=_quantile("duration", "0.95"),
        unit="s",
        description="95th percentile of run duration, within 2 %",
        additive=False,
    ),
    Metric(
        name="queue_wait_mean",
        source="runs",
        value="CAST(sum(wait_sum) AS float8) / nullif(sum(wait_n), 0)",
        unit="s",
        description="Mean time from queued to started",
        additive=False,
        only=("kind", "trigger", "pipeline", "deployment"),
    ),
    Metric(
        name="queue_wait_p95",
        source="latency",
        value=_quantile("queue_wait", "0.95"),
        unit="s",
        description="95th percentile of the time from queued to started, within 2 %",
        additive=False,
    ),
    Metric(
        name="rows_processed",
        source="runs",
        value="CAST(coalesce(sum(rows_sum), 0) AS bigint)",
        unit="rows",
        description="Rows imported or written by runs",
        only=("kind", "trigger", "pipeline", "deployment", "user"),
    ),
    Metric(
        name="bytes_processed",
        source="runs",
        value="CAST(coalesce(sum(bytes_sum), 0) AS bigint)",
        unit="bytes",
        description="Bytes imported or written by runs",
        only=("kind", "trigger", "pipeline", "deployment", "user"),
    ),
    Metric(
        name="occurrences_missed",
        source="occurrences",
        view="occurrence_facts",
        value="coalesce(sum(fire_times) FILTER (WHERE missed), 0)",
        unit="fire times",
        description="Fire times that made no run (misfire, coalesced, overlap, paused, DST)",
    ),
    Metric(
        name="datasets_imported",
        source="datasets",
        view="dataset_facts",
        value="count(*) FILTER (WHERE source = 'uploaded')",
        unit="versions",
        description="Dataset versions imported from uploads",
        only=("dataset",),
    ),
)
BY_NAME = {metric.name: metric for metric in CATALOG}
#: A metric's name as requests give it (`?metric=`): the catalog's, so the OpenAPI document lists them.
MetricName = StrEnum("MetricName", [(m.name.upper(), m.name) for m in CATALOG], module=__name__)  # type: ignore[misc]
#: The `code` of a metric that is not in the catalog, or is switched off.
UNKNOWN_METRIC = "unknown_metric"


def enabled(disabled: str) -> list[Metric]:
    """The catalog less the metrics switched off in settings (comma-separated names)."""
    off = {name.strip() for name in disabled.split(",") if name.strip()}
    return [metric for metric in CATALOG if metric.name not in off]


def metric(name: str, disabled: str) -> Metric:
    found = {m.name: m for m in enabled(disabled)}.get(name)
    if found is None:
        raise InvalidParameter(
            f"unknown or disabled metric {name!r}; GET /api/v1/metrics/catalog lists them",
            code=UNKNOWN_METRIC,
            errors=[{"field": "metric", "message": "not in the catalog"}],
        )
    return found
