"""Writing run logs: lines wait in the worker process, and reach Postgres (then Redis) in batches.

One `RunLogBuffer` per worker process holds every running attempt's unwritten
lines. A background flusher writes the lines that have waited `delay` seconds
(or a run's `max_lines`), for all runs at once, in one statement and one
transaction, then publishes them to the runs' live streams. A run that ends
sooner never meets the flusher: its lines are `take`n by the finish path and
written by the very statement that records its final (or retrying) state
(finish_run, schedule_retry), so a few-line run costs one more row in a statement
it runs anyway (a statement of their own doubled the cost of finishing a no-op
run), and its lines are durable exactly when its state is. Redis sees a line only after Postgres has
it, so a live follower never sees a line that a crash could take back, and a
retry numbers on from the last stored line without clashing.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import msgspec
import redis
from sqlalchemy import Connection, Engine

from app.core.notices import Noted
from app.db.queries import query
from app.domain.runlog_sender import LiveLogSender
from app.domain.runlogs import LogLine, encode_line

logger = logging.getLogger(__name__)

#: For how long after a run's first line the flusher looks every `delay` on its own, rather than wait to be woken
#: by the next first line. On a busy worker most runs end, and take their lines, before a woken flusher even gets
#: to look: a wake per run (a context switch and a GIL handoff) bought nothing. An idle worker's flusher sleeps.
POLL_AFTER_LINE_SECONDS = 5.0


@dataclass(slots=True)
class Chunk:
    """Consecutive lines of one attempt: numbered first_n.., each an encoded LogLine."""

    run_id: uuid.UUID
    attempt: int
    first_n: int
    lines: list[bytes] = field(default_factory=list)
    since: float = 0.0  # when its first line was buffered (monotonic); -1 when due at once

    @property
    def last_n(self) -> int:
        return self.first_n + len(self.lines) - 1


def write_chunks(connection: Connection, chunks: list[Chunk]) -> None:
    """Insert the chunks in one statement, inside the caller's transaction."""
    if not chunks:
        return
    connection.execute(
        query("insert_log_chunks"),
        {
            "run_ids": [c.run_id for c in chunks],
            "attempts": [c.attempt for c in chunks],
            "first_n": [c.first_n for c in chunks],
            "last_n": [c.last_n for c in chunks],
            "lines": [b"\n".join(c.lines) + b"\n" for c in chunks],
        },
    )


def chunk_params(chunks: list[Chunk]) -> dict[str, list[Any]]:
    """One run's chunks as the `log_*` parameters of finish_run and schedule_retry (stored in the same statement)."""
    return {
        "log_first_n": [c.first_n for c in chunks],
        "log_last_n": [c.last_n for c in chunks],
        "log_chunks": [b"\n".join(c.lines) + b"\n" for c in chunks],
    }


class RunLogBuffer:
    """The process's unwritten log lines, and the thread that writes them."""

    def __init__(
        self,
        *,
        engine: Engine,
        redis_client: redis.Redis | None,
        redis_namespace: str,
        maxlen: int,
        delay: float = 0.025,
        max_lines: int = 500,
        max_pending: int = 100_000,
    ) -> None:
        self.engine = engine
        self.delay = delay
        self.max_lines = max_lines
        self.max_pending = max_pending
        #: Lines reach the live streams only after Postgres has them, through one sender thread.
        self._sender = (
            LiveLogSender(redis_client=redis_client, namespace=redis_namespace, maxlen=maxlen)
            if redis_client is not None
            else None
        )
        self._cond = threading.Condition()
        self._pending: dict[uuid.UUID, Chunk] = {}
        self._inflight: set[uuid.UUID] = set()
        self._total = 0
        self._blocked = 0  # writers held back by max_pending
        self._waiting = 0  # takers waiting for the flusher to finish with their run
        self._idle = False  # the flusher waits for a first line (and must be woken)
        self._last_first_line = -POLL_AFTER_LINE_SECONDS  # when a run's first unwritten line came (monotonic)
        self._thread: threading.Thread | None = None

    # -- the writing side (worker threads) -------------------------------------------------------

    def append(self, run_id: uuid.UUID, attempt: int, n: int, data: bytes) -> None:
        """Buffer line `n` (encoded); it is written within about twice `delay`, or with the run's end."""
        with self._cond:
            if self._thread is None:
                self._start()
            while self._total >= self.max_pending:  # Postgres is down or slow: hold the writers back
                self._blocked += 1
                self._cond.wait(1.0)
                self._blocked -= 1
            chunk = self._pending.get(run_id)
            if chunk is None:
                now = time.monotonic()
                chunk = self._pending[run_id] = Chunk(run_id, attempt, n, since=now)
                self._last_first_line = now
                if self._idle:  # a polling flusher looks within `delay` by itself
                    self._cond.notify_all()
            chunk.lines.append(data)
            self._total += 1
            if len(chunk.lines) >= self.max_lines and chunk.since >= 0:
                chunk.since = -1
                self._cond.notify_all()

    def take(self, run_id: uuid.UUID) -> list[Chunk]:
        """The run's unwritten lines, for the caller to write; waits while the flusher is writing some."""
        with self._cond:
            while run_id in self._inflight:
                self._waiting += 1
                self._cond.wait()
                self._waiting -= 1
            chunk = self._pending.pop(run_id, None)
            if chunk is None:
                return []
            self._total -= len(chunk.lines)
            if self._blocked:  # nobody else cares: the flusher wakes at its deadline and finds less to do
                self._cond.notify_all()
            return self._split(chunk)

    def give_back(self, chunks: list[Chunk]) -> None:
        """Chunks taken but not written (the database failed): they go first again."""
        with self._cond:
            for chunk in reversed(chunks):
                later = self._pending.get(chunk.run_id)
                if later is not None and later.attempt != chunk.attempt:
                    continue  # a newer attempt runs here now: the old one's lines would not be stored anyway
                if later is not None:
                    chunk.lines.extend(later.lines)
                    self._total -= len(later.lines)
                chunk.since = -1
                self._pending[chunk.run_id] = chunk
                self._total += len(chunk.lines)
            self._cond.notify_all()

    def flush(self, run_id: uuid.UUID) -> list[Chunk]:
        """Write the run's unwritten lines now, in their own transaction, and publish them."""
        chunks = self.take(run_id)
        if chunks:
            try:
                with self.engine.begin() as connection:
                    write_chunks(connection, chunks)
            except Exception:
                self.give_back(chunks)
                raise
            self.publish(chunks)
        return chunks

    def flush_all(self) -> None:
        """Write every run's unwritten lines now (the flusher's work, done by the caller)."""
        with self._cond:
            runs = list(self._pending)
        for run_id in runs:
            self.flush(run_id)

    def publish(self, chunks: list[Chunk]) -> None:
        """Send written lines to the live streams (in the process's next shared pipeline)."""
        if self._sender is not None:
            self._sender.send(chunks)

    def end(self, run_id: uuid.UUID, status: str, *, ttl_seconds: int) -> None:
        """Send a finished run's end marker (in the next shared pipeline), once its last lines are written.

        Followers read those lines from Postgres when they meet the end, so they need not go to the stream.
        """
        if self._sender is not None:
            self._sender.end(run_id, status, ttl_seconds=ttl_seconds)

    # -- the flusher -------------------------------------------------------------------------------

    def _start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="conveyor-runlog-flusher", daemon=True)
        self._thread.start()

    def _split(self, chunk: Chunk) -> list[Chunk]:
        """At most `max_lines` lines a row, so a page never decodes a huge chunk."""
        if len(chunk.lines) <= self.max_lines:
            return [chunk]
        return [
            Chunk(chunk.run_id, chunk.attempt, chunk.first_n + i, chunk.lines[i : i + self.max_lines])
            for i in range(0, len(chunk.lines), self.max_lines)
        ]

    def _due(self) -> list[Chunk]:
        """Wait until some run's lines are due, then take them all (marked in flight)."""
        with self._cond:
            while True:
                if not self._pending:
                    if time.monotonic() - self._last_first_line < POLL_AFTER_LINE_SECONDS:
                        self._cond.wait(self.delay)
                        continue
                    self._idle = True
                    self._cond.wait()
                    self._idle = False
                    continue
                now = time.monotonic()
                due = [c for c in self._pending.values() if c.since <= now - self.delay]
                if not due:
                    oldest = min(c.since for c in self._pending.values())
                    self._cond.wait(oldest + self.delay - now)
                    continue
                taken: list[Chunk] = []
                for chunk in due:
                    del self._pending[chunk.run_id]
                    self._total -= len(chunk.lines)
                    self._inflight.add(chunk.run_id)
                    taken.extend(self._split(chunk))
                if self._blocked:
                    self._cond.notify_all()
                return taken

    def _run(self) -> None:
        failing = False
        while True:
            chunks = self._due()
            try:
                with self.engine.begin() as connection:
                    write_chunks(connection, chunks)
                self.publish(chunks)
                if failing:
                    logger.info("run log flusher: writing again")
                failing = False
            except Exception as exc:
                if not failing:
                    logger.warning("run log flusher: could not write %d chunk(s), will retry: %s", len(chunks), exc)
                failing = True
                self.give_back(chunks)  # before they leave the flight, so no later line is written first
                self._done(chunks)
                time.sleep(1.0)
                continue
            self._done(chunks)

    def _done(self, chunks: list[Chunk]) -> None:
        with self._cond:
            self._inflight.difference_update(c.run_id for c in chunks)
            if self._waiting or self._blocked:
                self._cond.notify_all()


class RunLogWriter:
    """One attempt's log: numbers its lines and hands them to the process's buffer."""

    def __init__(self, *, buffer: RunLogBuffer, run_id: uuid.UUID, attempt: int, first_line: int) -> None:
        self.buffer = buffer
        self.run_id = run_id
        self.attempt = attempt
        self.lines = first_line - 1

    def write(self, message: str, *, level: str = "info", step: int | None = None) -> LogLine:
        """Buffer a line; it is durable within about 50 ms, or when the attempt's outcome is committed."""
        line = self._line(self.lines + 1, message, level=level, step=step)
        self.lines = line.n
        self.buffer.append(self.run_id, self.attempt, line.n, encode_line(line))
        return line

    def next_line(self, message: str, *, level: str = "info") -> Chunk:
        """The next line as a chunk of its own, not buffered nor counted: for a statement that stores it with the
        outcome it tells, decided in that statement's transaction (which may be tried again). `kept` once committed."""
        return self.next_lines([(message, level)])

    def next_lines(self, lines: Sequence[tuple[str, str]]) -> Chunk:
        """`next_line` for several lines (message, level), in order, as one chunk."""
        first = self.lines + 1
        made = [self._line(first + i, message, level=level, step=None) for i, (message, level) in enumerate(lines)]
        return Chunk(self.run_id, self.attempt, first, [encode_line(line) for line in made])

    def kept(self, chunk: Chunk) -> None:
        """`chunk` (from `next_line`) is stored: the attempt's next line numbers on after it."""
        self.lines = max(self.lines, chunk.last_n)

    def _line(self, n: int, message: str, *, level: str, step: int | None) -> LogLine:
        notice = msgspec.to_builtins(message.notice) if isinstance(message, Noted) else None
        return LogLine(
            n=n, ts=datetime.now(UTC), level=level, message=str(message), attempt=self.attempt, step=step, notice=notice
        )
