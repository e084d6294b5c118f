"""Worker threads note their acks; the consumer sends them in one pipeline before its next fetch."""

from __future__ import annotations

import dramatiq
import redis

from app.settings import Settings
from workers.broker import RUN_ACTOR, build_broker, messages_key


def test_noted_acks_are_sent_together_before_the_next_fetch_and_when_the_consumer_closes(
    settings: Settings, redis_client: redis.Redis
) -> None:
    broker = build_broker(settings)
    queue = settings.queue
    broker.declare_queue(queue)
    broker.flush(queue)
    sent = [
        broker.enqueue(
            dramatiq.Message(queue_name=queue, actor_name=RUN_ACTOR, args=(f"run-{i}",), kwargs={}, options={})
        )
        for i in range(5)
    ]
    unacked = messages_key(broker, queue)
    consumer = broker.consume(queue, prefetch=3, timeout=50)
    try:
        # Given three messages taken by worker threads (the prefetch) and acked by them
        taken = [next(consumer) for _ in range(3)]
        assert [m.args[0] for m in taken] == ["run-0", "run-1", "run-2"]
        for message in taken:
            consumer.ack(message)
        # Then none is acked in Redis yet, but each frees its place in the prefetch
        assert redis_client.hlen(unacked) == 5
        assert consumer.outstanding_message_count == 0
        # When the consumer fetches again, the acks go first
        more = [next(consumer) for _ in range(2)]
        assert [m.args[0] for m in more] == ["run-3", "run-4"]
        assert redis_client.hlen(unacked) == 2
        assert not any(redis_client.hexists(unacked, m.options["redis_message_id"]) for m in sent[:3])
        for message in more:
            consumer.ack(message)
    finally:
        consumer.close()
    # And closing the consumer sends the rest
    assert redis_client.hlen(unacked) == 0
    broker.close()
