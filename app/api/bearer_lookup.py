"""Bearer tokens resolved on the event loop: the guard's one query per request, without a hop to a thread.

The guard ran its lookup in a worker thread (anyio.to_thread) over a pooled SQLAlchemy connection: two
thread switches and the SQLAlchemy execution layer around one indexed SELECT, on every authenticated
request, and on a submit a third of the API's CPU beside the handler's own thread hop. Here the same named
query (`resolve_bearer_token`) runs on a few autocommit async psycopg connections held by the app.
"""

from __future__ import annotations

import asyncio
from typing import Any

import psycopg
from psycopg.rows import dict_row

from app.db.outage import database_unavailable
from app.db.queries import psycopg_query
from app.domain.permissions import Principal
from app.domain.sessions import bearer_principal
from app.domain.tokens import hash_token

#: Lookups in flight at once per API process (each holds one connection for one round trip).
CONNECTIONS = 8


class BearerLookup:
    """Up to `size` autocommit async connections, opened on first use; a failed one is closed, never reused.

    They belong to the event loop that opened them: a lookup on another loop (a second test client of the
    same app) drops them and opens its own.
    """

    def __init__(self, conninfo: str, *, size: int = CONNECTIONS, connect_timeout: int = 5) -> None:
        self._conninfo = conninfo
        self._size = size
        self._connect_timeout = connect_timeout
        self._idle: list[psycopg.AsyncConnection[dict[str, Any]]] = []
        self._slots: asyncio.Semaphore | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def resolve(self, token: str) -> Principal:
        """The caller behind `token`; 401 if it is unknown, expired, revoked or its user disabled."""
        async with self._slots_of(asyncio.get_running_loop()):
            return bearer_principal(await self._lookup(hash_token(token)))

    async def _lookup(self, hashed: str) -> Any:
        if self._idle:
            try:
                return await self._query(self._idle.pop(), hashed)
            except BaseException as exc:
                if not database_unavailable(exc):
                    raise
            # A kept connection the server dropped (a restart, an idle timeout) is found out by its first query,
            # where the SQLAlchemy pool's pre-ping found it before: the other kept ones, opened before the same
            # loss, are closed too, and the query goes once more on a new connection, so the caller sees no error.
            await self.close()
        return await self._query(await self._connect(), hashed)

    async def _query(self, connection: psycopg.AsyncConnection[dict[str, Any]], hashed: str) -> Any:
        try:
            cursor = await connection.execute(psycopg_query("resolve_bearer_token"), {"hash": hashed}, prepare=True)
            row = await cursor.fetchone()
        except BaseException:
            await connection.close()  # broken, or cancelled mid-statement: never handed out again
            raise
        self._idle.append(connection)
        return row

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        for connection in idle:
            await connection.close()

    def _slots_of(self, loop: asyncio.AbstractEventLoop) -> asyncio.Semaphore:
        if self._slots is None or self._loop is not loop:
            for connection in self._idle:  # opened on a loop that is gone: closed without it
                connection.pgconn.finish()
            self._idle, self._loop, self._slots = [], loop, asyncio.Semaphore(self._size)
        return self._slots

    async def _connect(self) -> psycopg.AsyncConnection[dict[str, Any]]:
        return await psycopg.AsyncConnection.connect(
            self._conninfo, autocommit=True, connect_timeout=self._connect_timeout, row_factory=dict_row
        )
