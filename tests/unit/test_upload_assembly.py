"""How `complete` plans an S3 upload's object from its chunk objects: each byte from the chunk written last that
holds it, parts in order, overlaps told (the digest hashed as chunks arrived is then not trusted)."""

from __future__ import annotations

import pytest

from app.core.errors import Conflict
from app.domain.upload_assembly import layers
from app.storage.base import MIN_PART_BYTES, PartsRefused, check_parts

MIB = 1 << 20


def chunk(start: int, written: int, length: int) -> tuple[int, str, int]:
    return start, f"uploads/x/chunks/{start:015d}-{written:020d}abcdef01", length


def test_contiguous_chunks_are_the_parts_in_order_and_none_overlaps() -> None:
    a, b, c = chunk(0, 1, 8 * MIB), chunk(8 * MIB, 2, 8 * MIB), chunk(16 * MIB, 3, 5)
    assert layers([b, a, c], 16 * MIB + 5) == ([(a[1], 0, 8 * MIB), (b[1], 0, 8 * MIB), (c[1], 0, 5)], False)


def test_a_range_sent_again_wins_over_the_bytes_it_was_written_over_whatever_its_start() -> None:
    """As on a local root, where a resend is written over the bytes before it; S3 took the chunk starting first,
    and at one start a random one, so a corrected resend could lose to the bad bytes it replaced."""
    first, inside, again = chunk(0, 1, 100), chunk(20, 2, 10), chunk(0, 3, 10)
    parts, overlapped = layers([inside, again, first], 100)
    assert overlapped
    assert parts == [(again[1], 0, 10), (first[1], 10, 20), (inside[1], 0, 10), (first[1], 30, 100)]


def test_an_older_chunk_under_a_newer_one_shows_only_where_the_newer_does_not_reach() -> None:
    newer, older = chunk(0, 9, 50), chunk(0, 1, 80)
    assert layers([newer, older], 80) == ([(newer[1], 0, 50), (older[1], 50, 80)], True)


def test_a_gap_or_a_short_end_is_upload_incomplete() -> None:
    for chunks, size in (
        ([chunk(0, 1, 10), chunk(12, 2, 3)], 15),
        ([chunk(0, 1, 10)], 15),
        ([chunk(3, 1, 10)], 13),
    ):
        with pytest.raises(Conflict) as refused:
            layers(chunks, size)
        assert refused.value.code == "upload_incomplete"


def test_parts_follow_s3_s_rules() -> None:
    check_parts([("a", 0, MIN_PART_BYTES), ("b", 0, 1)])
    check_parts([])
    with pytest.raises(PartsRefused):
        check_parts([("a", 0, MIN_PART_BYTES - 1), ("b", 0, MIN_PART_BYTES)])
    with pytest.raises(PartsRefused):
        check_parts([("a", 4, 4)])
