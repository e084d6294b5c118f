"""The one place the Dramatiq broker is built and set; `workers.actors` sets it before declaring actors.

Run messages carry only a run id; the run row says what to do. Retries,
time limits and age limits are Conveyor's own (persisted on the run), so
Dramatiq's Retries, TimeLimit and AgeLimit middleware are left out on purpose.
"""

from __future__ import annotations

import dramatiq
import redis
from dramatiq.brokers.redis import RedisBroker, _RedisConsumer
from dramatiq.errors import ConnectionClosed
from dramatiq.middleware import CurrentMessage

from app.domain.dispatch import RUN_ACTOR, broker_namespace, enqueue_runs, messages_key, wake_channel
from app.settings import Settings, get_settings

__all__ = ["RUN_ACTOR", "build_broker", "enqueue_runs", "messages_key", "setup_broker", "wake_channel"]


def build_broker(settings: Settings) -> RedisBroker:
    """A Redis broker whose keys live under Conveyor's Redis namespace."""
    if not settings.redis_url:
        raise RuntimeError("REDIS_URL is not set: run `conveyor up` (embedded Redis) or set REDIS_URL")
    return WakingRedisBroker(
        url=settings.redis_url,
        namespace=broker_namespace(settings.redis_namespace),
        middleware=[CurrentMessage()],
        # Dramatiq re-delivers a dead worker's unacked messages after this (ms);
        # our reaper handles lost runs sooner, from the heartbeats in Postgres.
        heartbeat_timeout=max(15_000, int(settings.lease_seconds * 2000)),
    )


class WakingRedisBroker(RedisBroker):
    """Dramatiq's Redis broker whose idle consumers wake when the relay sends, instead of polling blindly."""

    @property
    def consumer_class(self):  # type: ignore[no-untyped-def]
        return _WakingConsumer


class _WakingConsumer(_RedisConsumer):
    """Waits for a wake message (published with every send) instead of sleeping between empty fetches.

    The consumer subscribes before its first fetch and drains the wake messages
    before each fetch, so a send that lands after an empty fetch is never
    missed; the wait stays bounded by the idle timeout, because Dramatiq's
    consumer thread also sends the acks between two calls.
    """

    def __init__(self, broker, queue_name, prefetch, timeout):  # type: ignore[no-untyped-def]
        super().__init__(broker, queue_name, prefetch, timeout)
        self._wake = broker.client.pubsub(ignore_subscribe_messages=True)
        self._wake.subscribe(wake_channel(broker, queue_name))

    def __next__(self):  # type: ignore[no-untyped-def]
        if self.message_cache or self.outstanding_message_count >= self.prefetch:
            return super().__next__()
        try:
            while self._wake.get_message(timeout=0.0) is not None:
                pass  # wake messages of sends this fetch will see anyway
            self.message_cache = self.broker.do_fetch(self.queue_name, self.prefetch - self.outstanding_message_count)
            if not self.message_cache:
                self._wake.get_message(timeout=self.timeout / 1000)
                return None
        except redis.ConnectionError as exc:
            raise ConnectionClosed(exc) from None
        return super().__next__()

    def close(self) -> None:
        try:
            self._wake.close()
        finally:
            super().close()


def setup_broker(settings: Settings | None = None) -> RedisBroker:
    """Build the broker and make it Dramatiq's global one; call before declaring actors."""
    broker = build_broker(settings or get_settings())
    dramatiq.set_broker(broker)
    return broker
