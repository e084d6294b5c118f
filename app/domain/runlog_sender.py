"""Sending written log lines and end markers to the runs' live streams: one Redis round trip for many runs.

A worker process finishes runs on several threads at once. Each finish used to
send its last lines and its end marker in a pipeline of its own; now every
send goes to the process's one sender thread, which takes all that is waiting
and sends it in one pipeline. Woken by a send, the thread lets `window`
seconds pass (a few ms) before it takes the batch: Redis answers so fast that
without it a busy worker's sender woke for every third or fourth run (each wake
a context switch and a GIL handoff, for a pipeline of one or two ends), and a
follower learns of a run's end a few ms later, nothing more. The caller never waits for
Redis, and sends keep their order (one thread sends them, first come first
sent), so a run's lines still reach its stream before its end marker.

A finished run's end carries no lines: its last lines were committed with its
outcome, and a follower that meets the end reads the lines it has not seen from
Postgres before it ends (app/api/live_logs.py), so it still sees them in order,
then the end. The ends of a pipeline go as one script call (each stream's end
entry and time to live), so a busy worker pays a few bytes per finished run, not
four commands; a batch of ends only (the usual one) is that call alone, without
a pipeline around it (whose packing cost more Python than the call).

The live stream is a fan-out only (Postgres has every line, and a follower
looks at the run's status between reads), so Redis trouble fails nothing: the
pipeline's sends are dropped (a lost Redis said once per outage, app/redis_link.py),
and so are the oldest waiting ones past `max_waiting` (Redis too slow to keep up).
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
import uuid
from collections.abc import Sequence
from typing import Protocol

import redis
from redis.exceptions import NoScriptError

from app.domain.runlogs import stream_key
from app.redis_link import RedisLink, redis_unreachable

logger = logging.getLogger(__name__)


class Lines(Protocol):
    """Consecutive written lines of one run (a runlog_buffer.Chunk)."""

    run_id: uuid.UUID
    first_n: int
    lines: list[bytes]


#: A run's end marker: (stream key, final status, the stream's time to live in seconds).
End = tuple[str, str, int]

#: The end entries of many streams in one call (KEYS: the streams; ARGV: each one's status and time to live).
_END_STREAMS = """
for i = 1, #KEYS do
    redis.call("xadd", KEYS[i], "*", "end", ARGV[2 * i - 1])
    redis.call("expire", KEYS[i], ARGV[2 * i])
end
return #KEYS
"""


class LiveLogSender:
    """The process's sends to live log streams, thread-safe; its thread starts on first use."""

    def __init__(
        self,
        *,
        redis_client: redis.Redis,
        namespace: str,
        maxlen: int,
        max_waiting: int = 10_000,
        window: float = 0.005,
    ) -> None:
        self._redis = redis_client
        self._window = window
        self._namespace = namespace
        self._maxlen = maxlen
        self._max_waiting = max_waiting
        self._cond = threading.Condition()
        self._waiting: list[tuple[Sequence[Lines], End | None]] = []
        self._sending = False
        self._thread: threading.Thread | None = None
        self._end_streams = redis_client.register_script(_END_STREAMS)  # loaded on first use
        self._connection: redis.connection.AbstractConnection | None = None  # the sender thread's own, for ends
        #: Whether Redis answers the sender, said once per outage (the sends meanwhile are dropped: Postgres has all).
        self.link = RedisLink(
            logger,
            while_lost="live log lines and ends are not streamed meanwhile (followers read them from the database)",
            when_back="streaming live logs again",
            deferred="live-log sends dropped",
        )
        #: How many pipelines and sends went out (for tests and benchmarks).
        self.pipelines = 0
        self.sends = 0

    def send(self, chunks: Sequence[Lines], end: End | None = None) -> None:
        """Queue written lines (and a run's end marker) for the next pipeline; returns at once."""
        if not chunks and end is None:
            return
        with self._cond:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="conveyor-live-log", daemon=True)
                self._thread.start()
                atexit.register(self.drain)
            if len(self._waiting) >= self._max_waiting:
                dropped = len(self._waiting) // 2
                del self._waiting[:dropped]
                logger.warning("live log: Redis does not keep up, %d waiting send(s) dropped", dropped)
            self._waiting.append((chunks, end))
            self._cond.notify_all()

    def end(self, run_id: uuid.UUID, status: str, *, ttl_seconds: int) -> None:
        """Queue a finished run's end marker; its last lines, committed with its outcome, are read from Postgres."""
        self.send((), (stream_key(self._namespace, run_id), status, ttl_seconds))

    def drain(self, timeout: float = 2.0) -> bool:
        """Wait until everything queued so far went out (or `timeout`); whether it did."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._waiting and not self._sending, timeout)

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: bool(self._waiting))
            if self._window:
                time.sleep(self._window)  # what the other threads send meanwhile goes in the same pipeline
            with self._cond:
                batch, self._waiting = self._waiting, []
                self._sending = True
            try:
                self._pipeline(batch)
            except Exception:  # the thread must outlive a bug in one batch, or every later send would wait forever
                logger.exception("live log: %d send(s) lost", len(batch))
            finally:
                with self._cond:
                    self._sending = False
                    self._cond.notify_all()

    def _pipeline(self, batch: list[tuple[Sequence[Lines], End | None]]) -> None:
        ends: list[str] = []
        end_args: list[str | int] = []
        pipe: redis.client.Pipeline | None = None
        try:
            for chunks, end in batch:
                for chunk in chunks:
                    if pipe is None:
                        pipe = self._redis.pipeline(transaction=False)
                    key = stream_key(self._namespace, chunk.run_id)
                    for n, data in enumerate(chunk.lines, start=chunk.first_n):
                        pipe.xadd(key, {"n": n, "line": data}, maxlen=self._maxlen, approximate=True)
                if end is not None:
                    ends.append(end[0])
                    end_args += [end[1], end[2]]
            if pipe is None:  # only ends (most batches): one command, without a pipeline's packing and unpacking
                self._send_ends(ends, end_args)
            else:
                self._send_pipeline(pipe, ends, end_args)
        except redis.RedisError as exc:
            if redis_unreachable(exc):
                self.link.lost(exc, deferred=len(batch))
            else:
                logger.warning("live log: Redis refused %d send(s): %s", len(batch), exc)
            return
        self.link.ok()
        self.pipelines += 1
        self.sends += len(batch)

    def _send_ends(self, ends: list[str], end_args: list[str | int]) -> None:
        """The ends as one script call on the sender's own connection (only this thread uses it).

        Taking a connection from the pool and giving it back, and the client's per-command hooks, cost more
        Python than the call itself. Any trouble drops the connection and sends through the client, whose
        retries (a Redis restart) and script loading then apply as they do to the pipeline.
        """
        connection = self._connection
        if connection is None:
            connection = self._connection = self._redis.connection_pool.get_connection()
        try:
            connection.send_command("EVALSHA", self._end_streams.sha, len(ends), *ends, *end_args)
            connection.read_response()
            return
        except NoScriptError:  # Redis restarted: the connection is fine, the script must be loaded again
            pass
        except Exception:
            self._connection = None
            connection.disconnect()
            self._redis.connection_pool.release(connection)
        self._end_streams(keys=ends, args=end_args)

    def _send_pipeline(self, pipe: redis.client.Pipeline, ends: list[str], end_args: list[str | int]) -> None:
        if ends:  # after every line of the batch: a stream's lines go before its end
            pipe.evalsha(self._end_streams.sha, len(ends), *ends, *end_args)
        results = pipe.execute(raise_on_error=False)
        if ends and isinstance(results[-1], NoScriptError):  # Redis restarted: load the script, send the ends
            self._end_streams(keys=ends, args=end_args)
            results = results[:-1]
        failed = next((result for result in results if isinstance(result, Exception)), None)
        if failed is not None:
            raise failed
