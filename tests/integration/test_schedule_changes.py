"""A deployment changed, paused or replanned while fire times are in flight: no fire time is lost or doubled.

These tests run the loop at times before the real clock (the API changes a deployment at the real time), so a
fire time the loop handled is in the past for the API too, as it is in production.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import msgspec
import pytest
from litestar.testing import TestClient
from sqlalchemy import Engine, text

from app.settings import Settings
from scheduler.reaper import Reaper
from scheduler.schedule_loop import ScheduleLoop
from tests.integration.schedule_support import deploy, host_clock_at, loop
from workers.broker import build_broker

__all__ = ["loop"]  # the fixture, from schedule_support

#: A fixed origin before the real clock.
PAST = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return PAST + timedelta(minutes=minutes)


def start_at(engine: Engine, deployment_id: str, when: datetime) -> None:
    """The deployment as last handled at `when` and due next right after (the loop's cursor)."""
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE deployments SET last_scheduled_for = :t, next_run_at = :t WHERE id = :id"),
            {"t": when, "id": deployment_id},
        )


def runs(engine: Engine, deployment_id: str) -> list[tuple[float, str, bool]]:
    """(minute after PAST, status, held) of each of the deployment's runs."""
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT scheduled_for, status, held FROM runs WHERE deployment_id = :id ORDER BY scheduled_for"),
            {"id": deployment_id},
        ).all()
    return [((s - PAST).total_seconds() / 60, status, held) for s, status, held in rows]


def interval(seconds: int) -> dict:
    return {"kind": "interval", "seconds": seconds, "anchor": PAST.isoformat()}


def test_a_run_held_by_a_buffer_is_cancelled_when_the_policy_becomes_cancel_running(
    client: TestClient, pipeline: dict, engine: Engine, loop: ScheduleLoop
) -> None:
    # Given one run going and the next fire time held behind it (buffer_one, one at a time)
    d = deploy(client, schedule=interval(60), overlap_policy="buffer_one", max_concurrent_runs=1)
    start_at(engine, d["id"], PAST)
    loop.tick(at(1) + timedelta(seconds=1))
    loop.tick(at(2) + timedelta(seconds=1))
    assert runs(engine, d["id"]) == [(1, "PENDING", False), (2, "PENDING", True)]
    # When the deployment is changed to cancel_running and its next fire time comes
    response = client.patch(f"/api/v1/deployments/{d['id']}", json={"overlap_policy": "cancel_running"})
    assert response.status_code == 200, response.text
    start_at(engine, d["id"], at(2))
    loop.tick(at(3) + timedelta(seconds=1))
    # Then every unfinished run, the held one included, is cancelled, and only the new run is left to go
    assert runs(engine, d["id"]) == [(1, "CANCELLED", False), (2, "CANCELLED", False), (3, "PENDING", False)]


def test_pause_and_resume_go_by_the_database_clock_not_a_host_clock_that_is_ahead(
    client: TestClient, pipeline: dict, engine: Engine, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given fire times every minute from 30 s on, planned five minutes ahead by the loop (overlap allow)
    ahead = ScheduleLoop(
        engine=engine,
        settings=msgspec.structs.replace(settings, schedule_lookahead_seconds=300),
        scheduler_id="scheduler:test",
    )
    with engine.connect() as connection:
        db_now = connection.execute(text("SELECT clock_timestamp()")).scalar_one()
    first = db_now + timedelta(seconds=30)
    schedule = {"kind": "interval", "seconds": 60, "anchor": first.isoformat()}
    d = deploy(client, schedule=schedule, overlap_policy="allow")
    ahead.tick(db_now)
    assert len(runs(engine, d["id"])) == 5
    # When the API's host clock is two hours ahead of the database's, and the deployment is paused, then resumed
    host_clock_at(monkeypatch, lambda: db_now + timedelta(hours=2))
    assert client.post(f"/api/v1/deployments/{d['id']}/pause").status_code == 200
    # Then the runs planned for fire times still to come (by the database's clock) are taken back
    assert runs(engine, d["id"]) == []
    # And resuming records no fire time still to come as missed while paused
    assert client.post(f"/api/v1/deployments/{d['id']}/resume").status_code == 200
    with engine.connect() as connection:
        recorded = connection.execute(
            text("SELECT count(*) FROM occurrences WHERE deployment_id = :id"), {"id": d["id"]}
        ).scalar_one()
    assert recorded == 0


def test_a_paused_deployments_planned_run_the_reaper_takes_back_leaves_its_fire_time_recorded(
    client: TestClient, pipeline: dict, engine: Engine, loop: ScheduleLoop, settings: Settings
) -> None:
    # Given a run planned ahead for a fire time two minutes ago that no relay sent (every scheduler was down)
    with engine.connect() as connection:
        now = connection.execute(text("SELECT date_trunc('second', clock_timestamp())")).scalar_one()
    fire = now - timedelta(seconds=120)
    schedule = {"kind": "interval", "seconds": 3600, "anchor": fire.isoformat()}
    d = deploy(client, schedule=schedule, misfire_policy="skip", misfire_grace_seconds=10)
    start_at(engine, d["id"], fire - timedelta(seconds=60))
    loop.tick(fire - timedelta(seconds=3))
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE runs SET created_at = :at WHERE deployment_id = :id"),
            {"at": fire - timedelta(seconds=3), "id": d["id"]},
        )
    # And the deployment paused since
    assert client.post(f"/api/v1/deployments/{d['id']}/pause").status_code == 200
    # When the reaper takes the unsent run back, and the deployment is resumed
    reaper = Reaper(engine=engine, broker=build_broker(settings), settings=settings, reaper_id="reaper-test")
    assert reaper.replan_unsent() == 1
    assert runs(engine, d["id"]) == []
    assert client.post(f"/api/v1/deployments/{d['id']}/resume").status_code == 200
    # Then the fire time is still recorded, once, as missed while paused
    items = client.get(f"/api/v1/deployments/{d['id']}/occurrences").json()["items"]
    assert [(item["scheduled_for"], item["outcome"], item["run_id"], item["reason_code"]) for item in items] == [
        (fire.isoformat().replace("+00:00", "Z"), "paused", None, "paused_unsent")
    ]


@pytest.mark.parametrize(
    ("paused", "outcome", "code"), [(False, "misfire_skipped", "schedule_changed"), (True, "paused", "paused")]
)
def test_a_new_schedule_records_the_old_schedules_fire_times_that_were_due_and_not_handled(
    client: TestClient, pipeline: dict, engine: Engine, paused: bool, outcome: str, code: str
) -> None:
    # Given an hourly deployment last handled just after three hours ago (every scheduler down since)
    with engine.connect() as connection:
        hour = connection.execute(text("SELECT date_trunc('hour', clock_timestamp())")).scalar_one()
    d = deploy(client, schedule={"kind": "interval", "seconds": 3600, "anchor": PAST.isoformat()})
    if paused:
        assert client.post(f"/api/v1/deployments/{d['id']}/pause").status_code == 200
    start_at(engine, d["id"], hour - timedelta(hours=2, minutes=59))
    # When its schedule is changed (and, if paused, it is resumed)
    new = {"schedule": {"kind": "interval", "seconds": 7200, "anchor": PAST.isoformat()}}
    assert client.patch(f"/api/v1/deployments/{d['id']}", json=new).status_code == 200
    if paused:
        assert client.post(f"/api/v1/deployments/{d['id']}/resume").status_code == 200
    # Then the old schedule's fire times that were due are each recorded, with why they made no run
    items = client.get(f"/api/v1/deployments/{d['id']}/occurrences").json()["items"]
    expected = [hour - timedelta(hours=n) for n in (0, 1, 2)]
    assert [(item["scheduled_for"], item["outcome"], item["reason_code"]) for item in items] == [
        (at.isoformat().replace("+00:00", "Z"), outcome, code) for at in expected
    ]


def test_backfill_and_previews_go_by_the_database_clock_not_a_host_clock_that_is_ahead(
    client: TestClient, pipeline: dict, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an hourly deployment, and the API's host clock two hours ahead of the database's
    with engine.connect() as connection:
        db_now = connection.execute(text("SELECT date_trunc('second', clock_timestamp())")).scalar_one()
    hourly = {"kind": "interval", "seconds": 3600, "anchor": (db_now - timedelta(hours=5, minutes=30)).isoformat()}
    d = deploy(client, schedule=hourly)
    host_clock_at(monkeypatch, lambda: db_now + timedelta(hours=2))
    # When a backfill (or its preview) asks for a window that ends an hour from now by the database's clock
    window = {"start": (db_now - timedelta(hours=3)).isoformat(), "end": (db_now + timedelta(hours=1)).isoformat()}
    for path in ("backfill/preview", "backfill"):
        response = client.post(f"/api/v1/deployments/{d['id']}/{path}", json=window)
        # Then it is refused: the window is not all past, and no run is made for a fire time still to come
        assert response.status_code == 422, response.text
        assert response.json()["code"] == "invalid_window"
    assert runs(engine, d["id"]) == []
    # And a draft's preview starts from the database's now, not two hours on
    draft = {"name": "x", "pipeline": "noop", "schedule": hourly}
    response = client.post("/api/v1/deployments/validate?n=1", json=draft)
    assert response.status_code == 200, response.text
    [first] = response.json()["fire_times"]
    assert datetime.fromisoformat(first) == db_now + timedelta(minutes=30)


def test_a_change_that_keeps_the_schedule_does_not_delay_fire_times_already_due(
    client: TestClient, pipeline: dict, engine: Engine, loop: ScheduleLoop
) -> None:
    # Given a deployment every minute whose loop is ten minutes behind (last handled ten minutes ago, due since)
    with engine.connect() as connection:
        db_now = connection.execute(text("SELECT date_trunc('second', clock_timestamp())")).scalar_one()
    d = deploy(client, schedule=interval(60), misfire_policy="skip")
    start_at(engine, d["id"], db_now - timedelta(minutes=10))
    # When only its description is changed
    response = client.patch(f"/api/v1/deployments/{d['id']}", json={"description": "renamed"})
    assert response.status_code == 200, response.text
    # Then the loop still claims it now and records the fire times that were due, not a minute later
    with engine.connect() as connection:
        next_run_at = connection.execute(
            text("SELECT next_run_at FROM deployments WHERE id = :id"), {"id": d["id"]}
        ).scalar_one()
    assert next_run_at <= db_now
    loop.tick(db_now)
    with engine.connect() as connection:
        recorded = connection.execute(
            text("SELECT sum(fire_times) FROM occurrences WHERE deployment_id = :id"), {"id": d["id"]}
        ).scalar_one()
    assert recorded == 10


def test_upcoming_and_next_run_at_go_by_the_database_clock_not_a_host_clock_that_is_behind(
    client: TestClient, pipeline: dict, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an hourly deployment next due half an hour from now by the database's clock
    with engine.connect() as connection:
        db_now = connection.execute(text("SELECT date_trunc('second', clock_timestamp())")).scalar_one()
    hourly = {"kind": "interval", "seconds": 3600, "anchor": (db_now - timedelta(hours=5, minutes=30)).isoformat()}
    d = deploy(client, schedule=hourly)
    due = db_now + timedelta(minutes=30)
    # When the API's host clock is two hours behind the database's
    host_clock_at(monkeypatch, lambda: db_now - timedelta(hours=2))
    # Then the fire times to come start from the database's now, not with ones two hours past
    upcoming = client.get(f"/api/v1/deployments/{d['id']}/upcoming", params={"n": 2}).json()["fire_times"]
    assert [datetime.fromisoformat(t) for t in upcoming] == [due, due + timedelta(hours=1)]
    # And the next fire time shown (one deployment, the list, a change) is the one the loop will fire
    shown = [
        client.get(f"/api/v1/deployments/{d['id']}").json(),
        next(x for x in client.get("/api/v1/deployments").json()["items"] if x["id"] == d["id"]),
        client.patch(f"/api/v1/deployments/{d['id']}", json={"description": "x"}).json(),
    ]
    assert [datetime.fromisoformat(x["next_run_at"]) for x in shown] == [due] * 3
