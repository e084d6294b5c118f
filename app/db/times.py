"""Reading a `timestamptz` Python cannot hold: clamped to datetime's ends instead of failing the whole result.

Postgres stores times to the year 294276 (and `infinity`); Python's datetime ends at year 9999. A deployment
stored before the API's time rule (app.scheduling.spec.check_time), with `end_at` at 9999-12-31T23:59:59-14:00
(year 10000 in UTC) or a backfilled run in 1 BC, made psycopg raise DataError for the row, and so every list
that held it answered 500 for everybody. Such a time reads as datetime.max (after year 9999, `infinity`) or
datetime.min (before year 1, `-infinity`) in UTC; migration 0018 repairs the rows themselves.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import psycopg
from psycopg.adapt import Buffer, Loader
from psycopg.postgres import adapters
from psycopg.pq import Format
from sqlalchemy import Engine, event

#: What a time past either end of datetime reads as.
LATEST = datetime.max.replace(tzinfo=UTC)
EARLIEST = datetime.min.replace(tzinfo=UTC)
_OID = adapters.types["timestamptz"].oid


class _Clamping(Loader):
    """The driver's own loader (C when available), asked first; only a value it refuses takes the slow path."""

    def __init__(self, oid: int, context: Any = None) -> None:
        super().__init__(oid, context)
        self._inner = adapters.get_loader(_OID, self.format)(oid, context)  # type: ignore[misc]

    def load(self, data: Buffer) -> datetime:
        try:
            return self._inner.load(data)  # type: ignore[no-any-return]
        except psycopg.DataError:
            return EARLIEST if self._before_year_1(bytes(data)) else LATEST

    @staticmethod
    def _before_year_1(data: bytes) -> bool:
        return data.endswith(b" BC") or data == b"-infinity"


class ClampingTimestamptzLoader(_Clamping):
    format = Format.TEXT


class ClampingTimestamptzBinaryLoader(_Clamping):
    format = Format.BINARY

    @staticmethod
    def _before_year_1(data: bytes) -> bool:
        return int.from_bytes(data, "big", signed=True) < 0  # microseconds since 2000-01-01, -infinity included


def register(engine: Engine) -> None:
    """Every connection `engine` opens reads timestamptz through the clamping loaders."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.adapters.register_loader("timestamptz", ClampingTimestamptzLoader)
        dbapi_connection.adapters.register_loader("timestamptz", ClampingTimestamptzBinaryLoader)
