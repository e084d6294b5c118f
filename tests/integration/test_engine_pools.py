"""A process gives its idle Postgres sessions back: its pools on request, a worker's writer when it stops."""

from __future__ import annotations

import time

from sqlalchemy import text

from app.core.states import RunStatus
from app.db.engine import get_engine, release_idle_connections
from app.settings import Settings
from tests.integration.engine_parts import Engine_


def _still_connected(settings: Settings, pids: set[int]) -> int:
    with get_engine(settings).connect() as connection:
        return connection.execute(
            text("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(:pids)"), {"pids": sorted(pids)}
        ).scalar_one()


def test_idle_connections_are_closed_and_the_engine_reconnects(settings: Settings) -> None:
    engine = get_engine(settings, pool_size=3, pre_ping=False)
    connections = [engine.connect() for _ in range(3)]
    pids = {connection.execute(text("SELECT pg_backend_pid()")).scalar_one() for connection in connections}
    for connection in connections:
        connection.close()
    assert engine.pool.checkedin() == 3  # the burst's connections stay open, idle, in the pool

    release_idle_connections()

    deadline = time.monotonic() + 10  # a backend leaves pg_stat_activity a moment after its client hangs up
    while (left := _still_connected(settings, pids)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert left == 0
    with engine.connect() as connection:
        assert connection.execute(text("SELECT pg_backend_pid()")).scalar_one() not in pids


def test_a_closed_executor_leaves_no_writer_session(parts: Engine_) -> None:
    parts.pipeline("noop", [])
    [run_id] = parts.submit("noop")
    parts.relay.relay_once()
    assert parts.executor.execute(run_id) is RunStatus.SUCCEEDED
    writer_session = parts.executor.transitions._connection  # the writer's own session, kept between batches
    assert writer_session is not None
    pid = writer_session.info.backend_pid

    parts.executor.close()

    deadline = time.monotonic() + 10
    while (left := _still_connected(parts.settings, {pid})) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert left == 0
