"""Regular expressions that step over runs of binary records (xls BIFF8, xlsb BIFF12) at C speed, each record
checked to place its cell inside a box: a sheet's extent is then known without a Python step per record.

A record is matched only whole, its size read from its header: a pattern lists every size it accepts (one byte
of size, up to 255), so a run can never start inside a record or skip one's body. Records the patterns do not
list (longer ones, two-byte xlsb types, cells outside the box, the few records a walker acts on) stop the run,
and the walker reads that one record itself.
"""

from __future__ import annotations

from collections.abc import Iterable

#: Any byte: compiled with re.DOTALL, `.{n}` steps over n bytes at once (a class such as `[\x00-\xff]{n}` is
#: checked byte by byte, twice as slow over a whole sheet).
ANY = rb"."


def byte_class(low: int, high: int) -> bytes:
    """A pattern for one byte in [low, high] (`.` for any: the patterns are compiled with re.DOTALL)."""
    if (low, high) == (0, 255):
        return ANY
    if low == high:
        return rb"\x%02x" % low
    return rb"[\x%02x-\x%02x]" % (low, high)


def le_between(low: int, high: int, width: int) -> bytes:
    """A pattern for an unsigned little-endian integer of `width` bytes in [low, high]."""
    return b"(?:" + b"|".join(_render(part) for part in _split(low, high, width)) + b")"


def _split(low: int, high: int, width: int) -> list[list[tuple[int, int]]]:
    """[low, high] as boxes of per-byte ranges, most significant byte first."""
    if width == 0:
        return [[]]
    shift = 8 * (width - 1)
    top_low, top_high = low >> shift, high >> shift
    rest_low, rest_high, full = low & ((1 << shift) - 1), high & ((1 << shift) - 1), (1 << shift) - 1
    if top_low == top_high:
        return [[(top_low, top_low), *rest] for rest in _split(rest_low, rest_high, width - 1)]
    if rest_low == 0 and rest_high == full:
        return [[(top_low, top_high)] + [(0, 255)] * (width - 1)]
    parts = [[(top_low, top_low), *rest] for rest in _split(rest_low, full, width - 1)]
    if top_high - top_low > 1:
        parts.append([(top_low + 1, top_high - 1)] + [(0, 255)] * (width - 1))
    parts += [[(top_high, top_high), *rest] for rest in _split(0, rest_high, width - 1)]
    return parts


def _render(ranges: list[tuple[int, int]]) -> bytes:
    return b"".join(byte_class(low, high) for low, high in reversed(ranges))


def sized(common: Iterable[int], sizes: Iterable[int], size_bytes: int, body: bytes, body_width: int) -> bytes:
    """Records of each size in `common` and `sizes` (written in `size_bytes` little-endian bytes) whose body starts
    with the `body` pattern (`body_width` bytes long) and whose remaining bytes are anything.

    An alternation is tried in order, one branch per size: the common sizes come first, the others are grouped
    by the size's low byte's high nibble behind a one-byte class, so a record costs at most about 30 tries."""
    first = list(common)
    groups: dict[int, list[bytes]] = {}
    for size in sizes:
        if size not in first:
            groups.setdefault(size & 0xF0, []).append(_sized_one(size, size_bytes, body, body_width))
    branches = [_sized_one(size, size_bytes, body, body_width) for size in first]
    for nibble, group in groups.items():
        branches.append(b"(?=" + byte_class(nibble, nibble | 0x0F) + b")(?:" + b"|".join(group) + b")")
    return b"(?:" + b"|".join(branches) + b")"


def _sized_one(size: int, size_bytes: int, body: bytes, body_width: int) -> bytes:
    rest = size - body_width
    return re_bytes(size.to_bytes(size_bytes, "little")) + body + (ANY + b"{%d}" % rest if rest > 0 else b"")


def re_bytes(raw: bytes) -> bytes:
    """`raw` as a pattern matching exactly those bytes."""
    return b"".join(rb"\x%02x" % byte for byte in raw)
