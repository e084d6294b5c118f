"""Whether an attempt at a unit of work (an API request) may be run again after its connection dropped, or after
PostgreSQL aborted its transaction to break a deadlock or a serialization conflict.

PostgreSQL applies a transaction only at its COMMIT and rolls back whatever was under way on a connection it
loses, so an attempt that sent no COMMIT changed nothing in the database, however far it got; one that sent
one may have. Every COMMIT is noted here as it leaves: SQLAlchemy's (an engine `commit` listener) and the one
pipelined insert that sends its own (app/domain/run_rows.py). Autocommit sessions (`Database.read`,
`Database.connection`) only read.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from sqlalchemy import Engine, event
from sqlalchemy.exc import DBAPIError

#: SQLSTATEs of a transaction PostgreSQL aborted for another's sake (deadlock_detected, serialization_failure):
#: the same work, run again, usually goes through.
CONFLICT_STATES = frozenset({"40P01", "40001"})


@dataclass
class Attempt:
    #: A COMMIT was sent: the attempt may have changed the database.
    committed: bool = False


_current: ContextVar[Attempt | None] = ContextVar("unit_of_work_attempt", default=None)


@contextmanager
def attempt() -> Iterator[Attempt]:
    """One attempt: the COMMITs sent inside (in this context, or a thread started from it) are noted on it."""
    state = Attempt()
    token = _current.set(state)
    try:
        yield state
    finally:
        _current.reset(token)


def commit_sent(*_: object) -> None:
    """Note that a COMMIT is about to leave (before it is sent: a lost answer still counts)."""
    state = _current.get()
    if state is not None:
        state.committed = True


def connection_dropped(exc: BaseException) -> bool:
    """Whether `exc` is a working connection lost mid-use (SQLAlchemy invalidated it, and the pool with it).

    Narrower than `outage.database_unavailable`: a database that refuses new connections is not worth a retry.
    """
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


def transaction_conflict(exc: BaseException) -> bool:
    """Whether `exc` is PostgreSQL aborting the transaction to break a deadlock or a serialization conflict."""
    orig = exc.orig if isinstance(exc, DBAPIError) else exc
    return getattr(orig, "sqlstate", None) in CONFLICT_STATES


def register(engine: Engine) -> None:
    event.listen(engine, "commit", commit_sent)
