"""The received ranges of a resumable upload stay few: a range that would make too many separate ones is refused."""

from __future__ import annotations

import pytest

from app.domain.upload_ranges import MAX_RANGES, TooManyRanges, add_range


def every_other_byte(count: int) -> list[list[int]]:
    return [[2 * i, 2 * i + 1] for i in range(count)]


def test_a_range_past_the_bound_is_refused_with_a_stable_code() -> None:
    full = every_other_byte(MAX_RANGES)
    with pytest.raises(TooManyRanges) as refused:
        add_range(full, 2 * MAX_RANGES, 2 * MAX_RANGES + 1)
    assert (refused.value.status, refused.value.code) == (409, "too_many_ranges")


def test_ranges_that_join_or_overlap_are_taken_at_the_bound() -> None:
    full = every_other_byte(MAX_RANGES)
    assert len(add_range(full, 1, 2)) == MAX_RANGES - 1  # fills a gap
    assert len(add_range(full, 0, 1)) == MAX_RANGES  # sent again
    assert len(add_range(full, 2 * MAX_RANGES - 1, 2 * MAX_RANGES + 5)) == MAX_RANGES  # extends the last


def test_an_upload_already_past_the_bound_can_still_be_completed() -> None:
    """A row from before the bound: ranges that join are taken, ones that add a separate range are not."""
    many = every_other_byte(MAX_RANGES + 10)
    assert len(add_range(many, 1, 4)) == MAX_RANGES + 8
    with pytest.raises(TooManyRanges):
        add_range(many, 10_000_000, 10_000_001)
