"""A pooled connection the server has already closed is replaced as it leaves the pool, without a round trip.

When PostgreSQL ends a session (a restart, pg_terminate_backend, idle_session_timeout) it sends its goodbye
and closes the socket; a proxy that drops an idle client closes it too. Either way the idle connection's
socket turns readable, which one poll(2) with no wait tells, where a pre-ping costs a round trip on every
checkout. An idle pooled connection has nothing else to say (nobody LISTENs on one), so a readable one is
taken as gone and the pool connects afresh: at worst one needless reconnect. A server that vanished without
closing (a host lost, a network cut) is still found by the first statement, which the API retries once
(app/api/dropped_connections.py) and the workers and the scheduler retry as ever.
"""

from __future__ import annotations

import select
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.exc import DisconnectionError


def closed_by_server(connection: Any) -> bool:
    """Whether the idle psycopg `connection` is closed, or the server has sent it something (its goodbye)."""
    if connection.closed or connection.broken:
        return True
    try:
        poller = select.poll()  # not select(): a descriptor past 1023 is fine
        poller.register(connection.fileno(), select.POLLIN)
        return bool(poller.poll(0))
    except (OSError, ValueError):
        return True


def _on_checkout(dbapi_connection: Any, _record: object, _proxy: object) -> None:
    if closed_by_server(dbapi_connection):
        # The pool replaces this connection and hands out the new one; the caller sees no error.
        raise DisconnectionError("the server closed this pooled connection while it was idle")


def register(engine: Engine) -> None:
    event.listen(engine, "checkout", _on_checkout)
