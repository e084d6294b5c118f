"""Bounded DuckDB work: a block whose connections are interrupted once its wall-clock limit has passed, and whose
hit limits (time, or the connections' memory limit) become one clear error.

The API wraps the DuckDB work of a request (previews, rows, pipeline validation) in `bounded(...)`; every
connection opened inside the block by `duck.connect` (or handed to `watch`) is watched, so code deep in a preview
needs no change. Outside a block `watch` does nothing: a run's own timeout and cancel bound a worker's work.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from typing import TYPE_CHECKING

import duckdb

from app.core.errors import DomainError
from app.ingest.config import DuckDBSettings

if TYPE_CHECKING:
    from app.settings import Settings

#: Once the limit has passed, how often the watched connections are interrupted again: DuckDB forgets an interrupt
#: that arrives between two statements, so one interrupt could miss the next statement.
REPEAT_SECONDS = 0.05


class QueryTooExpensive(DomainError):
    """DuckDB work done for a request hit its time or memory limit (422): narrow the request (filters, fewer rows,
    a smaller file) or run the work as a pipeline, where the job limits apply."""

    status, code, title = 422, "query_too_expensive", "Query too expensive"


class Deadline:
    """The connections of one bounded block, interrupted from a watcher thread once `seconds` have passed."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        #: Set once the limit has passed (the block's outcome is then a QueryTooExpensive).
        self.expired = threading.Event()
        self._done = threading.Event()
        self._lock = threading.Lock()
        self._connections: list[duckdb.DuckDBPyConnection] = []
        self._thread = threading.Thread(target=self._watch, name="duckdb-deadline", daemon=True)
        self._thread.start()

    def add(self, conn: duckdb.DuckDBPyConnection) -> None:
        with self._lock:
            self._connections.append(conn)

    def stop(self) -> None:
        self._done.set()
        self._thread.join()

    def _watch(self) -> None:
        if self._done.wait(self.seconds):
            return
        self.expired.set()
        while True:
            with self._lock:
                connections = list(self._connections)
            for conn in connections:
                with suppress(duckdb.Error):  # closed meanwhile: nothing left to stop
                    conn.interrupt()
            if self._done.wait(REPEAT_SECONDS):
                return


def request_limits(settings: Settings) -> DuckDBSettings:
    """What the DuckDB work of one API request may use: CONVEYOR_REQUEST_QUERY_SECONDS, _MEMORY_MB, _THREADS."""
    return DuckDBSettings(
        memory_limit=f"{settings.request_query_memory_mb}MB",
        threads=settings.request_query_threads,
        time_limit_seconds=settings.request_query_seconds,
    )


_current: ContextVar[Deadline | None] = ContextVar("duckdb_deadline", default=None)


def watch(conn: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """Put `conn` under the innermost bounded block's time limit (no-op outside one); returns `conn`."""
    deadline = _current.get()
    if deadline is not None:
        deadline.add(conn)
    return conn


@contextmanager
def bounded(settings: DuckDBSettings) -> Iterator[None]:
    """Run the block's DuckDB work within `settings.time_limit_seconds` (None: no time limit); a hit time or
    memory limit raises QueryTooExpensive, whatever error the interrupted code turned it into."""
    seconds = settings.time_limit_seconds
    deadline = Deadline(seconds) if seconds else None
    token = _current.set(deadline)
    failure: Exception | None = None
    try:
        yield
    except Exception as exc:
        failure = exc
    finally:
        _current.reset(token)
        if deadline is not None:
            deadline.stop()
    if deadline is not None and deadline.expired.is_set():
        raise QueryTooExpensive(
            f"this request's DuckDB work took longer than its {seconds:g} s limit (CONVEYOR_REQUEST_QUERY_SECONDS)"
        ) from failure
    if failure is not None and _out_of_memory(failure):
        raise QueryTooExpensive(
            f"this request's DuckDB work needed more than its {settings.memory_limit} memory limit "
            "(CONVEYOR_REQUEST_QUERY_MEMORY_MB)"
        ) from failure
    if failure is not None:
        raise failure


def _out_of_memory(exc: BaseException) -> bool:
    """Whether `exc`, or an error it was raised from, is DuckDB running out of its memory limit."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, duckdb.OutOfMemoryException):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False
