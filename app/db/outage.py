"""Database outages: telling one from any other error, and waiting one out.

A restart or a lost network drops every pooled connection. SQLAlchemy notices
a dropped connection on its first use and invalidates the whole pool, so the
next checkout connects afresh; what the callers need is to know that the error
was an outage (answer 503, or try the same write again) and not a bug.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

import psycopg
from sqlalchemy.exc import DBAPIError

logger = logging.getLogger(__name__)

T = TypeVar("T")

#: SQLSTATEs that mean "the server is going away or not accepting connections yet".
UNAVAILABLE_STATES = frozenset({"57P01", "57P02", "57P03", "53300"})
#: SQLSTATE class of connection exceptions.
CONNECTION_CLASS = "08"
#: Pauses between tries of a write while the database is down (the last one repeats).
RETRY_PAUSES = (0.1, 0.25, 0.5, 1.0, 2.0)


def database_unavailable(exc: BaseException) -> bool:
    """Whether `exc` says the database cannot be reached (down, restarting, refusing connections)."""
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated:
            return True
        exc = exc.orig  # type: ignore[assignment]
    if not isinstance(exc, psycopg.OperationalError):
        return False
    state = exc.sqlstate
    # No SQLSTATE: the client itself failed to connect or lost the connection.
    return state is None or state.startswith(CONNECTION_CLASS) or state in UNAVAILABLE_STATES


def retry_while_unavailable(
    action: Callable[[], T],
    *,
    what: str,
    give_up_after: float,
    stop: Callable[[], bool] = lambda: False,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> T:
    """`action()`, tried again while the database is unavailable, for at most `give_up_after` seconds.

    Any other error, an outage that outlasts the wait, or `stop()` turning true
    raises the last error: the caller's usual recovery (the reaper) takes over.
    `action` must be safe to repeat: a conditional statement, or one transaction.
    """
    deadline = clock() + give_up_after
    tries = 0
    while True:
        try:
            return action()
        except Exception as exc:
            if not database_unavailable(exc) or clock() >= deadline or stop():
                raise
            pause = RETRY_PAUSES[min(tries, len(RETRY_PAUSES) - 1)]
            if tries == 0:
                logger.warning(
                    "database unavailable while %s; trying again for up to %g s: %s", what, give_up_after, exc
                )
            tries += 1
            sleep(min(pause, max(0.0, deadline - clock())))
