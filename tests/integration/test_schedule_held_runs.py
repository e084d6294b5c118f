"""A run held by an overlap buffer keeps its place: a slot that frees goes to it, not to a newer fire time."""

from __future__ import annotations

from datetime import timedelta

import pytest
from litestar.testing import TestClient
from sqlalchemy import Engine, text

from scheduler.schedule_loop import ScheduleLoop
from tests.integration.schedule_support import T0, deploy, loop, rewind

__all__ = ["loop"]  # the fixture, from schedule_support


def unfinished(engine: Engine, deployment_id: str) -> dict[str, list[int]]:
    """The deployment's unfinished runs by minute after T0: those sent or to be sent, and those held."""
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT scheduled_for, held, EXISTS (SELECT 1 FROM outbox o WHERE o.run_id = r.id) FROM runs r"
                " WHERE deployment_id = :id AND status NOT IN ('SUCCEEDED', 'FAILED', 'CANCELLED') ORDER BY 1"
            ),
            {"id": deployment_id},
        ).all()
    minute = lambda at: int((at - T0).total_seconds() // 60)  # noqa: E731
    return {
        "sent": [minute(at) for at, held, queued in rows if queued and not held],
        "held": [minute(at) for at, held, _ in rows if held],
    }


@pytest.mark.parametrize("policy", ["buffer_one", "buffer_all"])
def test_the_held_run_takes_the_freed_slot_and_the_next_fire_time_waits_behind_it(
    client: TestClient, pipeline: dict, engine: Engine, loop: ScheduleLoop, policy: str
) -> None:
    # Given a run going and the next fire time held behind it (one run at a time)
    d = deploy(client, overlap_policy=policy, max_concurrent_runs=1)
    rewind(engine, d["id"], T0)
    loop.tick(T0 + timedelta(minutes=1, seconds=1))
    loop.tick(T0 + timedelta(minutes=2, seconds=1))
    assert unfinished(engine, d["id"]) == {"sent": [1], "held": [2]}
    # When the first run finishes and the next fire time comes before any release pass
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE runs SET status = 'SUCCEEDED' WHERE deployment_id = :id AND scheduled_for = :at"),
            {"id": d["id"], "at": T0 + timedelta(minutes=1)},
        )
    loop.tick(T0 + timedelta(minutes=3, seconds=1))
    # Then the held run is sent, and the new fire time is held behind it: one run at a time, first in first out
    assert unfinished(engine, d["id"]) == {"sent": [2], "held": [3]}
