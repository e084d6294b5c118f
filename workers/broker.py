"""The one place the Dramatiq broker is built and set; `workers.actors` sets it before declaring actors.

Run messages carry only a run id; the run row says what to do. Retries,
time limits and age limits are Conveyor's own (persisted on the run), so
Dramatiq's Retries, TimeLimit and AgeLimit middleware are left out on purpose.
"""

from __future__ import annotations

from typing import Any

import dramatiq
import msgspec
import redis
from dramatiq.brokers.redis import RedisBroker, _RedisConsumer
from dramatiq.common import current_millis
from dramatiq.errors import ConnectionClosed
from dramatiq.middleware import CurrentMessage

from app.settings import Settings, get_settings

#: Name of the actor that executes runs.
RUN_ACTOR = "execute_run"
_encode = msgspec.json.Encoder().encode


def build_broker(settings: Settings) -> RedisBroker:
    """A Redis broker whose keys live under Conveyor's Redis namespace."""
    if not settings.redis_url:
        raise RuntimeError("REDIS_URL is not set: run `conveyor up` (embedded Redis) or set REDIS_URL")
    return WakingRedisBroker(
        url=settings.redis_url,
        namespace=f"{settings.redis_namespace}:dramatiq",
        middleware=[CurrentMessage()],
        # Dramatiq re-delivers a dead worker's unacked messages after this (ms);
        # our reaper handles lost runs sooner, from the heartbeats in Postgres.
        heartbeat_timeout=max(15_000, int(settings.lease_seconds * 2000)),
    )


class RunMessage(msgspec.Struct, kw_only=True):
    """A Dramatiq message for one run, in the field layout `dramatiq.Message.decode` reads."""

    queue_name: str
    actor_name: str = RUN_ACTOR
    args: tuple[str]
    kwargs: dict[str, Any] = msgspec.field(default_factory=dict)
    options: dict[str, str]
    message_id: str
    message_timestamp: int


def enqueue_runs(broker: RedisBroker, runs: list[tuple[str, str, str]]) -> None:
    """Send one message per (queue, run id, message id) in one Redis round trip.

    Writes what Dramatiq's `enqueue` script writes (the message in the queue's
    `.msgs` hash, its id at the tail of the queue list, the sender's heartbeat),
    but with one HSET and one RPUSH per queue for the whole batch instead of one
    script call per message: the relay sends thousands of runs due in the same
    second. The HSET goes first on the same connection, so a worker never pops
    an id whose message is not there yet. Conveyor's broker has no enqueue
    middleware to call.
    """
    if not runs:
        return
    now = current_millis()
    by_queue: dict[str, tuple[list[bytes], list[str]]] = {}
    for queue, run_id, message_id in runs:
        payload = _encode(
            RunMessage(
                queue_name=queue,
                args=(run_id,),
                options={"redis_message_id": message_id},
                message_id=message_id,
                message_timestamp=now,
            )
        )
        fields, order = by_queue.setdefault(queue, ([], []))
        fields += (message_id.encode(), payload)
        order.append(message_id)
    pipe = broker.client.pipeline(transaction=False)
    pipe.zadd(f"{broker.namespace}:__heartbeats__", {broker.broker_id: now})
    for queue, (fields, order) in by_queue.items():
        pipe.execute_command("HSET", messages_key(broker, queue), *fields)
        pipe.rpush(f"{broker.namespace}:{queue}", *order)
        pipe.publish(wake_channel(broker, queue), b"")
    pipe.execute()


def wake_channel(broker: RedisBroker, queue: str) -> str:
    """The Redis channel on which a send tells idle consumers of `queue` to fetch now."""
    return f"{broker.namespace}:{queue}.wake"


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


def messages_key(broker: RedisBroker, queue: str) -> str:
    """The Redis hash in which the broker keeps a queue's not-yet-acked messages."""
    return f"{broker.namespace}:{queue}.msgs"


def setup_broker(settings: Settings | None = None) -> RedisBroker:
    """Build the broker and make it Dramatiq's global one; call before declaring actors."""
    broker = build_broker(settings or get_settings())
    dramatiq.set_broker(broker)
    return broker
