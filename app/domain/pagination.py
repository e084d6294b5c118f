"""Keyset cursors: opaque to clients, a (timestamp, id) position inside."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime

import msgspec

from app.core.errors import InvalidParameter

MAX_LIMIT = 500


class Position(msgspec.Struct, array_like=True, frozen=True):
    at: datetime
    id: uuid.UUID


def encode_cursor(at: datetime, row_id: uuid.UUID) -> str:
    """An opaque cursor pointing after the row (at, row_id)."""
    return base64.urlsafe_b64encode(msgspec.json.encode(Position(at, row_id))).decode().rstrip("=")


def decode_cursor(cursor: str) -> Position:
    """The position in `cursor`, or a 400 `invalid_cursor`."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        position = msgspec.json.decode(raw, type=Position)
        position.at.astimezone(UTC)  # year 10000 once in UTC (9999-12-31T23:59-14:00) was a 500 in the driver
    except (ValueError, OverflowError, msgspec.DecodeError, msgspec.ValidationError):
        raise InvalidParameter(
            "the cursor is not one this API returned",
            code="invalid_cursor",
            errors=[{"field": "cursor", "message": "malformed cursor"}],
        ) from None
    return position


def check_limit(limit: int) -> int:
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidParameter(
            f"limit must be between 1 and {MAX_LIMIT}",
            code="invalid_limit",
            errors=[{"field": "limit", "message": f"must be between 1 and {MAX_LIMIT}"}],
        )
    return limit
