"""Live log streams take a slot each: past the limits (in all, per user) a stream is refused at once, and every way a
stream ends gives its slot back."""

from __future__ import annotations

import gc
import uuid
from collections.abc import AsyncIterator

import anyio
import pytest

from app.api.stream_slots import StreamSlots
from app.core.errors import TooManyRequests

ADA, BOB = uuid.uuid4(), uuid.uuid4()


async def lines(n: int = 3) -> AsyncIterator[int]:
    for i in range(n):
        yield i


def test_a_user_past_their_streams_is_refused_with_a_retry_after_and_others_are_not() -> None:
    slots = StreamSlots(total=10, per_user=2)
    held = [slots.follow(ADA, lines()), slots.follow(ADA, lines())]
    with pytest.raises(TooManyRequests) as refused:
        slots.follow(ADA, lines())
    assert (refused.value.status, refused.value.code, refused.value.retry_after) == (429, "too_many_streams", 5)
    held.append(slots.follow(BOB, lines()))
    assert (slots.held_by(ADA), slots.in_use) == (2, 3)


def test_the_server_past_its_streams_refuses_everyone() -> None:
    slots = StreamSlots(total=2, per_user=2)
    held = [slots.follow(ADA, lines()), slots.follow(BOB, lines())]
    with pytest.raises(TooManyRequests, match="this server already follows 2 live logs"):
        slots.follow(uuid.uuid4(), lines())
    assert len(held) == 2


def test_a_stream_that_ends_is_closed_or_is_dropped_unstarted_gives_its_slot_back() -> None:
    slots = StreamSlots(total=10, per_user=3)

    async def main() -> None:
        ended = slots.follow(ADA, lines())
        assert [i async for i in ended] == [0, 1, 2]
        assert slots.held_by(ADA) == 0
        closed = slots.follow(ADA, lines(100))
        assert await closed.__anext__() == 0
        assert slots.held_by(ADA) == 1
        await closed.aclose()  # the client went away mid-stream
        assert slots.held_by(ADA) == 0
        dropped = slots.follow(ADA, lines())  # the response never started (the client left before the headers)
        assert slots.held_by(ADA) == 1
        del dropped
        gc.collect()
        assert slots.held_by(ADA) == 0

    anyio.run(main)
    assert slots.in_use == 0
