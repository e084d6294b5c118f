"""The one place the Dramatiq broker is built and set; `workers.actors` sets it before declaring actors.

Run messages carry only a run id; the run row says what to do. Retries,
time limits and age limits are Conveyor's own (persisted on the run), so
Dramatiq's Retries, TimeLimit and AgeLimit middleware are left out on purpose, and so is CurrentMessage
(nothing reads the current message: an actor gets its run id as its argument).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from typing import Any

import dramatiq
import msgspec
import redis
from dramatiq.brokers.redis import RedisBroker
from dramatiq.common import current_millis, dq_name
from dramatiq.errors import DecodeError
from dramatiq.middleware import Middleware, MiddlewareError
from dramatiq.worker import ConsumerThread

from app.domain.dispatch import broker_namespace, enqueue_runs, messages_key, wake_channel
from app.domain.lanes import RUN_ACTOR
from app.redis_link import RedisLink, redis_unreachable
from app.settings import Settings, get_settings
from workers.waking_consumer import WakingConsumer

__all__ = [
    "RUN_ACTOR",
    "build_broker",
    "enqueue_runs",
    "messages_key",
    "requeue_dead_workers_messages",
    "setup_broker",
    "wake_channel",
]


#: Dramatiq's `ack` script for many messages in one call (KEYS: the worker's ack set of the queue, the queue's
#: message hash; ARGV: message ids): each id leaves the ack set and, if it was there, the hash.
_ACK_MANY = """
for i = 1, #ARGV do
    if redis.call("srem", KEYS[1], ARGV[i]) > 0 then
        redis.call("hdel", KEYS[2], ARGV[i])
    end
end
return #ARGV
"""

#: Dramatiq's `fetch` with the noted acks and the heartbeat in the same call (KEYS: the heartbeats zset, the
#: queue list, the queue's message hash, the worker's ack set of the queue; ARGV: now in ms, the broker id, how
#: many to fetch, then the ids to ack). Acks first, as `_ACK_MANY`; then up to that many ids move from the queue
#: to the ack set and their messages are returned, as Dramatiq's dispatch.lua `fetch` does (minus the
#: maintenance, which `WakingConsumer` leaves to Dramatiq's own script at Dramatiq's odds).
_ACK_AND_FETCH = """
redis.call("zadd", KEYS[1], ARGV[1], ARGV[2])
for i = 4, #ARGV do
    if redis.call("srem", KEYS[4], ARGV[i]) > 0 then
        redis.call("hdel", KEYS[3], ARGV[i])
    end
end
local ids = {}
for i = 1, tonumber(ARGV[3]) do
    local id = redis.call("lpop", KEYS[2])
    if not id then
        break
    end
    ids[i] = id
end
if #ids == 0 then
    return {}
end
redis.call("sadd", KEYS[4], unpack(ids))
return redis.call("hmget", KEYS[3], unpack(ids))
"""


def ack_set_key(broker: RedisBroker, queue: str) -> str:
    """The Redis set of the messages of `queue` this broker (worker process) fetched and has not acked yet."""
    return f"{broker.namespace}:__acks__.{broker.broker_id}.{queue}"


def build_broker(settings: Settings) -> RedisBroker:
    """A Redis broker whose keys live under Conveyor's Redis namespace."""
    if not settings.redis_url:
        raise RuntimeError("REDIS_URL is not set: run `conveyor up` (embedded Redis) or set REDIS_URL")
    return WakingRedisBroker(
        url=settings.redis_url,
        namespace=broker_namespace(settings.redis_namespace),
        middleware=[],
        # Dramatiq re-delivers a dead worker's unacked messages after this (ms);
        # our reaper handles lost runs sooner, from the heartbeats in Postgres.
        heartbeat_timeout=max(15_000, int(settings.lease_seconds * 2000)),
    )


def requeue_dead_workers_messages(broker: RedisBroker, queue: str) -> None:
    """Dramatiq's queue maintenance for `queue` and its delay queue, now: dead workers' unacked messages go back.

    A worker killed with messages fetched but not started (its prefetch) leaves them in its ack set; Dramatiq
    moves them back only in a maintenance pass, which it runs at random in 0.1% of fetches, and only once the
    worker's heartbeat is older than `heartbeat_timeout`. An idle system may fetch a few times a second, so
    those runs stayed QUEUED for minutes, while the reaper saw their messages held and left them alone.
    The reaper calls this for the queues of the runs it finds waiting too long. Dramatiq's own dispatch
    script does the work (a `requeue` of no message ids, with maintenance asked for).
    """
    dispatch = broker.scripts["dispatch"]
    for name in (queue, dq_name(queue)):
        dispatch(
            keys=[broker.namespace],
            args=[
                "requeue",
                current_millis(),
                name,
                broker.broker_id,
                broker.heartbeat_timeout,
                broker.dead_message_ttl,
                1,  # do the maintenance
                broker._max_unpack_size(),
            ],
        )


class WakingRedisBroker(RedisBroker):
    """Dramatiq's Redis broker whose idle consumers wake when the relay sends, instead of polling blindly.

    Its consumers also ack in bulk: a worker thread only notes the ack, and the consumer thread sends every
    noted ack with its next fetch, in the fetch's own script call (Dramatiq sends each in a round trip of
    its own, on the worker thread). An ack only tells Redis not to deliver the message again; a run's
    message is done with once the run has started (a redelivery finds it not QUEUED), so a few milliseconds
    later costs nothing.
    """

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        #: Per hook name ("before_ack"), the bound hooks of the middleware that define it, in call order.
        self._hooks: dict[str, list[Any]] = {}
        super().__init__(*args, **kwargs)
        #: Redis ids of processed messages not acked yet, by queue (the broker's, so a restarted consumer sends them).
        self.pending_acks: dict[str, deque[bytes]] = {}
        self._ack_many = self.client.register_script(_ACK_MANY)
        self._ack_and_fetch = self.client.register_script(_ACK_AND_FETCH)
        #: Whether Redis answers, said once per outage for every consumer of this process.
        self.link = RedisLink(
            logging.getLogger("workers.redis"),
            while_lost="the consumers retry at their poll interval; queued runs wait",
            when_back="the consumers fetch again",
        )

    @property
    def consumer_class(self):  # type: ignore[no-untyped-def]
        return WakingConsumer

    def add_middleware(self, middleware: Middleware, **kwargs: Any) -> None:
        super().add_middleware(middleware, **kwargs)
        self._hooks = {}

    def _hooks_of(self, name: str) -> list[Any]:
        """The hooks `name` calls: only middleware that override it (most hooks of most middleware are no-ops)."""
        hooks = self._hooks.get(name)
        if hooks is None:
            order = self.middleware if name.startswith("before_") else reversed(self.middleware)
            base = getattr(Middleware, name, None)
            hooks = self._hooks[name] = [getattr(m, name) for m in order if getattr(type(m), name, base) is not base]
        return hooks

    def emit_before(self, signal: str, *args: Any, **kwargs: Any) -> None:
        """Dramatiq's emit_before, calling only the middleware that hook `signal` (four emits per message)."""
        for hook in self._hooks_of("before_" + signal):
            try:
                hook(self, *args, **kwargs)
            except MiddlewareError:
                raise
            except Exception:
                self.logger.critical("Unexpected failure in before_%s of %r.", signal, hook.__self__, exc_info=True)

    def emit_after(self, signal: str, *args: Any, **kwargs: Any) -> None:
        """Dramatiq's emit_after (middleware in reverse order, failures logged), calling only those that hook it."""
        for hook in self._hooks_of("after_" + signal):
            try:
                hook(self, *args, **kwargs)
            except Exception:
                self.logger.critical("Unexpected failure in after_%s of %r.", signal, hook.__self__, exc_info=True)

    def enqueue(self, message: dramatiq.Message, *, delay: int | None = None) -> dramatiq.Message:
        """Dramatiq's enqueue; on a consumer thread (moving a delayed message that came due to its queue), a lost
        Redis is waited out as the consumers wait it out, not a critical traceback, a consumer restart and a message
        left in the delay queue's ack set. A stopping consumer thread gives up (Redis re-delivers it later)."""
        thread = threading.current_thread()
        if not isinstance(thread, ConsumerThread):
            return super().enqueue(message, delay=delay)
        while True:
            try:
                sent = super().enqueue(message, delay=delay)
            except redis.RedisError as exc:
                if not redis_unreachable(exc) or not thread.running:
                    raise
                self.link.lost(exc)
                time.sleep(thread.worker_timeout / 1000)
                continue
            self.link.ok()
            return sent

    def _take_acks(self, queue_name: str) -> tuple[deque[bytes], list[bytes]]:
        """Take every noted ack of `queue_name` (the deque, to put them back if Redis refuses, and the ids)."""
        pending = self.pending_acks.setdefault(queue_name, deque())
        ids: list[bytes] = []
        while pending:
            try:
                ids.append(pending.popleft())
            except IndexError:  # another thread took the last one
                break
        return pending, ids

    def send_acks(self, queue_name: str) -> None:
        """Ack every noted message of `queue_name` in one script call (what Dramatiq's ack does, for each)."""
        pending, ids = self._take_acks(queue_name)
        if not ids:
            return
        try:
            self._ack_many(keys=[ack_set_key(self, queue_name), messages_key(self, queue_name)], args=ids)
        except redis.RedisError:
            pending.extendleft(reversed(ids))  # sent with the next fetch, or by close()
            raise

    def ack_and_fetch(self, queue_name: str, count: int) -> list[bytes | None]:
        """Send the noted acks of `queue_name` and fetch up to `count` messages, in one script call.

        Dramatiq's `do_fetch` after `send_acks` would be two round trips and its much larger dispatch script;
        a fetch also runs Dramatiq's queue maintenance (dead workers' messages back in the queue, expired dead
        letters out) once in `maintenance_chance` calls, so at those odds this takes that road instead.
        """
        if self._should_do_maintenance("fetch"):
            self.send_acks(queue_name)
            return self.do_fetch(queue_name, count)  # type: ignore[no-any-return]
        pending, ids = self._take_acks(queue_name)
        keys = [
            f"{self.namespace}:__heartbeats__",
            f"{self.namespace}:{queue_name}",  # the queue list, as Dramatiq (and enqueue_runs) name it
            messages_key(self, queue_name),
            ack_set_key(self, queue_name),
        ]
        try:
            return self._ack_and_fetch(keys=keys, args=[current_millis(), self.broker_id, count, *ids])  # type: ignore[no-any-return]
        except redis.RedisError:
            pending.extendleft(reversed(ids))  # sent with the next fetch, or by close()
            raise


class MsgspecEncoder(dramatiq.Encoder):
    """Dramatiq's JSON message encoding, by msgspec: the same JSON both ways, decoded in a tenth of json's time.

    Reads what the API and relay write (`RunMessage`, app/domain/dispatch.py) and what Dramatiq writes itself
    (requeues, delay-queue moves), into the plain dict `dramatiq.Message.decode` wants.
    """

    def __init__(self) -> None:
        self._encode = msgspec.json.Encoder().encode
        self._decode = msgspec.json.Decoder().decode

    def encode(self, data: dict[str, Any]) -> bytes:
        return self._encode(data)

    def decode(self, data: bytes) -> dict[str, Any]:
        try:
            return self._decode(data)  # type: ignore[no-any-return]
        except msgspec.DecodeError as exc:
            raise DecodeError(f"failed to decode message {data!r}", data, exc) from None


def setup_broker(settings: Settings | None = None) -> RedisBroker:
    """Build the broker and make it (and the msgspec encoder) Dramatiq's global ones; call before declaring actors."""
    broker = build_broker(settings or get_settings())
    dramatiq.set_encoder(MsgspecEncoder())
    dramatiq.set_broker(broker)
    return broker
