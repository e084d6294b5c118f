"""/api/v1/metrics: dashboard figures computed by the SQL views in sql/views/, scoped to what the caller may see."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.params import FromQuery, QueryParameter

from app.api.metric_schemas import (
    FailingDeployments,
    MetricBreakdown,
    MetricSummary,
    MetricTimeseries,
    SlowestPipelines,
    convert,
)
from app.api.schemas import NamespaceFilter, RunOut, runs_out
from app.api.security import principal_of
from app.core.errors import InvalidParameter
from app.db.database import Database
from app.domain import metric_catalog as catalog
from app.domain import metrics as service
from app.domain import runs as run_service
from app.domain.metric_catalog import MetricName
from app.domain.metric_sources import MetricDimension
from app.domain.metrics import MetricBucket
from app.domain.permissions import Permission
from app.settings import Settings

READ = {"permission": Permission.RUNS_READ}
#: The `code` of each enum parameter's refused value, as the domain says it for a value the enum admits but the
#: metric does not (app/api/errors.py reads `invalid`).
CHOSEN = {
    **READ,
    "invalid": {"metric": catalog.UNKNOWN_METRIC, "bucket": service.INVALID_BUCKET, "by": service.INVALID_BY},
}
#: The window a dashboard shows when the caller names none.
DEFAULT_WINDOW = timedelta(hours=24)
#: Longest window one request may cover.
MAX_WINDOW = timedelta(days=400)
From = Annotated[datetime | None, QueryParameter(name="from", description="Inclusive, ISO 8601; default now - 24 h")]
To = Annotated[datetime | None, QueryParameter(name="to", description="Exclusive, ISO 8601; default now")]


class CatalogEntry(msgspec.Struct):
    name: str
    description: str
    unit: str
    view: str
    dimensions: list[str]
    enabled: bool


def window(start: datetime | None, end: datetime | None) -> tuple[datetime, datetime]:
    """The caller's [from, to), defaulting to the last 24 h (each has an offset: app/api/instant_parameters.py)."""
    end = end or datetime.now(UTC)
    try:
        start = start or end - DEFAULT_WINDOW
    except OverflowError:  # `to` in the first day of year 1: no window fits before it
        start = end
    if not (_fits_utc(start) and _fits_utc(end)) or start >= end or end - start > MAX_WINDOW:
        raise InvalidParameter(
            f"`from` must be before `to`, at most {MAX_WINDOW.days} days apart, both in years 1-9999 in UTC",
            code="invalid_window",
            errors=[{"field": "from", "message": "before `to`, within 400 days"}],
        )
    return start, end


def _fits_utc(moment: datetime) -> bool:
    """Whether `moment` is a datetime in UTC too: 0001-01-01T00:00+14:00 is in year 0 there (a 500 before)."""
    try:
        moment.astimezone(UTC)
    except OverflowError:
        return False
    return True


class MetricsController(Controller):
    path = "/api/v1/metrics"
    tags = ["metrics"]

    @get(
        "/catalog",
        operation_id="getMetricCatalog",
        opt=READ,
        summary="The metrics that exist, and whether each is enabled",
    )
    async def catalog(self, settings: NamedDependency[Settings]) -> list[CatalogEntry]:
        on = {m.name for m in catalog.enabled(settings.disabled_metrics)}
        return [
            CatalogEntry(m.name, m.description, m.unit, m.view, list(m.dimensions), m.name in on)
            for m in catalog.CATALOG
        ]

    @get(
        "/summary",
        operation_id="getMetricSummary",
        opt=READ,
        sync_to_thread=True,
        summary="Every enabled metric over a window, and runs now",
    )
    def summary(
        self,
        request: Request,
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
        from_: From = None,
        to: To = None,
        namespace: NamespaceFilter = None,
    ) -> MetricSummary:
        start, end = window(from_, to)
        with db.read() as session:
            figures = service.dashboard(
                session,
                principal_of(request),
                catalog.enabled(settings.disabled_metrics),
                namespace=namespace,
                start=start,
                end=end,
            )
        return convert({"from": start, "to": end, **figures}, MetricSummary)

    @get(
        "/timeseries",
        operation_id="getMetricTimeseries",
        opt=CHOSEN,
        sync_to_thread=True,
        summary="One point per bucket (empty buckets filled)",
    )
    def timeseries(
        self,
        request: Request,
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
        metric: FromQuery[MetricName] = MetricName("runs"),
        bucket: FromQuery[MetricBucket] = MetricBucket("1h"),
        by: Annotated[
            MetricDimension | None, QueryParameter(description="A dimension of the metric (see the catalog)")
        ] = None,
        from_: From = None,
        to: To = None,
        namespace: NamespaceFilter = None,
    ) -> MetricTimeseries:
        start, end = window(from_, to)
        chosen = catalog.metric(metric, settings.disabled_metrics)
        with db.read() as session:
            series, values = service.timeseries(
                session, principal_of(request), chosen, namespace=namespace, bucket=bucket, by=by, start=start, end=end
            )
        body = {
            "metric": chosen.name,
            "unit": chosen.unit,
            "bucket": bucket,
            "from": start,
            "to": end,
            "series": series,
            # Values of `by` in the window: past service.MAX_SERIES only the series with the largest totals are given.
            "values": values,
        }
        return convert(body, MetricTimeseries)

    @get(
        "/breakdown",
        operation_id="getMetricBreakdown",
        opt=CHOSEN,
        sync_to_thread=True,
        summary="The top N values of a dimension, with an other row",
    )
    def breakdown(
        self,
        request: Request,
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
        by: Annotated[
            MetricDimension, QueryParameter(description="A dimension of the metric (see the catalog)")
        ] = MetricDimension("status"),
        metric: FromQuery[MetricName] = MetricName("runs"),
        top: Annotated[int, QueryParameter(ge=1, le=100)] = 10,
        from_: From = None,
        to: To = None,
        namespace: NamespaceFilter = None,
    ) -> MetricBreakdown:
        start, end = window(from_, to)
        chosen = catalog.metric(metric, settings.disabled_metrics)
        with db.read() as session:
            rows = service.breakdown(
                session, principal_of(request), chosen, namespace=namespace, by=by, top=top, start=start, end=end
            )
        body = {"metric": chosen.name, "unit": chosen.unit, "by": by, "from": start, "to": end, "items": rows}
        return convert(body, MetricBreakdown)

    @get(
        "/slowest-pipelines",
        operation_id="getSlowestPipelines",
        opt=READ,
        sync_to_thread=True,
        summary="Pipelines by p95 duration, slowest first",
    )
    def slowest_pipelines(
        self,
        request: Request,
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
        top: Annotated[int, QueryParameter(ge=1, le=100)] = 10,
        from_: From = None,
        to: To = None,
        namespace: NamespaceFilter = None,
    ) -> SlowestPipelines:
        ranked = self._ranking(
            request, db, settings, "duration_p95", ["duration_p50", "runs"], "pipeline", top, from_, to, namespace
        )
        return convert(ranked, SlowestPipelines)

    @get(
        "/failing-deployments",
        operation_id="getFailingDeployments",
        opt=READ,
        sync_to_thread=True,
        summary="Deployments by failed runs, most first",
    )
    def failing_deployments(
        self,
        request: Request,
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
        top: Annotated[int, QueryParameter(ge=1, le=100)] = 10,
        from_: From = None,
        to: To = None,
        namespace: NamespaceFilter = None,
    ) -> FailingDeployments:
        ranked = self._ranking(
            request, db, settings, "runs_failed", ["runs", "success_rate"], "deployment", top, from_, to, namespace
        )
        return convert(ranked, FailingDeployments)

    @staticmethod
    def _ranking(
        request: Request,
        db: Database,
        settings: Settings,
        rank: str,
        also: list[str],
        by: str,
        top: int,
        start: datetime | None,
        end: datetime | None,
        namespace: str | None,
    ) -> dict[str, Any]:
        start, end = window(start, end)
        ranked = catalog.metric(rank, settings.disabled_metrics)
        on = {m.name for m in catalog.enabled(settings.disabled_metrics)}
        companions = [catalog.BY_NAME[name] for name in also if name in on]
        with db.read() as session:
            items = service.ranking(
                session,
                principal_of(request),
                ranked,
                companions,
                namespace=namespace,
                by=by,
                top=top,
                start=start,
                end=end,
            )
        return {"by": by, "from": start, "to": end, "items": items}

    @get(
        "/recent-failures",
        operation_id="listRecentFailures",
        opt=READ,
        sync_to_thread=True,
        summary="The latest failed or timed-out runs",
    )
    def recent_failures(
        self,
        request: Request,
        db: NamedDependency[Database],
        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 20,
        from_: From = None,
        to: To = None,
        namespace: NamespaceFilter = None,
    ) -> list[RunOut]:
        start, end = window(from_, to)
        with db.read() as session:
            failed = run_service.recent_failures(
                session, principal_of(request), namespace=namespace, start=start, end=end, limit=limit
            )
            return runs_out(session, failed)
