"""Run logs: durable in Postgres (`run_log_chunks`), fanned out live through a Redis stream for SSE.

Any API host reads any run's log from Postgres, while the run goes on and after
it ends; hosts share no disk. A chunk row holds consecutive lines of one run
(NDJSON, numbered first_n..last_n, dense), so a page of 1,000 lines is one
index range scan of a few rows. The stream only fans lines out to live
followers and carries a final `end` entry; losing Redis loses no log.
Workers write through app.domain.runlog_buffer.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import msgspec
import redis
from sqlalchemy import Connection

from app.db.queries import query
from app.paths import run_log_path
from app.redis_link import RedisLink, redis_unreachable

logger = logging.getLogger(__name__)

#: No line is numbered above this (a Postgres int).
LAST_POSSIBLE = 2**31 - 1


class LogLine(msgspec.Struct, kw_only=True):
    """One line of a run's log. `n` counts from 1 across all attempts of the run."""

    n: int
    ts: datetime
    level: str
    message: str
    attempt: int
    step: int | None = None
    #: A line Conveyor writes itself: its notice (code and parameters, app.core.run_notices), as plain data.
    notice: dict[str, Any] | None = None


def stream_key(namespace: str, run_id: uuid.UUID | str) -> str:
    """Redis key of a run's live log stream."""
    return f"{namespace}:runlog:{run_id}"


_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(LogLine)


def encode_line(line: LogLine) -> bytes:
    return _encoder.encode(line)


def decode_line(data: bytes) -> LogLine:
    return _decoder.decode(data)


def publish_end(client: redis.Redis | None, key: str, status: str, *, ttl_seconds: int, link: RedisLink) -> None:
    """The last entry of a live stream: the run's final status.

    Without Redis, followers see the end anyway (they look at the run's status between reads): a lost Redis is
    said through `link`, once per outage; any other refusal each time.
    """
    if client is None:
        return
    try:
        pipe = client.pipeline(transaction=False)
        pipe.xadd(key, {"end": status})
        pipe.expire(key, ttl_seconds)
        pipe.execute()
    except redis.RedisError as exc:
        if redis_unreachable(exc):
            link.lost(exc)
        else:
            logger.warning("could not publish the end of %s: %s", key, exc)
        return
    link.ok()


def last_line(connection: Connection, run_id: uuid.UUID) -> int:
    """The highest line number stored for the run (0 if none): a new attempt numbers on from it."""
    return int(connection.execute(query("last_log_line"), {"run_id": run_id}).scalar_one())


def read_lines(
    connection: Connection,
    run_id: uuid.UUID,
    *,
    after: int = 0,
    limit: int | None = None,
    legacy_root: Path | None = None,
) -> Iterator[LogLine]:
    """Stored lines numbered above `after`, oldest first, at most `limit`.

    Only the chunks that overlap after+1..after+limit are fetched, and only the lines in that range are
    decoded. A line number seen twice (a worker that lost its lease wrote on) is given once, the first.
    A run logged before logs moved into Postgres is read from its NDJSON file under `legacy_root`, if there.
    """
    upto = LAST_POSSIBLE if limit is None else min(after + limit, LAST_POSSIBLE)
    rows = connection.execute(query("run_log_page"), {"run_id": run_id, "after": after, "upto": upto}).all()
    if not rows:
        if legacy_root is not None:
            yield from _legacy_lines(legacy_root, run_id, after=after, upto=upto)
        return
    last = after
    for row in rows:
        raw_lines = bytes(row.lines).split(b"\n")
        skip = max(0, last - row.first_n + 1)  # lines in a chunk are numbered first_n, first_n + 1, ...
        for raw in raw_lines[skip:]:
            if not raw:
                continue
            line = _decoder.decode(raw)
            if line.n > upto:
                return
            if line.n > last:
                last = line.n
                yield line


def _legacy_lines(root: Path, run_id: uuid.UUID, *, after: int, upto: int) -> Iterator[LogLine]:
    path = run_log_path(root, run_id)
    if not path.exists():
        return
    with open(path, "rb") as file:
        for raw in file:
            if not raw.endswith(b"\n"):
                return
            line = _decoder.decode(raw)
            if line.n > upto:
                return
            if line.n > after:
                yield line
