"""The worker's broker consumer waits for a send when idle and for an ack when full, not for its poll timeout."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator

import msgspec
import pytest
from dramatiq.brokers.redis import MAINTENANCE_SCALE

from app.domain.dispatch import enqueue_runs, messages_key
from app.settings import Settings
from workers.broker import ack_set_key, build_broker

#: The consumers' poll timeout here: a test that waited for it instead of a wake would take this long.
POLL_MS = 20_000


@pytest.fixture
def broker(settings: Settings, redis_client: object) -> Iterator[object]:
    built = build_broker(
        msgspec.structs.replace(settings, redis_namespace=f"{settings.redis_namespace}-{uuid.uuid4().hex[:6]}")
    )
    yield built
    built.flush_all()
    built.close()


def send_later(broker: object, queue: str, delay: float) -> threading.Thread:
    def send() -> None:
        time.sleep(delay)  # the consumer must be waiting by then
        enqueue_runs(broker, [(queue, str(uuid.uuid4()), str(uuid.uuid4()))])  # type: ignore[arg-type]

    thread = threading.Thread(target=send)
    thread.start()
    return thread


def test_an_idle_consumer_wakes_when_a_run_is_sent(broker, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    consumer = broker.consume(settings.queue, prefetch=2, timeout=POLL_MS)
    try:
        sender = send_later(broker, settings.queue, 0.3)
        started = time.monotonic()
        assert next(consumer) is None  # the empty fetch, then the wait the send ends
        waited = time.monotonic() - started
        sender.join()
        message = next(consumer)
        assert message is not None
        assert waited < POLL_MS / 1000 / 2, f"waited {waited:.1f} s: the send did not wake the consumer"
    finally:
        consumer.close()


def test_a_consumer_that_emptied_the_queue_waits_for_the_next_send_instead_of_fetching_again(
    broker, settings: Settings
) -> None:  # type: ignore[no-untyped-def]
    enqueue_runs(broker, [(settings.queue, str(uuid.uuid4()), str(uuid.uuid4()))])
    consumer = broker.consume(settings.queue, prefetch=2, timeout=POLL_MS)
    try:
        assert next(consumer) is not None  # one of the two asked for: the queue is empty now
        fetches: list[object] = []
        fetch = broker.ack_and_fetch
        broker.ack_and_fetch = lambda *args: fetches.append(args) or fetch(*args)
        sender = send_later(broker, settings.queue, 0.3)
        started = time.monotonic()
        assert next(consumer) is None  # no fetch at once: the wait, which the send ends
        waited = time.monotonic() - started
        sender.join()
        assert fetches == []
        assert 0.2 < waited < POLL_MS / 1000 / 2, f"waited {waited:.2f} s"
        assert next(consumer) is not None  # the run that send sent
        assert len(fetches) == 1
    finally:
        consumer.close()


def test_a_full_consumer_fetches_again_as_soon_as_a_message_is_acked(broker, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    enqueue_runs(broker, [(settings.queue, str(uuid.uuid4()), str(uuid.uuid4())) for _ in range(2)])
    consumer = broker.consume(settings.queue, prefetch=1, timeout=POLL_MS)
    try:
        first = next(consumer)
        assert first is not None  # prefetch 1: the consumer is now full

        def ack_later() -> None:
            time.sleep(0.3)  # the consumer must be waiting by then
            consumer.ack(first)

        acker = threading.Thread(target=ack_later)
        acker.start()
        started = time.monotonic()
        assert next(consumer) is None  # full: waits for a free slot
        waited = time.monotonic() - started
        acker.join()
        assert next(consumer) is not None  # the second message, fetched into the freed slot
        assert waited < POLL_MS / 1000 / 2, f"waited {waited:.1f} s: the ack did not wake the consumer"
    finally:
        consumer.close()


def test_a_full_consumer_does_not_spin_while_no_slot_frees(broker, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    enqueue_runs(broker, [(settings.queue, str(uuid.uuid4()), str(uuid.uuid4())) for _ in range(2)])
    consumer = broker.consume(settings.queue, prefetch=1, timeout=1500)
    try:
        assert next(consumer) is not None  # full from now on, and nothing acks
        started = time.monotonic()
        assert next(consumer) is None
        # one wait of its poll timeout, not Dramatiq's back-off sleeps of a few ms (a loop of Redis calls)
        assert time.monotonic() - started >= 1.0
    finally:
        consumer.close()


def test_a_full_consumer_fetches_again_once_a_quarter_of_its_prefetch_is_free(broker, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    enqueue_runs(broker, [(settings.queue, str(uuid.uuid4()), str(uuid.uuid4())) for _ in range(12)])
    consumer = broker.consume(settings.queue, prefetch=8, timeout=200)
    try:
        taken = [next(consumer) for _ in range(8)]  # one fetch of 8: full
        assert all(message is not None for message in taken)
        consumer.ack(taken[0])
        assert next(consumer) is None  # 7 out: no fetch for one free slot
        assert consumer.outstanding_message_count == 7
        consumer.ack(taken[1])
        assert next(consumer) is not None  # 6 out: the refill mark, two fetched in one call
        assert consumer.outstanding_message_count == 8
    finally:
        consumer.close()


def test_a_closed_consumer_puts_back_what_it_fetched_but_never_handed_over(broker, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    run_ids = [str(uuid.uuid4()) for _ in range(3)]
    enqueue_runs(broker, [(settings.queue, run_id, str(uuid.uuid4())) for run_id in run_ids])
    stopping = broker.consume(settings.queue, prefetch=3, timeout=200)
    handed = next(stopping)  # one fetch of all three; one handed to a worker thread
    stopping.close()  # stopped before the other two were handed over
    consumer = broker.consume(settings.queue, prefetch=3, timeout=200)
    try:
        again = [next(consumer), next(consumer)]
        assert sorted(message.args[0] for message in again) == sorted(set(run_ids) - {handed.args[0]})
    finally:
        consumer.close()


def held_by_redis(broker, queue: str) -> tuple[set[bytes], set[bytes]]:  # type: ignore[no-untyped-def]
    """The ids of `queue` in this worker's ack set, and those whose message is still in the queue's hash."""
    return (
        set(broker.client.smembers(ack_set_key(broker, queue))),
        set(broker.client.hkeys(messages_key(broker, queue))),
    )


def test_the_acks_a_worker_thread_notes_go_with_the_next_fetch_in_one_script_call(broker, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    # Given a consumer that handed out two messages, and a third waiting in the queue
    enqueue_runs(broker, [(settings.queue, str(uuid.uuid4()), str(uuid.uuid4())) for _ in range(3)])
    consumer = broker.consume(settings.queue, prefetch=2, timeout=POLL_MS)
    broker.maintenance_chance = 0  # this test is about the usual road
    try:
        first, second = next(consumer), next(consumer)
        calls: list[str] = []
        for name in ("_ack_many", "_ack_and_fetch"):
            script = getattr(broker, name)
            setattr(broker, name, lambda *a, _s=script, _n=name, **k: calls.append(_n) or _s(*a, **k))
        # When a worker thread acks both (noted only) and the consumer fetches again
        consumer.ack(first)
        consumer.ack(second)
        assert held_by_redis(broker, settings.queue)[0] == {
            m.options["redis_message_id"].encode() for m in (first, second)
        }  # noted, not sent
        third = next(consumer)
        # Then one call acked both (out of the ack set and the hash) and fetched the third
        assert calls == ["_ack_and_fetch"]
        third_id = third.options["redis_message_id"].encode()
        assert held_by_redis(broker, settings.queue) == ({third_id}, {third_id})
    finally:
        consumer.close()
    assert held_by_redis(broker, settings.queue) == ({third_id}, {third_id})  # not acked: nobody acked it


def test_a_fetch_at_dramatiqs_maintenance_odds_takes_dramatiqs_script_and_still_sends_the_acks(
    broker, settings: Settings
) -> None:  # type: ignore[no-untyped-def]
    enqueue_runs(broker, [(settings.queue, str(uuid.uuid4()), str(uuid.uuid4())) for _ in range(2)])
    consumer = broker.consume(settings.queue, prefetch=1, timeout=POLL_MS)
    try:
        first = next(consumer)
        consumer.ack(first)
        broker.maintenance_chance = MAINTENANCE_SCALE  # every call now
        fetches: list[object] = []
        fetch = broker.do_fetch
        broker.do_fetch = lambda *args: fetches.append(args) or fetch(*args)
        second = next(consumer)
        assert second is not None
        assert len(fetches) == 1
        second_id = second.options["redis_message_id"].encode()
        assert held_by_redis(broker, settings.queue) == ({second_id}, {second_id})
    finally:
        consumer.close()


def test_a_closing_consumer_sends_the_acks_it_noted(broker, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    enqueue_runs(broker, [(settings.queue, str(uuid.uuid4()), str(uuid.uuid4()))])
    consumer = broker.consume(settings.queue, prefetch=1, timeout=POLL_MS)
    consumer.ack(next(consumer))
    consumer.close()
    assert held_by_redis(broker, settings.queue) == (set(), set())
