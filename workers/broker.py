"""The one place the Dramatiq broker is built and set; `workers.actors` sets it before declaring actors.

Run messages carry only a run id; the run row says what to do. Retries,
time limits and age limits are Conveyor's own (persisted on the run), so
Dramatiq's Retries, TimeLimit and AgeLimit middleware are left out on purpose.
"""

from __future__ import annotations

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.middleware import CurrentMessage

from app.settings import Settings, get_settings

#: Name of the actor that executes runs.
RUN_ACTOR = "execute_run"


def build_broker(settings: Settings) -> RedisBroker:
    """A Redis broker whose keys live under Conveyor's Redis namespace."""
    if not settings.redis_url:
        raise RuntimeError("REDIS_URL is not set: run `conveyor up` (embedded Redis) or set REDIS_URL")
    return RedisBroker(
        url=settings.redis_url,
        namespace=f"{settings.redis_namespace}:dramatiq",
        middleware=[CurrentMessage()],
        # Dramatiq re-delivers a dead worker's unacked messages after this (ms);
        # our reaper handles lost runs sooner, from the heartbeats in Postgres.
        heartbeat_timeout=max(15_000, int(settings.lease_seconds * 2000)),
    )


def messages_key(broker: RedisBroker, queue: str) -> str:
    """The Redis hash in which the broker keeps a queue's not-yet-acked messages."""
    return f"{broker.namespace}:{queue}.msgs"


def setup_broker(settings: Settings | None = None) -> RedisBroker:
    """Build the broker and make it Dramatiq's global one; call before declaring actors."""
    broker = build_broker(settings or get_settings())
    dramatiq.set_broker(broker)
    return broker
