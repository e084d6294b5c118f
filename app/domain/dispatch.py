"""Sending runs to the broker: the message Dramatiq reads, and the eager send right after a submit commits.

A run reaches the broker in two ways:

- the scheduler's relay sends every due outbox row (scheduler/relay.py), through
  `dispatch_outbox`, which deletes the row and marks the run QUEUED (event
  `dispatched`) before the message is sent;
- the API sends the runs it has just committed at once (`EagerSender`), saving
  the relay hop (NOTIFY, wake, claim) and two transactions on the way to a
  worker: its submit inserts them QUEUED, with their message ids and the
  `dispatched` event, and no outbox row (`insert_runs` with a dispatch actor).
  If the send fails, the runs go back into the outbox; if the API dies before
  it, the reaper finds QUEUED runs whose message the broker does not hold and
  sends them again. A message sent twice is harmless: only one start can win.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from typing import Any, Protocol

import msgspec
import redis
from dramatiq.common import current_millis
from sqlalchemy import Engine

from app.core.states import RunStatus, sources
from app.db.queries import query
from app.domain.lanes import RUN_ACTOR, actor_for
from app.redis_link import RedisLink, redis_unreachable, short_waits

logger = logging.getLogger(__name__)

#: A batch the broker refused is due again after this pause.
RETRY_AFTER_SECONDS = 1.0
QUEUE_FROM = sources(RunStatus.QUEUED)
_encode = msgspec.json.Encoder().encode


class BrokerTarget(Protocol):
    """What sending needs of a Dramatiq Redis broker (a RedisBroker is one)."""

    client: redis.Redis
    namespace: str
    broker_id: str


class RunMessage(msgspec.Struct, kw_only=True):
    """A Dramatiq message for one run, in the field layout `dramatiq.Message.decode` reads."""

    queue_name: str
    actor_name: str = RUN_ACTOR  # or the bulk lane's (app/domain/lanes.py)
    args: tuple[str]
    kwargs: dict[str, Any] = msgspec.field(default_factory=dict)
    options: dict[str, str]
    message_id: str
    message_timestamp: int


def broker_namespace(redis_namespace: str) -> str:
    """The Redis key prefix of Conveyor's Dramatiq broker."""
    return f"{redis_namespace}:dramatiq"


def wake_channel(broker: BrokerTarget, queue: str) -> str:
    """The Redis channel on which a send tells idle consumers of `queue` to fetch now."""
    return f"{broker.namespace}:{queue}.wake"


def messages_key(broker: BrokerTarget, queue: str) -> str:
    """The Redis hash in which the broker keeps a queue's not-yet-acked messages."""
    return f"{broker.namespace}:{queue}.msgs"


def enqueue_runs(broker: BrokerTarget, runs: list[tuple[str, str, str]]) -> None:
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
                actor_name=actor_for(queue),
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


def sender_link(logger: logging.Logger) -> RedisLink:
    """How a sender of runs (the relay, the API's eager send) says that Redis is lost, and back."""
    return RedisLink(
        logger,
        while_lost="runs go back into the outbox and are sent again when it is back",
        when_back="sending runs again",
        deferred="run sends put off",
    )


def send_dispatched(engine: Engine, broker: BrokerTarget, rows: list[Any], *, link: RedisLink) -> bool:
    """Send the runs a dispatch statement just marked QUEUED; if the broker refuses, back into the outbox.

    Returns whether they were sent. A run whose row could not be put back either is QUEUED without a
    message: the reaper finds it (it asks the broker for the message id) and sends it again. A lost Redis
    is said through `link` (once per outage); any other refusal each time.
    """
    if not rows:
        return True  # nothing asked of Redis: not a sign that it is back
    try:
        enqueue_runs(broker, [(r.broker_queue, str(r.id), r.broker_message_id) for r in rows])
        link.ok()
        return True
    except redis.RedisError as exc:
        if redis_unreachable(exc):
            link.lost(exc, deferred=len(rows))
        else:
            logger.warning("the broker refused %d runs; they go back into the outbox: %s", len(rows), exc)
    try:
        with engine.begin() as connection:
            connection.execute(
                query("put_back_outbox"),
                {
                    "run_ids": [r.id for r in rows],
                    "queues": [r.broker_queue for r in rows],
                    "priorities": [r.priority for r in rows],
                    "after_seconds": RETRY_AFTER_SECONDS,
                },
            )
    except Exception:
        logger.exception("could not put %d runs back into the outbox; the reaper will resend them", len(rows))
    return False


class ApiBroker:
    """The API's handle on the broker's Redis keys: enough to send, with none of Dramatiq's consumer machinery."""

    def __init__(self, redis_url: str, redis_namespace: str) -> None:
        self.client = redis.Redis.from_url(redis_url, **short_waits())
        self.namespace = broker_namespace(redis_namespace)
        self.broker_id = f"api-{uuid.uuid4()}"


class EagerSender:
    """Sends the runs a request has just committed QUEUED (`insert_runs` with `actor`), not waiting for the relay."""

    def __init__(self, *, engine: Engine, broker: BrokerTarget, actor: str) -> None:
        self.engine = engine
        self.broker = broker
        #: Who dispatched the runs, in their `dispatched` event (`api:<host>:<pid>`).
        self.actor = actor
        self.link = sender_link(logger)

    def send(self, runs: Sequence[Any]) -> int:
        """Send the messages of `runs` (rows or Run objects) that were committed QUEUED with a message id.

        Never raises: a refused send puts the runs back into the outbox, and a run whose message is lost
        anyway is sent again by the reaper. Returns how many were sent.
        """
        sendable = [run for run in runs if run.status == RunStatus.QUEUED.value and run.broker_message_id]
        if not sendable:
            return 0
        return len(sendable) if send_dispatched(self.engine, self.broker, sendable, link=self.link) else 0
