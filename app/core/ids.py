"""Time-ordered UUIDs (version 7), so new rows land at the end of B-tree indexes."""

from __future__ import annotations

import os
import time
import uuid

#: The largest version number of a pipeline or a dataset: versions are Postgres `integer`s, and a larger one
#: reaching a query answered 500 (integer out of range).
MAX_VERSION = 2**31 - 1


def uuid7(now_ms: int | None = None) -> uuid.UUID:
    """A UUIDv7 (RFC 9562): 48-bit Unix milliseconds, then random bits."""
    ms = time.time_ns() // 1_000_000 if now_ms is None else now_ms
    rand = int.from_bytes(os.urandom(10), "big")
    value = (ms & 0xFFFF_FFFF_FFFF) << 80
    value |= 0x7 << 76  # version
    value |= ((rand >> 62) & 0xFFF) << 64  # 12 random bits
    value |= 0b10 << 62  # variant
    value |= rand & 0x3FFF_FFFF_FFFF_FFFF  # 62 random bits
    return uuid.UUID(int=value)
