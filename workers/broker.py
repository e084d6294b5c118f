"""The one place the Dramatiq broker is built and set; `workers.actors` sets it before declaring actors.

Run messages carry only a run id; the run row says what to do. Retries,
time limits and age limits are Conveyor's own (persisted on the run), so
Dramatiq's Retries, TimeLimit and AgeLimit middleware are left out on purpose.
"""

from __future__ import annotations

import threading

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
    """Waits for what it needs instead of polling: a send (wake message) when idle, an ack when full.

    Idle (nothing cached, room to prefetch), it waits on the queue's wake channel, which every send
    publishes to. It subscribes before its first fetch and drains the wake messages before each fetch,
    so a send that lands after an empty fetch is never missed. Full (as many messages out as it may
    prefetch), it waits until a worker thread acks or nacks one, instead of Dramatiq's blind back-off
    sleeps, so a freed thread gets its next message at once. Either wait is bounded by the consumer's
    timeout (`CONVEYOR_WORKER_POLL_MS`): it only bounds how soon a message that arrives without a wake
    (one Dramatiq moves back from a dead worker) is seen, and how soon the thread notices a shutdown.
    """

    def __init__(self, broker, queue_name, prefetch, timeout):  # type: ignore[no-untyped-def]
        super().__init__(broker, queue_name, prefetch, timeout)
        self._wake = broker.client.pubsub(ignore_subscribe_messages=True)
        self._wake.subscribe(wake_channel(broker, queue_name))
        #: Set by worker threads when they ack or nack: a prefetch slot is free.
        self._slot_freed = threading.Event()

    def ack(self, message):  # type: ignore[no-untyped-def]
        try:
            super().ack(message)
        finally:
            self._slot_freed.set()

    def nack(self, message):  # type: ignore[no-untyped-def]
        try:
            super().nack(message)
        finally:
            self._slot_freed.set()

    def __next__(self):  # type: ignore[no-untyped-def]
        if self.message_cache:
            return super().__next__()
        if self.outstanding_message_count >= self.prefetch:
            self._slot_freed.clear()
            if self.outstanding_message_count >= self.prefetch:  # an ack since the check has set it again
                self._slot_freed.wait(self.timeout / 1000)
            return None
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
