"""A heartbeat locks its runs in id order, as the transition writer does, so the two never deadlock.

Locked in the order of its array, a heartbeat and a finish batch of the same worker could each hold a
row the other waits for; Postgres breaks such a deadlock only after deadlock_timeout (1 s), and every run
of the batch waited that long (the ~1 s tail of the run-engine benchmark's burst phase).
"""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError

from app.db.queries import query
from tests.integration.engine_parts import Engine_
from tests.integration.helpers import wait_until_blocked


def _locked(engine: Engine, run_id: uuid.UUID) -> bool:
    """Whether another transaction holds `run_id`'s row lock (probed without waiting)."""
    with engine.begin() as connection:
        try:
            connection.execute(text("SELECT 1 FROM runs WHERE id = :id FOR UPDATE NOWAIT"), {"id": run_id})
        except OperationalError:
            return True
    return False


def test_a_heartbeat_locks_its_runs_in_id_order_whatever_the_order_it_is_given(parts: Engine_) -> None:
    parts.pipeline("noop", [])
    run_ids = parts.submit("noop", count=5)
    parts.relay.relay_once()
    for run_id in run_ids:
        assert parts.executor.transitions.start(run_id, "worker:test:1") is not None
    ordered = sorted(run_ids)
    params = {
        "run_ids": [str(i) for i in reversed(ordered)],  # the worst order for a writer locking in id order
        "attempts": [1] * 5,
        "progress": ["{}"] * 5,
        "log_lines": [1] * 5,
    }
    with parts.engine.connect() as holder, parts.engine.connect() as beat:
        holder.execute(text("SELECT 1 FROM runs WHERE id = :id FOR UPDATE"), {"id": ordered[2]})
        pid = beat.execute(text("SELECT pg_backend_pid()")).scalar_one()
        with ThreadPoolExecutor(max_workers=1) as pool:
            answer = pool.submit(lambda: beat.execute(query("heartbeat_runs"), params).all())
            try:
                wait_until_blocked(parts.engine, pid, "the heartbeat")
                locked = [_locked(parts.engine, run_id) for run_id in ordered]
            finally:
                holder.rollback()  # let the heartbeat go on whatever was found
            rows = answer.result(timeout=30)
        beat.commit()
    # blocked on the middle run, it held the runs before it in id order, and none after it yet
    assert locked == [True, True, True, False, False]
    assert sorted(row.id for row in rows) == ordered
    assert not any(row.cancel_requested for row in rows)
