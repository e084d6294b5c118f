"""Live log sends from many threads share pipelines, keep each run's order, and never fail on Redis trouble."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import redis

from app.domain.runlog_buffer import Chunk
from app.domain.runlog_sender import LiveLogSender
from app.domain.runlogs import stream_key


def _lines(first_n: int, count: int) -> list[bytes]:
    return [f"line {n}".encode() for n in range(first_n, first_n + count)]


def test_runs_finished_on_many_threads_reach_their_streams_in_order_with_their_end(
    redis_client: redis.Redis, redis_namespace: str
) -> None:
    sender = LiveLogSender(redis_client=redis_client, namespace=redis_namespace, maxlen=1000)
    run_ids = [uuid.uuid4() for _ in range(40)]

    def finish(run_id: uuid.UUID) -> None:
        sender.send([Chunk(run_id, 1, 1, _lines(1, 3))])  # what the flusher wrote earlier
        sender.end(run_id, [Chunk(run_id, 1, 4, _lines(4, 2))], "SUCCEEDED", ttl_seconds=60)

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(finish, run_ids))
    assert sender.drain(timeout=10)

    for run_id in run_ids:
        entries = redis_client.xrange(stream_key(redis_namespace, run_id))
        fields = [{k.decode(): v.decode() for k, v in entry.items()} for _, entry in entries]
        assert fields == [{"n": str(n), "line": f"line {n}"} for n in range(1, 6)] + [{"end": "SUCCEEDED"}]
        assert 0 < redis_client.ttl(stream_key(redis_namespace, run_id)) <= 60
    assert sender.sends == 80
    assert sender.pipelines <= sender.sends


def test_redis_unavailable_loses_the_live_lines_but_fails_nobody(redis_namespace: str) -> None:
    down = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.5)
    sender = LiveLogSender(redis_client=down, namespace=redis_namespace, maxlen=10)
    run_id = uuid.uuid4()
    sender.end(run_id, [Chunk(run_id, 1, 1, _lines(1, 1))], "FAILED", ttl_seconds=60)
    assert sender.drain(timeout=10)
    assert sender.pipelines == 0
    sender.send([Chunk(run_id, 1, 2, _lines(2, 1))])  # the sender thread is still there
    assert sender.drain(timeout=10)
