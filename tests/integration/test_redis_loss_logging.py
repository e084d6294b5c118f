"""A worker that loses Redis says so once (a warning) and once when it is back (info), not in critical tracebacks.

Operators read `critical` as "wake someone up"; a Redis pause the consumers ride out is not that. The consumer
thread here is Dramatiq's own, its consumer the worker's (workers.broker), Redis the real one behind a proxy.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Iterator
from queue import PriorityQueue

import dramatiq
import msgspec
import pytest
from dramatiq.worker import ConsumerThread

from app.domain.lanes import RUN_ACTOR
from app.settings import Settings
from tests.cutting_proxy import CuttingProxy
from workers.broker import build_broker

#: The consumer's poll timeout: it retries a lost Redis this often.
POLL_MS = 50


def wait_for(what: Callable[[], bool], limit: float = 30.0) -> None:
    """Until `what` holds, or `limit` seconds (not a failure in itself: the log records say what went wrong)."""
    deadline = time.monotonic() + limit
    while not what() and time.monotonic() < deadline:
        time.sleep(0.02)


@pytest.fixture
def proxy(settings: Settings) -> Iterator[CuttingProxy]:
    assert settings.redis_url
    proxied = CuttingProxy.redis(settings.redis_url)
    yield proxied
    proxied.close()


def test_a_redis_outage_logs_one_warning_and_one_info_line_and_nothing_critical(
    settings: Settings, redis_client: object, proxy: CuttingProxy, caplog: pytest.LogCaptureFixture
) -> None:
    namespace = f"{settings.redis_namespace}-{uuid.uuid4().hex[:6]}"
    broker = build_broker(msgspec.structs.replace(settings, redis_url=proxy.url, redis_namespace=namespace))
    caplog.set_level(logging.INFO)
    threads = [
        ConsumerThread(broker=broker, queue_name=name, prefetch=2, work_queue=PriorityQueue(), worker_timeout=POLL_MS)
        for name in (settings.queue, f"{settings.queue}.DQ")  # two consumers of one process, as a worker has
    ]
    for thread in threads:
        thread.start()
    try:
        wait_for(lambda: all(t.consumer is not None for t in threads))
        proxy.down()
        wait_for(lambda: proxy.refused >= 4, 20.0)  # the consumers have retried, and failed, more than once each
        proxy.up()
        wait_for(lambda: any(r.getMessage().startswith("Reconnected to Redis") for r in caplog.records))
    finally:
        for thread in threads:
            thread.stop()
        for thread in threads:
            thread.join(10)
        broker.close()
    loud = [(r.name, r.levelname, r.getMessage()) for r in caplog.records if r.levelno >= logging.ERROR]
    assert loud == []
    assert proxy.refused >= 4
    said = [(r.levelname, r.getMessage()) for r in caplog.records if r.name == "workers.redis"]
    assert [level for level, _ in said] == ["WARNING", "INFO"], said
    assert said[0][1].startswith("Lost the connection to Redis")
    assert not [r for r in caplog.records if "Restarting consumer" in r.getMessage()]


def test_a_delayed_message_due_during_an_outage_is_sent_when_redis_is_back_without_a_critical_line(
    settings: Settings, redis_client: object, proxy: CuttingProxy, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a delayed message the delay-queue consumer holds, due in 1 s
    namespace = f"{settings.redis_namespace}-{uuid.uuid4().hex[:6]}"
    broker = build_broker(msgspec.structs.replace(settings, redis_url=proxy.url, redis_namespace=namespace))
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
        proxy.down()
        time.sleep(3)
        proxy.up()
        queue = f"{broker.namespace}:{settings.queue}"
        wait_for(lambda: broker.client.llen(queue) == 1)
        # Then it reached its queue, and the consumer thread said so in a warning and an info line, nothing critical
        assert broker.client.llen(queue) == 1
    finally:
        thread.stop()
        thread.join(10)
        broker.close()
    loud = [(r.name, r.levelname, r.getMessage()) for r in caplog.records if r.levelno >= logging.ERROR]
    assert loud == []
    said = [(r.levelname, r.getMessage()) for r in caplog.records if r.name == "workers.redis"]
    assert [level for level, _ in said] == ["WARNING", "INFO"], said
