"""Keyset cursors: opaque to clients, a (timestamp, id) position inside, or a number for a numbered list.

A cursor the API hands out also carries its scope, a tag of the list and the filters it was made for: one passed to
another list, or to the same list with other filters or order, would start a page at a position that means
something else there (a wrong page, or a skipped one), so it is 400 `invalid_cursor`. So is a cursor from before
scopes existed (it has no tag): a client starts again from the first page.
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

import msgspec
from sqlalchemy import Select, tuple_
from sqlalchemy.orm import InstrumentedAttribute

from app.core.errors import InvalidParameter
from app.core.ids import MAX_VERSION

MAX_LIMIT = 500
#: The largest Postgres bigint: a row id (audit entries, occurrences) a cursor's UUID may carry.
MAX_BIGINT = 2**63 - 1


class Position(msgspec.Struct, array_like=True, frozen=True):
    at: datetime
    id: uuid.UUID


class NumberPosition(msgspec.Struct, array_like=True, frozen=True):
    """A position in a list ordered by a number (a pipeline's versions), within a Postgres integer."""

    number: Annotated[int, msgspec.Meta(ge=0, le=MAX_VERSION)]


P = TypeVar("P", Position, NumberPosition)


def encode_cursor(at: datetime, row_id: uuid.UUID) -> str:
    """An opaque cursor pointing after the row (at, row_id)."""
    return _encode(Position(at, row_id))


def encode_number_cursor(number: int) -> str:
    """An opaque cursor pointing after the row numbered `number`."""
    return _encode(NumberPosition(number))


def _encode(position: Position | NumberPosition) -> str:
    return base64.urlsafe_b64encode(msgspec.json.encode(position)).decode().rstrip("=")


def numbered_page(
    query: Select[Any], number: InstrumentedAttribute[int], *, limit: int, cursor: str | None
) -> Select[Any]:
    """`query` as up to `limit + 1` rows, highest `number` first, after the cursor's (the extra one says more exist)."""
    if cursor:
        query = query.where(number < decode_number_cursor(cursor))
    return query.order_by(number.desc()).limit(limit + 1)


def newest_first(
    query: Select[Any],
    at: InstrumentedAttribute[datetime],
    row_id: InstrumentedAttribute[uuid.UUID],
    *,
    limit: int,
    cursor: str | None,
) -> Select[Any]:
    """`query` as up to `limit + 1` rows, newest (`at`, `row_id`) first, after the cursor's (the extra one says more
    exist)."""
    if cursor:
        position = decode_cursor(cursor)
        query = query.where(tuple_(at, row_id) < tuple_(position.at, position.id))
    return query.order_by(at.desc(), row_id.desc()).limit(limit + 1)


def decode_number_cursor(cursor: str) -> int:
    """The number in a cursor from encode_number_cursor, or a 400 `invalid_cursor`."""
    return decode_cursor(cursor, NumberPosition).number


def decode_cursor(cursor: str, kind: type[P] = Position) -> P:  # type: ignore[assignment]
    """The position in `cursor`, or a 400 `invalid_cursor`."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        position = msgspec.json.decode(raw, type=kind)
        if isinstance(position, Position):
            position.at.astimezone(UTC)  # year 10000 once in UTC (9999-12-31T23:59-14:00) was a 500 in the driver
    except (ValueError, OverflowError, msgspec.DecodeError, msgspec.ValidationError):
        raise InvalidParameter(
            "the cursor is not one this API returned",
            code="invalid_cursor",
            errors=[{"field": "cursor", "message": "malformed cursor"}],
        ) from None
    return position


def decode_row_cursor(cursor: str) -> tuple[datetime, int]:
    """The (timestamp, bigint row id) of a cursor whose UUID carries a row id, or a 400 `invalid_cursor`: a UUID past
    a bigint reached the column and was a 500 (NumericValueOutOfRange)."""
    position = decode_cursor(cursor)
    if position.id.int > MAX_BIGINT:
        raise InvalidParameter(
            "the cursor is not one this API returned",
            code="invalid_cursor",
            errors=[{"field": "cursor", "message": "malformed cursor"}],
        )
    return position.at, position.id.int


def list_scope(name: str, path: Mapping[str, object], filters: Iterable[tuple[str, str]]) -> str:
    """What a cursor is good for: the list (its operation), its path parameters and its filters (any order)."""
    parts = [name, *(f"{k}={path[k]}" for k in sorted(path)), *sorted(f"{k}={v}" for k, v in filters)]
    return "\n".join(parts)


def scoped(cursor: str, scope: str) -> str:
    """`cursor` tagged with its scope (see list_scope)."""
    return f"{_tag(scope)}.{cursor}"


def unscoped(cursor: str | None, scope: str) -> str | None:
    """The position part of a cursor `scoped` made for `scope`; 400 `invalid_cursor` when it was made for another
    list or other filters, or has no scope (an older cursor)."""
    if not cursor:
        return cursor
    tag, dot, position = cursor.partition(".")
    if not dot or tag != _tag(scope):
        raise InvalidParameter(
            "the cursor belongs to another list, or to this list with other filters or order: "
            "send the same query as for the page it came from, or start from the first page",
            code="invalid_cursor",
            errors=[{"field": "cursor", "message": "not a cursor of this list with these filters"}],
        )
    return position


def _tag(scope: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(scope.encode()).digest()[:12]).decode()


def check_limit(limit: int) -> int:
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidParameter(
            f"limit must be between 1 and {MAX_LIMIT}",
            code="invalid_limit",
            errors=[{"field": "limit", "message": f"must be between 1 and {MAX_LIMIT}"}],
        )
    return limit
