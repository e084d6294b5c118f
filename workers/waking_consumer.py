"""The consumer each of a worker's queues is read by: waits for a wake or a freed slot instead of polling, sends
its acks with its next fetch, and rides out a lost Redis saying it once (the broker's RedisLink)."""

from __future__ import annotations

import threading
import time
from collections import deque
from contextlib import suppress

import dramatiq
import redis
from dramatiq.brokers.redis import _RedisConsumer

from app.domain.dispatch import wake_channel
from app.redis_link import redis_unreachable

#: The most messages a full consumer waits to be free before it fetches again (the delay queues prefetch thousands).
REFILL_MAX = 16


#: How often a nack is tried again while Redis is lost (Dramatiq's POST_PROCESS_MESSAGE_RETRY_DELAY_SECS).
NACK_RETRY_SECONDS = 1.0


class WakingConsumer(_RedisConsumer):
    """Waits for what it needs instead of polling: a send (wake message) when idle, an ack when full.

    Idle (nothing cached, room to prefetch), it waits on the queue's wake channel, which every send
    publishes to. It subscribes before its first fetch and drains the wake messages before each fetch,
    so a send that lands after an empty fetch is never missed. Full (as many messages out as it may
    prefetch), it waits until a worker thread acks or nacks one, instead of Dramatiq's blind back-off
    sleeps, so a freed thread gets its next message at once. Acks are only noted by the worker threads
    and sent by this thread, all at once, in the same script call as its next fetch (and on close).

    Full means more out than its refill mark: it fetches again once a quarter of its prefetch (up to
    `REFILL_MAX` messages) is free, not at every freed slot, so one fetch and one ack call serve several
    messages while the threads still have work queued; a consumer prefetching fewer than 4 refills at once.

    Either wait is bounded by the consumer's timeout (`CONVEYOR_WORKER_POLL_MS`, 1 s): it bounds how soon
    a message that came without a wake (Dramatiq moving back a dead worker's, or a wake lost with a Redis
    reconnect) is seen, how late the acks noted meanwhile are sent, and how soon a shutdown is noticed.
    """

    def __init__(self, broker, queue_name, prefetch, timeout):  # type: ignore[no-untyped-def]
        super().__init__(broker, queue_name, prefetch, timeout)
        self._acks = broker.pending_acks.setdefault(queue_name, deque())
        #: Subscribed before the first fetch (in __next__, where a lost connection is handled, not here: an error
        #: in the constructor reaches Dramatiq as an "unexpected error"); once subscribed, redis-py resubscribes
        #: on each reconnect.
        self._wake = broker.client.pubsub(ignore_subscribe_messages=True)
        self._channel = wake_channel(broker, queue_name)
        #: A fetch is due once no more than this many messages are out (cached, or taken by the worker threads).
        self.refill_at = prefetch - max(1, min(prefetch // 4, REFILL_MAX))
        #: Set by worker threads when an ack or nack brings the messages out down to the refill mark.
        self._slot_freed = threading.Event()
        #: The last fetch got fewer messages than it asked for: the queue was empty then, so the next fetch
        #: waits for a wake (a send since has left one) instead of asking again at once.
        self._queue_was_empty = False

    def ack(self, message) -> None:  # type: ignore[no-untyped-def]
        """Note the ack (a worker thread calls this); the consumer thread sends it before its next fetch."""
        self._acks.append(message.options["redis_message_id"])
        self.queued_message_ids.discard(message.message_id)
        if self.outstanding_message_count <= self.refill_at:
            self._slot_freed.set()

    def nack(self, message):  # type: ignore[no-untyped-def]
        """Reject a failed message (into the dead-letter set) once Redis answers: a lost Redis is said once (the link)
        and the nack tried again every second, not Dramatiq's warning a second per failed message until it is back.
        The message stays in this worker's ack set meanwhile, neither lost nor delivered again."""
        try:
            while True:
                try:
                    self.broker.do_nack(self.queue_name, message.options["redis_message_id"])
                except redis.RedisError as exc:
                    if not redis_unreachable(exc):
                        raise
                    self.broker.link.lost(exc)
                    time.sleep(NACK_RETRY_SECONDS)
                    continue
                self.broker.link.ok()
                return
        finally:
            self.queued_message_ids.discard(message.message_id)
            self._slot_freed.set()

    def __next__(self):  # type: ignore[no-untyped-def]
        if self.message_cache:
            return super().__next__()
        if self.outstanding_message_count > self.refill_at:
            self._slot_freed.clear()
            if self.outstanding_message_count > self.refill_at:  # an ack since the check has set it again
                self._slot_freed.wait(self.timeout / 1000)
            return None
        try:
            return self._fetch()
        except redis.RedisError as exc:
            if not redis_unreachable(exc):
                raise
            # Redis is down or unreachable: said once (RedisLink), retried after the poll timeout, instead of
            # Dramatiq's critical traceback and consumer restart for each failed call of each consumer thread
            self.broker.link.lost(exc)
            with suppress(redis.RedisError):
                self._wake.reset()  # a fresh connection and subscription next time
            time.sleep(self.timeout / 1000)
            return None

    def _fetch(self):  # type: ignore[no-untyped-def]
        """The next message: fetched (the acks noted sent with it), or None after waiting for a wake."""
        if not self._wake.subscribed:
            self._wake.subscribe(self._channel)
        if self._queue_was_empty:
            # Not another fetch at once (its Redis call and its Python work would compete with the worker
            # thread just handed the last message, for the GIL, while it starts that run): the wakes were
            # drained before that fetch, so a send since has left one and this wait ends at once.
            self._queue_was_empty = False
            self._wait_for_wake()
            return None
        while self._wake.get_message(timeout=0.0) is not None:
            pass  # wake messages of sends this fetch will see anyway
        asked = min(self.prefetch - self.outstanding_message_count, self.broker._max_unpack_size())
        self.message_cache = self.broker.ack_and_fetch(self.queue_name, asked)
        self.broker.link.ok()
        self._queue_was_empty = len(self.message_cache) < asked
        if not self.message_cache:
            self._queue_was_empty = False
            self._wait_for_wake()
            return None
        return super().__next__()

    def _wait_for_wake(self) -> None:
        """Wait for a send's wake message, at most the consumer's timeout.

        get_message answers None also when what it read was the subscription's own confirmation (which can
        arrive after the first fetch), so one call may end the wait at once: wait on until a wake or the end.
        """
        deadline = time.monotonic() + self.timeout / 1000
        while (left := deadline - time.monotonic()) > 0:
            if self._wake.get_message(timeout=left) is not None:
                return

    def requeue_cached(self) -> None:
        """Put back the messages fetched but never handed to a worker thread (a fetch takes several; the consumer
        stops between two): in the queue at once, rather than once Redis deems this worker dead."""
        cached, self.message_cache = self.message_cache, []
        ids = [dramatiq.Message.decode(data).options["redis_message_id"] for data in cached if data is not None]
        if ids:
            self.broker.do_requeue(self.queue_name, *ids)

    def close(self) -> None:
        # unsent, the acks' messages are re-sent once this worker is gone; their runs are not QUEUED by then
        with suppress(redis.RedisError):
            self.broker.send_acks(self.queue_name)
        with suppress(redis.RedisError):
            self.requeue_cached()
        try:
            self._wake.close()
        finally:
            super().close()
