"""A worker that loses Redis says so once (a warning) and once when it is back (info), not in critical tracebacks.

Operators read `critical` as "wake someone up"; a Redis pause the consumers ride out is not that. The consumer
thread here is Dramatiq's own, its consumer the worker's (workers.broker), Redis the real one behind a proxy.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from queue import PriorityQueue

import dramatiq
import msgspec
import pytest
from dramatiq.middleware import Retries
from dramatiq.worker import ConsumerThread

from app.domain.lanes import RUN_ACTOR
from app.settings import Settings
from tests.cutting_proxy import CuttingProxy
from tests.integration.redis_outage_support import loud, said, wait_for
from workers.broker import ack_set_key, build_broker

#: The consumer's poll timeout: it retries a lost Redis this often.
POLL_MS = 50


def test_a_redis_outage_logs_one_warning_and_one_info_line_and_nothing_critical(
    settings: Settings, redis_client: object, redis_proxy: CuttingProxy, caplog: pytest.LogCaptureFixture
) -> None:
    namespace = f"{settings.redis_namespace}-{uuid.uuid4().hex[:6]}"
    broker = build_broker(msgspec.structs.replace(settings, redis_url=redis_proxy.url, redis_namespace=namespace))
    caplog.set_level(logging.INFO)
    threads = [
        ConsumerThread(broker=broker, queue_name=name, prefetch=2, work_queue=PriorityQueue(), worker_timeout=POLL_MS)
        for name in (settings.queue, f"{settings.queue}.DQ")  # two consumers of one process, as a worker has
    ]
    for thread in threads:
        thread.start()
    try:
        wait_for(lambda: all(t.consumer is not None for t in threads))
        redis_proxy.down()
        wait_for(lambda: redis_proxy.refused >= 4, 20.0)  # the consumers have retried, and failed, more than once each
        redis_proxy.up()
        wait_for(lambda: any(r.getMessage().startswith("Reconnected to Redis") for r in caplog.records))
    finally:
        for thread in threads:
            thread.stop()
        for thread in threads:
            thread.join(10)
        broker.close()
    assert loud(caplog) == []
    assert redis_proxy.refused >= 4
    lines = said(caplog, "workers.redis")
    assert [level for level, _ in lines] == ["WARNING", "INFO"], lines
    assert lines[0][1].startswith("Lost the connection to Redis")
    assert not [r for r in caplog.records if "Restarting consumer" in r.getMessage()]


def test_a_delayed_message_due_during_an_outage_is_sent_when_redis_is_back_without_a_critical_line(
    settings: Settings, redis_client: object, redis_proxy: CuttingProxy, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a delayed message the delay-queue consumer holds, due in 1 s
    namespace = f"{settings.redis_namespace}-{uuid.uuid4().hex[:6]}"
    broker = build_broker(msgspec.structs.replace(settings, redis_url=redis_proxy.url, redis_namespace=namespace))
    message = dramatiq.Message(queue_name=settings.queue, actor_name=RUN_ACTOR, args=("a-run",), kwargs={}, options={})
    broker.enqueue(message, delay=1000)
    caplog.set_level(logging.INFO)
    thread = ConsumerThread(
        broker=broker, queue_name=f"{settings.queue}.DQ", prefetch=2, work_queue=PriorityQueue(), worker_timeout=POLL_MS
    )
    thread.start()
    try:
        wait_for(lambda: thread.delay_queue.qsize() == 1)
        # When Redis goes away before it is due, and comes back 2 s after
        redis_proxy.down()
        time.sleep(3)
        redis_proxy.up()
        queue = f"{broker.namespace}:{settings.queue}"
        wait_for(lambda: broker.client.llen(queue) == 1)
        # Then it reached its queue, and the consumer thread said so in a warning and an info line, nothing critical
        assert broker.client.llen(queue) == 1
    finally:
        thread.stop()
        thread.join(10)
        broker.close()
    assert loud(caplog) == []
    lines = said(caplog, "workers.redis")
    assert [level for level, _ in lines] == ["WARNING", "INFO"], lines


def test_a_message_that_fails_during_an_outage_is_rejected_once_redis_is_back_said_once(
    settings: Settings, redis_client: object, redis_proxy: CuttingProxy, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a worker (the worker's broker, Dramatiq's worker) running a message whose actor fails, and that Dramatiq
    # then rejects (Retries with none left fails it, as a message for an unknown actor is failed)
    namespace = f"{settings.redis_namespace}-{uuid.uuid4().hex[:6]}"
    broker = build_broker(msgspec.structs.replace(settings, redis_url=redis_proxy.url, redis_namespace=namespace))
    broker.add_middleware(Retries(max_retries=0))
    started, fail, calls = threading.Event(), threading.Event(), []

    def failing() -> None:
        calls.append(1)
        started.set()
        fail.wait(10)
        raise RuntimeError("the actor failed")

    actor = dramatiq.actor(broker=broker, actor_name="failing", queue_name=settings.queue)(failing)
    message = actor.send()
    caplog.set_level(logging.INFO)
    worker = dramatiq.Worker(broker, worker_threads=1, worker_timeout=POLL_MS)
    worker.start()
    dead = f"{broker.namespace}:{settings.queue}.XQ"
    try:
        wait_for(started.is_set)
        # When it fails while Redis is away, and Redis is back 3 s after
        redis_proxy.down()
        fail.set()
        time.sleep(3)
        redis_proxy.up()
        wait_for(lambda: broker.client.zcard(dead) == 1)
        # Then it is rejected (in the dead-letter set) once Redis is back, and was run once
        assert broker.client.zscore(dead, message.options["redis_message_id"]) is not None
        assert broker.client.scard(ack_set_key(broker, settings.queue)) == 0
        assert len(calls) == 1
    finally:
        worker.stop()
        broker.close()
    # and the outage was said once, not in a warning a second for the failed message
    assert not [r for r in caplog.records if "post_process_message" in r.getMessage()]
    lines = said(caplog, "workers.redis")
    assert [level for level, _ in lines] == ["WARNING", "INFO"], lines
