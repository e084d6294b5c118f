"""How many live log streams one API process follows at once, in all and per user.

Each live stream holds one Redis connection blocked in XREAD. Past the Redis pool's connections (100 by default)
a stream fell back to polling Postgres twice a second, from the API's thread pool: 1,500 streams one client
opened and left open made an ordinary request wait 25 s. A stream now takes a slot before it starts; with none
left it is refused at once with 429 `too_many_streams` and a Retry-After, and its slot is given back when the
stream ends, the client goes away, or the response is dropped unstarted.
"""

from __future__ import annotations

import uuid
import weakref
from collections import Counter
from collections.abc import AsyncIterator
from typing import TypeVar

from app.core.errors import TooManyRequests

T = TypeVar("T")

#: What a refused client is told to wait before it tries again.
RETRY_AFTER_SECONDS = 5


class StreamSlots:
    """Counts the streams being followed, in all and per user; refuses one past either limit."""

    def __init__(self, *, total: int, per_user: int) -> None:
        self.total = total
        self.per_user = per_user
        self._held: Counter[uuid.UUID] = Counter()

    @property
    def in_use(self) -> int:
        return sum(self._held.values())

    def held_by(self, user_id: uuid.UUID) -> int:
        return self._held[user_id]

    def follow(self, user_id: uuid.UUID, stream: AsyncIterator[T]) -> AsyncIterator[T]:
        """`stream`, holding a slot of `user_id`'s until it ends or is dropped; TooManyRequests when none is left."""
        if self._held[user_id] >= self.per_user:
            raise TooManyRequests(
                f"you already follow {self.per_user} live logs: close one (or read GET …/logs) and try again",
                retry_after=RETRY_AFTER_SECONDS,
                code="too_many_streams",
            )
        if self.in_use >= self.total:
            raise TooManyRequests(
                f"this server already follows {self.total} live logs; try again shortly (or read GET …/logs)",
                retry_after=RETRY_AFTER_SECONDS,
                code="too_many_streams",
            )
        self._held[user_id] += 1
        released = False

        def release() -> None:
            nonlocal released
            if not released:
                released = True
                self._held[user_id] -= 1
                if self._held[user_id] <= 0:
                    del self._held[user_id]

        async def held() -> AsyncIterator[T]:
            try:
                async for item in stream:
                    yield item
            finally:
                release()

        wrapped = held()
        weakref.finalize(wrapped, release)  # a response dropped before it started never runs the finally
        return wrapped
