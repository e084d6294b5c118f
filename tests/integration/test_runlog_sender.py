"""Live log sends from many threads share pipelines, keep each run's order, and never fail on Redis trouble."""

from __future__ import annotations

import logging
import re
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis

from app.domain import runlog_sender
from app.domain.runlog_buffer import Chunk
from app.domain.runlog_sender import LiveLogSender
from app.domain.runlogs import stream_key
from tests.cutting_proxy import CuttingProxy
from tests.integration.redis_outage_support import said


def _lines(first_n: int, count: int) -> list[bytes]:
    return [f"line {n}".encode() for n in range(first_n, first_n + count)]


def test_runs_finished_on_many_threads_reach_their_streams_in_order_with_their_end(
    redis_client: redis.Redis, redis_namespace: str
) -> None:
    sender = LiveLogSender(redis_client=redis_client, namespace=redis_namespace, maxlen=1000)
    run_ids = [uuid.uuid4() for _ in range(40)]

    def finish(run_id: uuid.UUID) -> None:
        sender.send([Chunk(run_id, 1, 1, _lines(1, 3))])  # what the flusher wrote earlier
        sender.end(run_id, "SUCCEEDED", ttl_seconds=60)  # its last lines went to Postgres with its outcome

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(finish, run_ids))
    assert sender.drain(timeout=10)

    for run_id in run_ids:
        assert _stream(redis_client, redis_namespace, run_id) == [
            {"n": str(n), "line": f"line {n}"} for n in range(1, 4)
        ] + [{"end": "SUCCEEDED"}]
        assert 0 < redis_client.ttl(stream_key(redis_namespace, run_id)) <= 60
    assert sender.sends == 80
    assert sender.pipelines <= sender.sends


def test_ends_reach_their_streams_when_redis_does_not_know_the_script_yet(
    redis_client: redis.Redis, redis_namespace: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an end script Redis has never seen (as after a Redis restart)
    monkeypatch.setattr(runlog_sender, "_END_STREAMS", runlog_sender._END_STREAMS + f"-- {uuid.uuid4()}\n")
    sender = LiveLogSender(redis_client=redis_client, namespace=redis_namespace, maxlen=1000)
    run_ids = [uuid.uuid4(), uuid.uuid4()]
    # When two runs end (one with lines sent before, in the same pipeline)
    sender.send([Chunk(run_ids[0], 1, 1, _lines(1, 2))])
    sender.end(run_ids[0], "FAILED", ttl_seconds=30)
    sender.end(run_ids[1], "CANCELLED", ttl_seconds=30)
    assert sender.drain(timeout=10)
    # Then each stream ends, after its lines, and expires
    assert _stream(redis_client, redis_namespace, run_ids[0])[-1] == {"end": "FAILED"}
    assert _stream(redis_client, redis_namespace, run_ids[0])[:-1] == [
        {"n": "1", "line": "line 1"},
        {"n": "2", "line": "line 2"},
    ]
    assert _stream(redis_client, redis_namespace, run_ids[1]) == [{"end": "CANCELLED"}]
    assert all(0 < redis_client.ttl(stream_key(redis_namespace, run_id)) <= 30 for run_id in run_ids)


def _stream(client: redis.Redis, namespace: str, run_id: uuid.UUID) -> list[dict[str, str]]:
    return [
        {k.decode(): v.decode() for k, v in entry.items()} for _, entry in client.xrange(stream_key(namespace, run_id))
    ]


def test_redis_unavailable_loses_the_live_lines_but_fails_nobody(redis_namespace: str) -> None:
    down = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.5)
    sender = LiveLogSender(redis_client=down, namespace=redis_namespace, maxlen=10)
    run_id = uuid.uuid4()
    sender.end(run_id, "FAILED", ttl_seconds=60)
    assert sender.drain(timeout=10)
    assert sender.pipelines == 0
    sender.send([Chunk(run_id, 1, 2, _lines(2, 1))])  # the sender thread is still there
    assert sender.drain(timeout=10)


def test_ends_alone_reach_their_streams_when_redis_does_not_know_the_script_yet(
    redis_client: redis.Redis, redis_namespace: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an end script Redis has never seen, and a batch of ends only (sent without a pipeline)
    monkeypatch.setattr(runlog_sender, "_END_STREAMS", runlog_sender._END_STREAMS + f"-- {uuid.uuid4()}\n")
    sender = LiveLogSender(redis_client=redis_client, namespace=redis_namespace, maxlen=1000)
    run_id = uuid.uuid4()
    # When the run ends
    sender.end(run_id, "SUCCEEDED", ttl_seconds=30)
    assert sender.drain(timeout=10)
    # Then its stream ends and expires
    assert _stream(redis_client, redis_namespace, run_id) == [{"end": "SUCCEEDED"}]
    assert 0 < redis_client.ttl(stream_key(redis_namespace, run_id)) <= 30
    assert sender.pipelines == 1


def test_ends_still_reach_their_streams_after_the_senders_connection_broke(
    redis_client: redis.Redis, redis_namespace: str
) -> None:
    sender = LiveLogSender(redis_client=redis_client, namespace=redis_namespace, maxlen=1000)
    first, second = uuid.uuid4(), uuid.uuid4()
    sender.end(first, "SUCCEEDED", ttl_seconds=30)
    assert sender.drain(timeout=10)
    # Given Redis closed the connection the sender keeps for its ends (as a Redis restart or a timeout would)
    connection = sender._connection
    assert connection is not None
    connection.send_command("CLIENT", "ID")  # the sender is idle (drained): nothing else uses it now
    assert redis_client.client_kill_filter(_id=connection.read_response()) == 1
    # When the next run ends
    sender.end(second, "FAILED", ttl_seconds=30)
    assert sender.drain(timeout=10)
    # Then its end is sent all the same (through the client, which connects again)
    assert _stream(redis_client, redis_namespace, first) == [{"end": "SUCCEEDED"}]
    assert _stream(redis_client, redis_namespace, second) == [{"end": "FAILED"}]
    assert sender.pipelines == 2
    assert sender._connection is None  # the broken one was dropped; the next ends take a fresh one


def test_a_redis_outage_is_one_warning_and_one_info_line_not_one_per_send(
    redis_proxy: CuttingProxy, redis_client: redis.Redis, redis_namespace: str, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a worker's sender whose Redis goes away
    caplog.set_level(logging.DEBUG)
    client = redis.Redis.from_url(redis_proxy.url)
    sender = LiveLogSender(redis_client=client, namespace=redis_namespace, maxlen=100, window=0)
    run_id = uuid.uuid4()
    redis_proxy.down()
    # When a run logs 30 batches of lines meanwhile, and one after Redis is back
    for n in range(1, 31):
        sender.send([Chunk(run_id, n, n, _lines(n, 1))])
        assert sender.drain(timeout=10)
    redis_proxy.up()
    sender.send([Chunk(run_id, 31, 31, _lines(31, 1))])
    assert sender.drain(timeout=10)
    client.close()
    # Then the stream has the line sent after, and the sender said once that Redis went and once that it came back
    assert [entry["n"] for entry in _stream(redis_client, redis_namespace, run_id)] == ["31"]
    lines = said(caplog, "app.domain.runlog_sender")
    assert [level for level, _ in lines] == ["WARNING", "INFO"], lines
    assert re.fullmatch(
        r"Reconnected to Redis after \d+\.\d s \(live-log sends dropped meanwhile: 30\); .*", lines[1][1]
    ), lines
