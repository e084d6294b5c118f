"""GET /metrics in the Prometheus text format: API latency by route, and the engine's state read at each scrape.

Request latency comes from Litestar's Prometheus middleware (route templates,
not raw paths, as labels). Runs by status and kind, queue depth per Dramatiq
queue, outbox lag, scheduler lag, live workers and imported bytes are read
from Postgres and Redis when Prometheus scrapes, by a collector in a registry
of its own, so several app instances in one process never collide.
"""

from __future__ import annotations

from collections.abc import Iterator

import redis
from litestar import Response, get
from litestar.di import NamedDependency
from litestar.plugins.prometheus import PrometheusConfig
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from app.api.head_requests import client_method
from app.db.database import Database
from app.db.queries import query
from app.domain.lanes import lane_queues
from app.domain.permissions import Permission
from app.redis_link import short_waits
from app.settings import Settings

#: Prometheus' text format; Litestar adds `; charset=utf-8` to a text/* media type (naming it here too said it twice,
#: a Content-Type Prometheus 3 cannot parse, so it refused the scrape).
CONTENT_TYPE = "text/plain; version=0.0.4"
LATENCY = PrometheusConfig(
    app_name="conveyor",
    prefix="conveyor_api",
    group_path=True,
    exclude=["^/metrics$"],
    # An extra label replaces the default of the same name: a HEAD answered by a GET route counts as HEAD.
    labels={"method": lambda request: client_method(request.scope)},
)


class EngineCollector(Collector):
    """The engine's state, read once per scrape."""

    def __init__(self, database: Database, settings: Settings) -> None:
        self.database = database
        self.settings = settings

    def collect(self) -> Iterator[Metric]:
        runs = GaugeMetricFamily(
            "conveyor_runs",
            "Runs by status and kind",
            labels=["status", "kind"],
        )
        with self.database.connection() as connection:
            for row in connection.execute(query("runs_by_status_kind")):
                runs.add_metric([row.status, row.kind], row.runs)
            gauges = connection.execute(query("ops_gauges"), {"lease_seconds": self.settings.lease_seconds}).one()
            queues = {*lane_queues(self.settings.queue), *connection.execute(query("queues_in_use")).scalars()}
        yield runs
        yield GaugeMetricFamily(
            "conveyor_outbox_lag_seconds",
            "Age of the oldest due outbox row not sent yet",
            value=gauges.outbox_lag_seconds,
        )
        yield GaugeMetricFamily(
            "conveyor_scheduler_lag_seconds",
            "How late the most overdue deployment is",
            value=gauges.scheduler_lag_seconds,
        )
        yield GaugeMetricFamily(
            "conveyor_live_workers", "Workers with a fresh heartbeat on a running attempt", value=gauges.live_workers
        )
        yield GaugeMetricFamily(
            "conveyor_imported_bytes", "Raw bytes imported into datasets", value=gauges.imported_bytes
        )
        yield GaugeMetricFamily(
            "conveyor_rollup_backlog",
            "Finished runs the scheduler has not folded into the metrics rollup yet (up to 100,000)",
            value=gauges.rollup_backlog,
        )
        yield self._queues(sorted(queues))

    def _queues(self, queues: list[str]) -> Metric:
        """Depth of every queue in use: the configured one, and any that unsent or unfinished runs name."""
        depth = GaugeMetricFamily(
            "conveyor_queue_depth",
            "Messages in a Dramatiq queue: waiting, delayed (its delay queue), dead (its dead-letter set)",
            labels=["queue", "state"],
        )
        client = redis.Redis.from_url(self.settings.redis_url, **short_waits())
        try:
            pipe = client.pipeline(transaction=False)
            for queue in queues:
                prefix = f"{self.settings.redis_namespace}:dramatiq:{queue}"
                pipe.llen(prefix)
                pipe.llen(f"{prefix}.DQ")
                pipe.zcard(f"{prefix}.XQ")
            counts = pipe.execute()
        except redis.RedisError:
            return depth  # Redis down: no figure rather than a failed scrape
        finally:
            client.close()
        for i, queue in enumerate(queues):
            for state, count in zip(("waiting", "delayed", "dead"), counts[3 * i : 3 * i + 3], strict=True):
                depth.add_metric([queue, state], count)
        return depth


@get("/metrics", opt={"permission": Permission.PUBLIC}, sync_to_thread=True, include_in_schema=False)
def metrics(db: NamedDependency[Database], settings: NamedDependency[Settings]) -> Response[bytes]:
    """Prometheus scrape: the process's own metrics, then the engine's."""
    engine = CollectorRegistry()
    engine.register(EngineCollector(db, settings))
    return Response(generate_latest(REGISTRY) + generate_latest(engine), media_type=CONTENT_TYPE)
