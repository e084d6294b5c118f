"""Deployment times stored before the 1900-8999 rule (app.scheduling.spec.check_time) existed: one such row must not
break the deployment lists or a PATCH of other fields, and migration 0018 repairs them."""

from __future__ import annotations

import runpy
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic.migration import MigrationContext
from alembic.operations import Operations
from litestar.testing import TestClient
from sqlalchemy import Engine, text

from app.db import times
from app.settings import Settings
from scheduler.schedule_loop import ScheduleLoop
from tests.integration.schedule_support import T0, deploy, rewind, scheduled_runs

MIGRATIONS = Path(__file__).parents[2] / "sql" / "migrations" / "versions"

CREATE = {"name": "old", "pipeline": "noop", "schedule": {"kind": "cron", "cron": "0 * * * *"}}


@pytest.fixture
def deployment(client: TestClient, pipeline: dict) -> dict:
    response = client.post("/api/v1/deployments", json=CREATE)
    assert response.status_code == 201, response.text
    return response.json()


def store(engine: Engine, deployment: dict, assignments: str) -> None:
    """Write what the API refuses today, as an older version stored it."""
    with engine.begin() as connection:
        connection.execute(text(f"UPDATE deployments SET {assignments} WHERE id = :id"), {"id": deployment["id"]})


@pytest.mark.parametrize(
    "assignments",
    [
        "end_at = '9999-12-31T23:59:59-14:00'",  # year 10000 once in UTC: psycopg cannot read it
        "start_at = '0001-01-01T00:00:00+14:00'",  # year 0 (1 BC) once in UTC
        "end_at = 'infinity'",
        "next_run_at = '9999-12-31T23:59:59-14:00', last_scheduled_for = '0001-01-01T00:00:00+14:00'",
    ],
)
def test_a_time_python_cannot_hold_does_not_break_the_deployment_reads(
    client: TestClient, engine: Engine, deployment: dict, assignments: str
) -> None:
    """GET /deployments answered 500 internal_error for everybody (psycopg DataError reading the row)."""
    store(engine, deployment, assignments)
    listed = client.get("/api/v1/deployments")
    assert listed.status_code == 200, listed.text
    assert [d["id"] for d in listed.json()["items"]] == [deployment["id"]]
    one = client.get(f"/api/v1/deployments/{deployment['id']}")
    assert one.status_code == 200, one.text


def test_a_backfilled_run_in_year_0_does_not_break_the_deployment_list(
    client: TestClient, engine: Engine, deployment: dict
) -> None:
    """A backfill before its check stored runs and occurrences at 0001-01-01T00:00:00+14:00 (1 BC in UTC)."""
    triggered = client.post(f"/api/v1/deployments/{deployment['id']}/trigger", json={})
    assert triggered.status_code in (200, 201, 202), triggered.text
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE runs SET scheduled_for = '0001-01-01T00:00:00+14:00' WHERE deployment_id = :id"),
            {"id": deployment["id"]},
        )
        connection.execute(
            text(
                "INSERT INTO occurrences (deployment_id, scheduled_for, outcome, reason)"
                " VALUES (:id, '0001-01-01T00:00:00+14:00', 'paused', '')"
            ),
            {"id": deployment["id"]},
        )
    assert client.get("/api/v1/deployments").status_code == 200
    assert client.get(f"/api/v1/deployments/{deployment['id']}/occurrences").status_code == 200
    assert client.get("/api/v1/runs").status_code == 200


@pytest.mark.parametrize(
    ("assignments", "field"),
    [
        ("start_at = '1850-01-01T00:00:00Z'", "start_at"),
        ("end_at = '9500-01-01T00:00:00Z'", "end_at"),
    ],
)
def test_patch_of_another_field_works_beside_a_stored_time_out_of_range(
    client: TestClient, engine: Engine, deployment: dict, assignments: str, field: str
) -> None:
    """PATCH {"description"} answered 422 time_out_of_range for the stored start_at until start_at was changed."""
    store(engine, deployment, assignments)
    changed = client.patch(f"/api/v1/deployments/{deployment['id']}", json={"description": "still runs"})
    assert changed.status_code == 200, changed.text
    assert changed.json()["description"] == "still runs"
    # The field itself still follows the rule when it is given.
    again = client.patch(f"/api/v1/deployments/{deployment['id']}", json={field: "1850-01-01T00:00:00Z"})
    assert (again.status_code, again.json()["code"]) == (422, "time_out_of_range")


def migrate_0018(engine: Engine) -> None:
    """Run migration 0018's repair on the test database (already at head: the repair is idempotent)."""
    module = runpy.run_path(str(MIGRATIONS / "0018_representable_times.py"))
    with engine.begin() as connection, Operations.context(MigrationContext.configure(connection)):
        module["upgrade"]()


def test_migration_0018_rewrites_each_time_to_what_it_meant(
    client: TestClient, engine: Engine, deployment: dict
) -> None:
    interval = client.post(
        "/api/v1/deployments",
        json={**CREATE, "name": "every-hour", "schedule": {"kind": "interval", "seconds": 3600}},
    ).json()
    once = client.post(
        "/api/v1/deployments",
        json={**CREATE, "name": "once", "schedule": {"kind": "once", "at": "2999-01-01T00:00:00Z"}},
    ).json()
    store(engine, deployment, "start_at = '1850-01-01T00:00:00Z', end_at = '9999-12-31T23:59:59-14:00'")
    store(engine, interval, "schedule = jsonb_set(schedule, '{anchor}', '\"0001-01-01T00:30:00+14:00\"')")
    store(engine, once, "schedule = jsonb_set(schedule, '{at}', '\"9999-12-31T23:59:59-14:00\"'), end_at = 'infinity'")
    migrate_0018(engine)
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT name, start_at, end_at, schedule->>'anchor' AS anchor, schedule->>'at' AS at"
                " FROM deployments ORDER BY name"
            )
        ).all()
    by_name = {row.name: row for row in rows}
    assert (by_name["old"].start_at, by_name["old"].end_at) == (None, None)  # began long ago, never ends
    # The anchor moved by whole hours into 1900: the fire times keep their minute.
    assert by_name["every-hour"].anchor == "1900-01-01T00:30:00.000000+00:00"
    assert (by_name["once"].at, by_name["once"].end_at) == ("8999-12-31T23:59:59.000000+00:00", None)
    for d in (deployment, interval, once):
        changed = client.patch(f"/api/v1/deployments/{d['id']}", json={"description": "repaired"})
        assert changed.status_code == 200, changed.text
    hourly = client.get(f"/api/v1/deployments/{interval['id']}").json()
    assert hourly["next_run_at"].endswith(":30:00Z")


@pytest.mark.parametrize("binary", [False, True])
def test_the_engine_reads_times_past_datetime_as_its_ends(engine: Engine, binary: bool) -> None:
    """Text (SQLAlchemy's default) and binary results alike; a representable time reads as it is."""
    connection = engine.raw_connection()
    try:
        cursor = connection.driver_connection.cursor(binary=binary)  # type: ignore[union-attr]
        cursor.execute(
            "SELECT '9999-12-31T23:59:59-14:00'::timestamptz, 'infinity'::timestamptz,"
            " '0001-01-01T00:00:00+14:00'::timestamptz, '-infinity'::timestamptz, '2026-12-04T12:00:00Z'::timestamptz"
        )
        row = cursor.fetchone()
    finally:
        connection.close()
    assert row == (times.LATEST, times.LATEST, times.EARLIEST, times.EARLIEST, datetime(2026, 12, 4, 12, tzinfo=UTC))


def test_the_scheduler_plans_a_deployment_stored_with_times_past_the_rule(
    client: TestClient, engine: Engine, settings: Settings, pipeline: dict
) -> None:
    """Before migration 0018 rewrote it, a start in 1 BC (read as datetime.min) failed that deployment's planning."""
    d = deploy(client)
    rewind(engine, d["id"], T0)
    store(engine, d, "start_at = '0001-01-01T00:00:00+14:00', end_at = '9999-12-31T23:59:59-14:00'")
    loop = ScheduleLoop(engine=engine, settings=settings, scheduler_id="scheduler:test")
    loop.tick(T0 + timedelta(minutes=2, seconds=1))
    assert scheduled_runs(engine, d["id"]) == [1]  # planned as any deployment is (the default misfire policy)
