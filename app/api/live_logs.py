"""Following a run's log live: the stored lines first (Postgres), then the Redis stream, then the end.

Each SSE event's id is the line number, so a client that reconnects with
Last-Event-ID gets exactly the lines it missed, from whichever API host. If
Redis is unavailable the follower falls back to polling the stored log, so it
still gets every line and its end (the outage is said once per process:
app/redis_link.py).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import anyio
import msgspec
import redis
import redis.asyncio as aioredis
from litestar.response import ServerSentEventMessage

from app.api.stream_slots import StreamSlots
from app.core.states import FINAL
from app.db.database import Database
from app.domain.runlogs import LogLine, decode_line, publish_end, read_lines, stream_key
from app.redis_link import SHORT_WAIT_SECONDS, RedisLink, redis_unreachable, short_waits

logger = logging.getLogger(__name__)

#: How long one XREAD blocks before the run's status is looked at again.
BLOCK_MS = 2000
#: Sent while nothing happens, so proxies keep the connection: a comment only (a `data:` line, even an
#: empty one, would make browsers fire an empty message event).
KEEP_ALIVE = ServerSentEventMessage(comment="keep-alive", data=None)
#: Poll period when following the stored log because Redis is unavailable.
POLL_SECONDS = 0.5
#: Redis connections beyond one per stream slot, for the rest of what the API asks Redis asynchronously.
SPARE_CONNECTIONS = 8


class LiveLogs:
    def __init__(
        self,
        *,
        redis_url: str,
        namespace: str,
        database: Database,
        ttl_seconds: int,
        legacy_root: Path | None = None,
        slots: StreamSlots,
    ) -> None:
        self.namespace = namespace
        self.database = database
        self.legacy_root = legacy_root
        self.ttl_seconds = ttl_seconds
        #: Who may follow a stream now: each slot gets a Redis connection of its own from `_async`'s pool.
        self.slots = slots
        self._sync = redis.Redis.from_url(redis_url, **short_waits())
        #: An XREAD blocks BLOCK_MS before its answer: that is not a silent Redis.
        self._async = aioredis.Redis.from_url(
            redis_url,
            max_connections=self.slots.total + SPARE_CONNECTIONS,
            **{**short_waits(asynchronous=True), "socket_timeout": BLOCK_MS / 1000 + SHORT_WAIT_SECONDS},
        )
        #: Whether Redis answers this process's live logs, said once per outage.
        self.link = RedisLink(
            logger,
            while_lost="live-log followers read the stored log instead, and runs' ends are not streamed",
            when_back="streaming live logs again",
            deferred="followers moved to the stored log",
        )

    def end(self, run_id: uuid.UUID, status: str) -> None:
        """Tell followers a run ended without a worker (e.g. cancelled while queued)."""
        publish_end(
            self._sync, stream_key(self.namespace, run_id), status, ttl_seconds=self.ttl_seconds, link=self.link
        )

    def _lines_after(self, run_id: uuid.UUID, after: int) -> list[LogLine]:
        with self.database.connection() as connection:
            return list(read_lines(connection, run_id, after=after, legacy_root=self.legacy_root))

    def ping(self) -> None:
        self._sync.ping()

    async def close(self) -> None:
        await self._async.aclose()
        self._sync.close()

    async def follow(
        self, run_id: uuid.UUID, *, after: int, status_of: Callable[[uuid.UUID], str]
    ) -> AsyncIterator[ServerSentEventMessage]:
        """SSE messages: `log` events (id = line number), then one `end` event with the final status."""
        last = after
        for line in await anyio.to_thread.run_sync(self._lines_after, run_id, after):
            last = line.n
            yield _log_event(line)
        key = stream_key(self.namespace, run_id)
        stream_id = "0-0"
        while True:
            try:
                reply = await self._async.xread({key: stream_id}, block=BLOCK_MS, count=500)
            except redis.RedisError as exc:
                if redis_unreachable(exc):
                    self.link.lost(exc, deferred=1)
                else:
                    logger.warning("live log stream refused for %s, polling the stored log: %s", run_id, exc)
                async for message in self._poll(run_id, last, status_of):
                    yield message
                return
            self.link.ok()
            for _, entries in reply or []:
                for entry_id, fields in entries:
                    stream_id = entry_id
                    if b"end" in fields:
                        async for message in self._finish(run_id, last, fields[b"end"].decode()):
                            yield message
                        return
                    if int(fields[b"n"]) > last:
                        line = decode_line(fields[b"line"])
                        last = line.n
                        yield _log_event(line)
            if not reply:
                status = await anyio.to_thread.run_sync(status_of, run_id)
                if status in FINAL:
                    async for message in self._finish(run_id, last, status):
                        yield message
                    return
                yield KEEP_ALIVE

    async def _poll(
        self, run_id: uuid.UUID, last: int, status_of: Callable[[uuid.UUID], str]
    ) -> AsyncIterator[ServerSentEventMessage]:
        while True:
            status = await anyio.to_thread.run_sync(status_of, run_id)
            lines = await anyio.to_thread.run_sync(self._lines_after, run_id, last)
            for line in lines:
                last = line.n
                yield _log_event(line)
            if status in FINAL:
                yield _end_event(status, last)
                return
            await anyio.sleep(POLL_SECONDS)

    async def _finish(self, run_id: uuid.UUID, last: int, status: str) -> AsyncIterator[ServerSentEventMessage]:
        """Lines the stream may have missed (trimmed or lost), then the end event."""
        for line in await anyio.to_thread.run_sync(self._lines_after, run_id, last):
            last = line.n
            yield _log_event(line)
        yield _end_event(status, last)


def _log_event(line: LogLine) -> ServerSentEventMessage:
    return ServerSentEventMessage(data=msgspec.json.encode(line).decode(), event="log", id=str(line.n))


def _end_event(status: str, last: int) -> ServerSentEventMessage:
    return ServerSentEventMessage(data=f'{{"status": "{status}", "lines": {last}}}', event="end")
