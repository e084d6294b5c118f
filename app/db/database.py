"""Database access for request handlers: one transaction per change, no transaction for reads."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker


class Database:
    """Hands out sessions that commit on success and roll back on error, and cheap read-only ones.

    Reads run in autocommit mode: no BEGIN and no ROLLBACK round trips, which is
    most of the cost of a small lookup (each read statement sees committed data).
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self._readers = sessionmaker(self.autocommit, expire_on_commit=False)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        with self._sessions() as session, session.begin():
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reads: nothing is written or committed."""
        with self._readers() as session:
            yield session

    @contextmanager
    def connection(self) -> Iterator[Connection]:
        """A bare autocommit connection, for single-statement lookups on every request."""
        with self.autocommit.connect() as connection:
            yield connection
