"""One deployment the scheduler cannot plan or write never stops the others from firing (issue 12, item 8)."""

from __future__ import annotations

import uuid
from datetime import timedelta

from litestar.testing import TestClient
from sqlalchemy import Engine, text

from scheduler.schedule_loop import PLAN_RETRY_SECONDS, ScheduleLoop
from tests.integration.schedule_support import T0, deploy, loop, rewind, scheduled_runs

__all__ = ["loop"]  # the fixture, from schedule_support


def force(engine: Engine, deployment_id: str, assignment: str) -> None:
    """Break a deployment's row behind the API's back (as an old bug or a hand edit could)."""
    with engine.begin() as connection:
        connection.execute(text(f"UPDATE deployments SET {assignment} WHERE id = :id"), {"id": deployment_id})


def plan_failures(engine: Engine, deployment_id: str) -> list[str]:
    with engine.connect() as connection:
        return list(
            connection.execute(
                text(
                    "SELECT reason FROM occurrences"
                    " WHERE deployment_id = :id AND outcome = 'plan_failed' AND reason_code = 'plan_failed'"
                ),
                {"id": deployment_id},
            ).scalars()
        )


def test_a_deployment_whose_runs_cannot_be_written_is_held_back_and_the_others_fire(
    client: TestClient, pipeline: dict, engine: Engine, loop: ScheduleLoop
) -> None:
    good, bad = deploy(client, name="good"), deploy(client, name="bad")
    for d in (good, bad):
        rewind(engine, d["id"], T0)
    force(engine, bad["id"], "timeout_seconds = -5")  # its runs violate the runs table's CHECK

    result = loop.tick(T0 + timedelta(minutes=1, seconds=1))

    assert scheduled_runs(engine, good["id"]) == [1]
    assert scheduled_runs(engine, bad["id"]) == []
    assert result.failed == [uuid.UUID(bad["id"])]
    [reason] = plan_failures(engine, bad["id"])
    assert "timeout_seconds" in reason or "check" in reason.lower()
    listed = client.get(f"/api/v1/deployments/{bad['id']}/occurrences").json()["items"]
    assert [o["outcome"] for o in listed] == ["plan_failed"]


def test_a_deployment_that_cannot_be_planned_is_retried_later_and_fires_once_fixed(
    client: TestClient, pipeline: dict, engine: Engine, loop: ScheduleLoop
) -> None:
    good, bad = deploy(client, name="good", overlap_policy="allow"), deploy(client, name="bad")
    for d in (good, bad):
        rewind(engine, d["id"], T0)
    force(engine, bad["id"], "max_catch_up = 0")  # the planner refuses a policy out of its bounds

    loop.tick(T0 + timedelta(minutes=1, seconds=1))
    loop.tick(T0 + timedelta(minutes=1, seconds=50))  # held back: not claimed again before the retry delay

    assert scheduled_runs(engine, good["id"]) == [1]
    assert len(plan_failures(engine, bad["id"])) == 1
    assert "max_catch_up" in plan_failures(engine, bad["id"])[0]
    with engine.connect() as connection:
        next_run_at = connection.execute(
            text("SELECT next_run_at FROM deployments WHERE id = :id"), {"id": bad["id"]}
        ).scalar_one()
    lookahead = loop.settings.schedule_lookahead_seconds
    assert next_run_at == T0 + timedelta(minutes=1, seconds=1 + lookahead + PLAN_RETRY_SECONDS)

    fixed = client.patch(f"/api/v1/deployments/{bad['id']}", json={"max_catch_up": 10})  # replanned at once
    assert fixed.status_code == 200, fixed.text
    loop.tick(T0 + timedelta(minutes=3, seconds=1))
    assert scheduled_runs(engine, bad["id"]) != []
