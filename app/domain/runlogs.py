"""Run logs: a durable NDJSON file under the data root, plus a live Redis stream for SSE.

The file is the record (`GET /runs/{id}/logs`); the stream only fans lines out
to live followers and carries a final `end` entry. Losing Redis loses no log.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

import msgspec
import redis

from app.paths import run_log_path

logger = logging.getLogger(__name__)


class LogLine(msgspec.Struct, kw_only=True):
    """One line of a run's log. `n` counts from 1 across all attempts of the run."""

    n: int
    ts: datetime
    level: str
    message: str
    attempt: int
    step: int | None = None


def stream_key(namespace: str, run_id: uuid.UUID | str) -> str:
    """Redis key of a run's live log stream."""
    return f"{namespace}:runlog:{run_id}"


_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(LogLine)


class RunLogWriter:
    """Appends one attempt's lines to the run's log file at once, and to its live stream in batches.

    Lines wait in memory for Redis until `flush()` (the executor flushes before
    each step and before any wait, so followers see a step's lines as it
    starts), or until `FLUSH_EVERY` lines pile up: a short run costs one round
    trip to Redis, not one per line.
    """

    #: Lines buffered for the live stream before a flush is forced.
    FLUSH_EVERY = 100

    def __init__(
        self,
        *,
        root: Path,
        run_id: uuid.UUID,
        attempt: int,
        first_line: int,
        redis_client: redis.Redis | None,
        redis_namespace: str,
        maxlen: int,
    ) -> None:
        self.run_id = run_id
        self.attempt = attempt
        self.lines = first_line - 1
        self._path = run_log_path(root, run_id)
        self._file: IO[bytes] | None = None
        self._redis = redis_client
        self._key = stream_key(redis_namespace, run_id)
        self._maxlen = maxlen
        self._pending: list[tuple[int, bytes]] = []

    def write(self, message: str, *, level: str = "info", step: int | None = None) -> LogLine:
        """Persist a line now; publish it with the next flush."""
        self.lines += 1
        line = LogLine(
            n=self.lines, ts=datetime.now(UTC), level=level, message=message, attempt=self.attempt, step=step
        )
        data = _encoder.encode(line)
        if self._file is None:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            self._file = open(self._path, "ab")  # noqa: SIM115  (kept open for the attempt)
        self._file.write(data + b"\n")
        self._file.flush()
        self._pending.append((line.n, data))
        if len(self._pending) >= self.FLUSH_EVERY:
            self.flush()
        return line

    def flush(self, *, end: str | None = None, ttl_seconds: int = 0) -> None:
        """Publish buffered lines (and the end marker) in one round trip; Redis trouble never fails a run."""
        pending, self._pending = self._pending, []
        if self._redis is None or (not pending and end is None):
            return
        try:
            pipe = self._redis.pipeline(transaction=False)
            for n, data in pending:
                pipe.xadd(self._key, {"n": n, "line": data}, maxlen=self._maxlen, approximate=True)
            if end is not None:
                pipe.xadd(self._key, {"end": end})
                pipe.expire(self._key, ttl_seconds)
            pipe.execute()
        except redis.RedisError as exc:
            logger.warning("live log unavailable for run %s: %s", self.run_id, exc)

    def end(self, status: str, *, ttl_seconds: int) -> None:
        """Tell live followers the run reached `status`, and let the stream expire."""
        self.close()
        self.flush(end=status, ttl_seconds=ttl_seconds)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def publish_end(client: redis.Redis | None, key: str, status: str, *, ttl_seconds: int) -> None:
    """The last entry of a live stream: the run's final status."""
    if client is None:
        return
    try:
        pipe = client.pipeline(transaction=False)
        pipe.xadd(key, {"end": status})
        pipe.expire(key, ttl_seconds)
        pipe.execute()
    except redis.RedisError as exc:
        logger.warning("could not publish the end of %s: %s", key, exc)


def count_lines(root: Path, run_id: uuid.UUID) -> int:
    """Lines already in the run's log file (an earlier attempt's), to continue numbering."""
    path = run_log_path(root, run_id)
    if not path.exists():
        return 0
    with open(path, "rb") as file:
        return sum(1 for _ in file)


def read_lines(root: Path, run_id: uuid.UUID, *, after: int = 0, limit: int | None = None) -> Iterator[LogLine]:
    """Persisted lines numbered above `after`, oldest first."""
    path = run_log_path(root, run_id)
    if not path.exists():
        return
    sent = 0
    with open(path, "rb") as file:
        for raw in file:
            if not raw.endswith(b"\n"):
                return  # a line still being written
            line = _decoder.decode(raw)
            if line.n <= after:
                continue
            yield line
            sent += 1
            if limit is not None and sent >= limit:
                return


def decode_line(data: bytes) -> LogLine:
    return _decoder.decode(data)
