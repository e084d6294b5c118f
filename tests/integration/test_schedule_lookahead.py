"""Fire times planned ahead (schedule_lookahead_seconds): sent at their time, taken back when the deployment changes."""

from __future__ import annotations

from datetime import timedelta

import msgspec
import pytest
from litestar.testing import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from app.clock import utcnow
from app.db.deployments import Deployment
from app.domain import deployments as service
from app.domain.deployment_documents import DeploymentPatch
from app.settings import Settings
from scheduler.reaper import Reaper
from scheduler.schedule_loop import ScheduleLoop
from tests.integration.schedule_support import T0, deploy, occurrences, rewind
from workers.broker import build_broker

FIRE = T0 + timedelta(minutes=1)


@pytest.fixture
def loop(engine: Engine, settings: Settings) -> ScheduleLoop:
    ahead = msgspec.structs.replace(settings, schedule_lookahead_seconds=5)
    return ScheduleLoop(engine=engine, settings=ahead, scheduler_id="scheduler:test")


def planned(engine: Engine, deployment_id: str) -> list[tuple]:
    """(scheduled_for, status, outbox available_at, params) of the deployment's scheduled runs."""
    with engine.connect() as connection:
        return [
            tuple(row)
            for row in connection.execute(
                text(
                    "SELECT r.scheduled_for, r.status, o.available_at, r.params FROM runs r "
                    "LEFT JOIN outbox o ON o.run_id = r.id WHERE r.deployment_id = :id AND r.trigger = 'schedule' "
                    "ORDER BY r.scheduled_for"
                ),
                {"id": deployment_id},
            )
        ]


def test_a_fire_time_within_the_lookahead_is_planned_early_and_due_at_its_time(
    client: TestClient, pipeline: dict, engine: Engine, loop: ScheduleLoop
) -> None:
    d = deploy(client, params={"day": "x"})
    rewind(engine, d["id"], T0)
    loop.tick(FIRE - timedelta(seconds=30))  # outside the lookahead: nothing yet
    assert planned(engine, d["id"]) == []
    loop.tick(FIRE - timedelta(seconds=3))
    loop.tick(FIRE + timedelta(seconds=1))  # the fire time itself plans nothing twice
    assert planned(engine, d["id"]) == [(FIRE, "PENDING", FIRE, {"day": "x"})]
    assert occurrences(engine, d["id"]) == [(1, "run")]
    with engine.connect() as connection:  # a scheduled run is made by whoever made its deployment
        made_by = connection.execute(
            text(
                "SELECT r.created_by = d.created_by FROM runs r JOIN deployments d ON d.id = r.deployment_id "
                "WHERE d.id = :id AND d.created_by IS NOT NULL"
            ),
            {"id": d["id"]},
        ).scalar_one()
    assert made_by is True


def test_a_fire_time_whose_slot_is_taken_is_decided_at_its_time(
    client: TestClient, pipeline: dict, engine: Engine, loop: ScheduleLoop
) -> None:
    d = deploy(client, overlap_policy="skip", max_concurrent_runs=1)
    rewind(engine, d["id"], T0)
    loop.tick(FIRE + timedelta(seconds=1))  # a run for minute 1, still unfinished
    loop.tick(FIRE + timedelta(seconds=57))  # minute 2 is 3 s ahead, but its slot is taken
    assert occurrences(engine, d["id"]) == [(1, "run")]
    with engine.begin() as connection:  # the first run finishes before minute 2
        connection.execute(text("UPDATE runs SET status = 'SUCCEEDED' WHERE deployment_id = :id"), {"id": d["id"]})
    loop.tick(FIRE + timedelta(seconds=60, microseconds=1))
    assert occurrences(engine, d["id"]) == [(1, "run"), (2, "run")]


def test_pausing_takes_back_a_planned_run_and_resuming_records_its_fire_time(
    client: TestClient, pipeline: dict, engine: Engine, loop: ScheduleLoop
) -> None:
    d = deploy(client)
    rewind(engine, d["id"], T0)
    loop.tick(FIRE - timedelta(seconds=3))
    with Session(engine) as session, session.begin():
        service.pause(session, session.get_one(Deployment, d["id"]), now=FIRE - timedelta(seconds=2))
    assert planned(engine, d["id"]) == []
    assert occurrences(engine, d["id"]) == []
    with Session(engine) as session, session.begin():
        service.resume(session, session.get_one(Deployment, d["id"]), now=FIRE + timedelta(seconds=10))
    assert occurrences(engine, d["id"]) == [(1, "paused")]


def test_a_change_replans_a_planned_run_with_the_new_parameters(
    client: TestClient, pipeline: dict, engine: Engine, loop: ScheduleLoop
) -> None:
    d = deploy(client, params={"v": 1})
    rewind(engine, d["id"], T0)
    loop.tick(FIRE - timedelta(seconds=3))
    with Session(engine) as session, session.begin():
        patch = DeploymentPatch(params={"v": 2})
        deployment = session.get_one(Deployment, d["id"])
        service.update_deployment(session, deployment, patch, loop.settings, now=FIRE - timedelta(seconds=2))
    loop.tick(FIRE - timedelta(seconds=1))
    assert planned(engine, d["id"]) == [(FIRE, "PENDING", FIRE, {"v": 2})]


def test_deleting_takes_back_planned_runs_and_keeps_the_others(
    client: TestClient, pipeline: dict, engine: Engine, loop: ScheduleLoop
) -> None:
    d = deploy(client, overlap_policy="allow")
    rewind(engine, d["id"], T0)
    loop.tick(FIRE + timedelta(seconds=56))  # minute 1 is due, minute 2 is 4 s ahead
    assert [status for _, status, *_ in planned(engine, d["id"])] == ["PENDING", "PENDING"]
    with Session(engine) as session, session.begin():
        deployment = session.get_one(Deployment, d["id"])
        service.delete_deployment(session, deployment, now=FIRE + timedelta(seconds=57))
    assert [at for at, *_ in planned(engine, d["id"])] == [FIRE]


def test_the_api_shows_the_planned_fire_time_as_next(
    client: TestClient, pipeline: dict, engine: Engine, loop: ScheduleLoop
) -> None:
    soon = deploy(client, schedule={"kind": "interval", "seconds": 3600})
    loop.tick(utcnow() + timedelta(hours=1, seconds=-2))  # its first fire time is planned ahead
    with engine.connect() as connection:
        cursor, planned_for = connection.execute(
            text(
                "SELECT d.next_run_at, r.scheduled_for FROM deployments d JOIN runs r ON r.deployment_id = d.id "
                "WHERE d.id = :id"
            ),
            {"id": soon["id"]},
        ).one()
    assert cursor > planned_for
    shown = client.get(f"/api/v1/deployments/{soon['id']}").json()["next_run_at"]
    assert shown == planned_for.isoformat().replace("+00:00", "Z")


def test_a_planned_run_no_relay_sent_in_time_is_decided_again_by_the_misfire_policy(
    client: TestClient, pipeline: dict, engine: Engine, loop: ScheduleLoop, settings: Settings
) -> None:
    now = utcnow().replace(microsecond=0)
    fire = now - timedelta(seconds=120)
    d = deploy(
        client,
        schedule={"kind": "interval", "seconds": 3600, "anchor": fire.isoformat()},
        misfire_policy="skip",
        misfire_grace_seconds=10,
    )
    rewind(engine, d["id"], fire - timedelta(seconds=60))
    loop.tick(fire - timedelta(seconds=3))  # planned ahead; then every scheduler went down until now
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE runs SET created_at = :at WHERE deployment_id = :id"),
            {"at": fire - timedelta(seconds=3), "id": d["id"]},
        )
    reaper = Reaper(engine=engine, broker=build_broker(settings), settings=settings, reaper_id="reaper-test")
    assert reaper.replan_unsent() == 1
    assert planned(engine, d["id"]) == []
    loop.tick(now)
    with engine.connect() as connection:
        outcome = connection.execute(
            text("SELECT outcome FROM occurrences WHERE deployment_id = :id AND scheduled_for = :at"),
            {"id": d["id"], "at": fire},
        ).scalar_one()
    assert outcome == "misfire_skipped"
    assert planned(engine, d["id"]) == []
