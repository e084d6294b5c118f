"""The one place engines are built: a pooled SQLAlchemy engine per process and URL."""

from __future__ import annotations

import threading

from sqlalchemy import Engine, create_engine

from app.core.errors import Unavailable
from app.db import pool_probe, times, unit_of_work
from app.settings import Settings, get_settings

#: The engines this process has built, by (url, pool size, pre-ping): one pool each, shared by every caller.
_engines: dict[tuple[str, int, bool], Engine] = {}
_engines_lock = threading.Lock()


def _engine_for(url: str, pool_size: int, pre_ping: bool) -> Engine:
    key = (url, pool_size, pre_ping)
    with _engines_lock:
        engine = _engines.get(key)
        if engine is None:
            engine = _engines[key] = _build(url, pool_size, pre_ping)
        return engine


def _build(url: str, pool_size: int, pre_ping: bool) -> Engine:
    engine = create_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=pre_ping,
        pool_recycle=1800,
    )
    times.register(engine)  # a stored time past datetime's ends must not fail every read of its table
    unit_of_work.register(engine)  # which attempts sent a COMMIT: the API retries the others on a dropped connection
    if not pre_ping:
        pool_probe.register(engine)  # a connection the server closed is replaced at checkout, with no round trip
    return engine


def get_engine(settings: Settings | None = None, *, pool_size: int = 10, pre_ping: bool = True) -> Engine:
    """The process's engine for the configured database.

    `pre_ping` checks each connection as it leaves the pool (one more round trip).
    The API, workers and the scheduler turn it off on their hot paths: without it a
    connection the server closed is still replaced at checkout (app/db/pool_probe.py,
    no round trip), and a statement that fails on a dead connection invalidates the
    pool; its work is retried by the API once (app/api/dropped_connections.py) or by
    the engine's own recovery (the reaper, the relay's lease).
    """
    settings = settings or get_settings()
    if not settings.database_url:
        raise Unavailable(
            "DATABASE_URL is not set: run `conveyor up` (it starts an embedded PostgreSQL) or set DATABASE_URL",
            code="database_not_configured",
        )
    return _engine_for(settings.sqlalchemy_url, pool_size, pre_ping)


def release_idle_connections() -> None:
    """Close the idle connections of every engine this process has built; the engines stay usable.

    A pool keeps up to `pool_size` connections open after a burst. A process that builds several engines
    and then goes quiet (a test process between tests: tens of them against a server's 100) hands them back
    with this; connections still checked out are closed when they come back.
    """
    with _engines_lock:
        engines = list(_engines.values())
    for engine in engines:
        engine.dispose()
