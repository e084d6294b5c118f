"""The one place the Dramatiq broker is built and set; `workers.actors` sets it before declaring actors.

Run messages carry only a run id; the run row says what to do. Retries,
time limits and age limits are Conveyor's own (persisted on the run), so
Dramatiq's Retries, TimeLimit and AgeLimit middleware are left out on purpose.
"""

from __future__ import annotations

import uuid

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.common import current_millis
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


def enqueue_many(broker: RedisBroker, messages: list[dramatiq.Message]) -> list[str]:
    """Enqueue messages in one Redis round trip; returns each one's broker id.

    Does what `RedisBroker.enqueue` does for an undelayed message (a fresh
    `redis_message_id`, the `enqueue` command of Dramatiq's dispatch script),
    but through a pipeline: the relay sends a claimed batch at once instead of
    one round trip per run. Conveyor's broker has no enqueue middleware to call.
    """
    if not messages:
        return []
    dispatch = broker.scripts["dispatch"]
    pipe = broker.client.pipeline(transaction=False)
    ids = []
    for message in messages:
        redis_id = str(uuid.uuid4())
        ids.append(redis_id)
        encoded = message.copy(options={"redis_message_id": redis_id}).encode()
        args = [
            "enqueue",
            current_millis(),
            message.queue_name,
            broker.broker_id,
            broker.heartbeat_timeout,
            broker.dead_message_ttl,
            0,
            broker._max_unpack_size(),
            redis_id,
            encoded,
        ]
        dispatch(keys=[broker.namespace], args=args, client=pipe)
    pipe.execute()
    return ids


def messages_key(broker: RedisBroker, queue: str) -> str:
    """The Redis hash in which the broker keeps a queue's not-yet-acked messages."""
    return f"{broker.namespace}:{queue}.msgs"


def setup_broker(settings: Settings | None = None) -> RedisBroker:
    """Build the broker and make it Dramatiq's global one; call before declaring actors."""
    broker = build_broker(settings or get_settings())
    dramatiq.set_broker(broker)
    return broker
