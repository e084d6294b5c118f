"""Catch-up after a long downtime, worked off in chunks of MAX_FIRES_PER_TICK: the misfire policy holds across
the chunks (one run for run_once, the newest max_catch_up for catch_up), each tick's work stays bounded."""

from __future__ import annotations

from datetime import timedelta

import pytest
from litestar.testing import TestClient
from sqlalchemy import Engine, text

from scheduler import fire_decisions
from scheduler.schedule_loop import ScheduleLoop
from tests.integration.schedule_support import T0, deploy, loop, rewind

__all__ = ["loop"]  # the fixture, from schedule_support

#: Fire times per tick in these tests (the real bound is 10,000: the same code, fewer rows to write).
CHUNK = 50
#: Fire times missed: a downtime of five chunks and a bit.
MISSED = 5 * CHUNK + 17


def missed(engine: Engine, deployment_id: str) -> tuple[list[int], dict[str, int]]:
    """What became of the missed fire times (not those planned ahead, after MISSED): the seconds after T0 of
    their runs, and their occurrences counted by outcome."""
    until = {"id": deployment_id, "until": T0 + timedelta(seconds=MISSED)}
    with engine.connect() as connection:
        runs = connection.execute(
            text("SELECT scheduled_for FROM runs WHERE deployment_id = :id AND scheduled_for <= :until ORDER BY 1"),
            until,
        ).scalars()
        seconds = [int((at - T0).total_seconds()) for at in runs]
        outcomes = dict(
            connection.execute(
                text(
                    "SELECT outcome, count(*) FROM occurrences"
                    " WHERE deployment_id = :id AND scheduled_for <= :until GROUP BY 1"
                ),
                until,
            ).all()
        )
    return seconds, outcomes


def catch_up(loop: ScheduleLoop, now: object) -> int:
    """Tick at the same `now` until nothing is due; returns the ticks it took."""
    ticks = 0
    while loop.tick(now).deployments:  # type: ignore[arg-type]
        ticks += 1
        assert ticks < 100, "the catch-up does not end"
    return ticks


@pytest.mark.parametrize(
    ("policy", "runs", "outcomes"),
    [
        ("run_once", [MISSED], {"coalesced": MISSED - 1, "run": 1}),
        ("catch_up", [MISSED - 2, MISSED - 1, MISSED], {"misfire_skipped": MISSED - 3, "run": 3}),
        ("skip", [], {"misfire_skipped": MISSED}),
    ],
)
def test_a_downtime_longer_than_a_tick_takes_keeps_the_misfire_policy(
    client: TestClient,
    pipeline: dict,
    engine: Engine,
    loop: ScheduleLoop,
    monkeypatch: pytest.MonkeyPatch,
    policy: str,
    runs: list[int],
    outcomes: dict[str, int],
) -> None:
    monkeypatch.setattr(fire_decisions, "MAX_FIRES_PER_TICK", CHUNK)
    # Given a deployment firing every second, last handled MISSED seconds before the scheduler came back
    d = deploy(
        client,
        schedule={"kind": "interval", "seconds": 1, "anchor": T0.isoformat()},
        misfire_policy=policy,
        misfire_grace_seconds=0,
        max_catch_up=3,
        overlap_policy="allow",
    )
    rewind(engine, d["id"], T0)
    # When the scheduler works off the downtime (now is just past the last missed fire time)
    ticks = catch_up(loop, T0 + timedelta(seconds=MISSED, milliseconds=500))
    # Then in bounded steps, and as the policy says for the downtime as a whole
    assert ticks >= MISSED // CHUNK
    assert missed(engine, d["id"]) == (runs, outcomes)
