"""How `complete` plans an S3 upload's object from its chunk objects: parts in order, none when chunks overlap."""

from __future__ import annotations

import pytest

from app.core.errors import Conflict
from app.domain.upload_assembly import plan
from app.storage.base import MIN_PART_BYTES, PartsRefused, check_parts

MIB = 1 << 20


def test_contiguous_chunks_are_the_parts_in_order() -> None:
    chunks = [(8 * MIB, "b", 8 * MIB), (0, "a", 8 * MIB), (16 * MIB, "c", 5)]
    assert plan(chunks, 16 * MIB + 5) == [("a", 0, 8 * MIB), ("b", 0, 8 * MIB), ("c", 0, 5)]


def test_overlapping_or_repeated_chunks_make_no_plan() -> None:
    """A range sent again may hold other bytes than those hashed as they arrived: the request reads them all."""
    assert plan([(0, "a", 10), (5, "b", 10)], 15) is None
    assert plan([(0, "a", 10), (0, "b", 10)], 10) is None


def test_a_gap_or_a_short_end_is_upload_incomplete() -> None:
    for chunks, size in (([(0, "a", 10), (12, "b", 3)], 15), ([(0, "a", 10)], 15), ([(3, "a", 10)], 13)):
        with pytest.raises(Conflict) as refused:
            plan(chunks, size)
        assert refused.value.code == "upload_incomplete"


def test_parts_follow_s3_s_rules() -> None:
    check_parts([("a", 0, MIN_PART_BYTES), ("b", 0, 1)])
    check_parts([])
    with pytest.raises(PartsRefused):
        check_parts([("a", 0, MIN_PART_BYTES - 1), ("b", 0, MIN_PART_BYTES)])
    with pytest.raises(PartsRefused):
        check_parts([("a", 4, 4)])
