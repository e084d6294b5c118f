"""The byte ranges of a resumable upload: a chunk's Content-Range read, and the ranges received merged, bounded and
turned into those still missing. Pure: the upload's row and its files are app.domain.uploads'."""

from __future__ import annotations

import re

from app.core.errors import Conflict, DomainError, InvalidInput

_CONTENT_RANGE = re.compile(r"^bytes ([0-9]+)-([0-9]+)/([0-9]+|\*)$")
#: More digits (leading zeros aside) than an upload's size (a BIGINT) has: such a range cannot fit, and int()
#: refuses a number past 4300 digits.
_MAX_DIGITS = 19
#: Most separate byte ranges an upload keeps (its `ranges`, rewritten on every PUT): 1-byte chunks at every
#: other offset would otherwise grow that list, and each PUT's work, without end. A range that joins others
#: is always taken; one that would make more separate ranges than this is refused.
MAX_RANGES = 1000


class RangeNotSatisfiable(DomainError):
    status, code, title = 416, "range_not_satisfiable", "Range not satisfiable"


class TooManyRanges(Conflict):
    code = "too_many_ranges"


def parse_content_range(header: str | None, size: int) -> tuple[int, int]:
    """`bytes start-end/total` → [start, end + 1), checked against the upload's size."""
    match = _CONTENT_RANGE.match((header or "").strip())
    if not match:
        raise InvalidInput(
            "send each chunk with a Content-Range header: bytes START-END/TOTAL",
            code="invalid_content_range",
            errors=[{"field": "Content-Range", "message": "expected bytes START-END/TOTAL"}],
        )
    if any(len(number.lstrip("0")) > _MAX_DIGITS for number in match.groups()):
        raise RangeNotSatisfiable(f"the range's numbers are longer than {_MAX_DIGITS} digits; no upload is that large")
    start, end, total = int(match[1]), int(match[2]), match[3]
    if end < start or end >= size or (total != "*" and int(total) != size):
        raise RangeNotSatisfiable(f"bytes {start}-{end} do not fit an upload of {size} bytes")
    return start, end + 1


def merge(ranges: list[list[int]]) -> list[list[int]]:
    """The byte ranges `ranges` cover, sorted, touching or overlapping ones joined. Pure."""
    merged: list[list[int]] = []
    for low, high in sorted(ranges):
        if merged and low <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], high)
        else:
            merged.append([low, high])
    return merged


def add_range(ranges: list[list[int]], start: int, end: int) -> list[list[int]]:
    """`ranges` with [start, end) merged in (sorted, no overlaps); TooManyRanges past MAX_RANGES. Pure."""
    merged = merge([*ranges, [start, end]])
    if len(merged) > max(MAX_RANGES, len(ranges)):
        raise TooManyRanges(
            f"bytes {start}-{end - 1} would make {len(merged)} separate ranges, more than {MAX_RANGES}: "
            "send ranges that join those already received (see `missing`)"
        )
    return merged


def missing_ranges(ranges: list[list[int]], size: int) -> list[list[int]]:
    """The byte ranges of [0, size) not received yet. Pure."""
    gaps, at = [], 0
    for low, high in ranges:
        if low > at:
            gaps.append([at, low])
        at = max(at, high)
    if at < size:
        gaps.append([at, size])
    return gaps
