"""Small helpers shared by the integration tests."""

from __future__ import annotations

import time
from typing import Any

import pytest
from sqlalchemy import Engine, text

from app.domain.runlogs import LogLine, read_lines

NOOP = {"steps": []}


def count(engine: Engine, table: str, where: str = "true", **params: Any) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text(f"SELECT count(*) FROM {table} WHERE {where}"), params).scalar_one())


def statuses(engine: Engine, run_id: Any) -> list[str]:
    """The to_status of each of a run's events, oldest first."""
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT to_status FROM run_events WHERE run_id = :id ORDER BY id"), {"id": str(run_id)}
        )
        return [r[0] for r in rows]


def vanish_worker(engine: Engine, run_id: Any) -> None:
    """Make `run_id` look started by a worker that then died without a word: RUNNING, its heartbeat an hour old."""
    with engine.begin() as connection:
        connection.execute(
            text(
                "UPDATE runs SET status = 'RUNNING', attempt = 1, worker_id = 'ghost', "
                "heartbeat_at = now() - interval '1 hour' WHERE id = :id"
            ),
            {"id": run_id},
        )


def run_status(engine: Engine, run_id: Any) -> str:
    with engine.connect() as connection:
        return str(connection.execute(text("SELECT status FROM runs WHERE id = :id"), {"id": str(run_id)}).scalar_one())


def log_lines(engine: Engine, run_id: Any) -> list[LogLine]:
    """A run's stored log, as the API reads it."""
    with engine.connect() as connection:
        return list(read_lines(connection, run_id))


def wait_until_blocked(engine: Engine, backend_pid: int, what: str, timeout: float = 10.0) -> None:
    """Until backend `backend_pid` waits for a lock another transaction holds; fails naming `what` past `timeout`."""
    deadline = time.monotonic() + timeout
    with engine.connect() as connection:
        while time.monotonic() < deadline:
            waiting = connection.execute(
                text("SELECT wait_event_type FROM pg_stat_activity WHERE pid = :pid"), {"pid": backend_pid}
            ).scalar()
            if waiting == "Lock":
                return
            connection.rollback()  # a fresh snapshot of pg_stat_activity
    pytest.fail(f"{what} never waited for the held row")


def wait_until_waited_on(
    engine: Engine, holder_pid: int, what: str, *, ignoring: str = "", timeout: float = 10.0
) -> None:
    """Until some backend waits for a lock backend `holder_pid` holds (one whose statement contains `ignoring`, if
    given, does not count: a heartbeat, say); fails naming `what` past `timeout`."""
    deadline = time.monotonic() + timeout
    with engine.connect() as connection:
        while time.monotonic() < deadline:
            waiting = connection.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE :pid = ANY(pg_blocking_pids(pid))"
                    " AND (:ignoring = '' OR strpos(query, :ignoring) = 0)"
                ),
                {"pid": holder_pid, "ignoring": ignoring},
            ).scalar_one()
            if waiting:
                return
            connection.rollback()  # a fresh snapshot of pg_stat_activity
    pytest.fail(f"{what} never waited for the held row")
