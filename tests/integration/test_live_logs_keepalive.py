"""While a followed run is quiet, the live log sends SSE comments only: no empty message events."""

from __future__ import annotations

import uuid

import anyio
from sqlalchemy import Engine

from app.api.live_logs import LiveLogs
from app.api.stream_slots import StreamSlots
from app.db.database import database_for
from app.settings import Settings


def test_a_quiet_run_gets_keep_alive_comments_without_data(settings: Settings, engine: Engine, redis_client) -> None:  # type: ignore[no-untyped-def]
    async def first_quiet_message() -> bytes:
        live = LiveLogs(
            redis_url=settings.redis_url,
            namespace=settings.redis_namespace,
            database=database_for(engine),
            ttl_seconds=60,
            slots=StreamSlots(total=1, per_user=1),
        )
        try:
            async for message in live.follow(uuid.uuid4(), after=0, status_of=lambda _: "QUEUED"):
                return message.encode()  # nothing was logged: the first message is the keep-alive
            raise AssertionError("the follower ended without a message")
        finally:
            await live.close()

    sent = anyio.run(first_quiet_message)
    assert sent.startswith(b": keep-alive")
    assert b"data:" not in sent
    assert b"event:" not in sent
