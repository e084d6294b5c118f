"""Every path that makes a run (submit, trigger, backfill, the schedule loop) builds it with app.domain.run_rows."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from litestar.testing import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError

from app.core.states import RunKind, RunTrigger
from app.db.database import Database
from app.domain.run_rows import insert_run_rows_and_commit, run_row
from app.settings import Settings
from scheduler.schedule_loop import ScheduleLoop
from tests.integration.schedule_support import rewind

T0 = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
COLUMNS = "max_retries, retry_backoff_seconds, retry_backoff_max_seconds, retry_jitter, timeout_seconds, params"


def _deploy(client: TestClient, name: str, **fields: object) -> dict:
    body = {
        "name": name,
        "pipeline": "noop",
        "schedule": {"kind": "interval", "seconds": 60, "anchor": "2020-01-01T00:00:00Z"},
        "overlap_policy": "allow",
        **fields,
    }
    response = client.post("/api/v1/deployments", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def test_scheduled_backfilled_and_triggered_runs_carry_the_same_fields(
    client: TestClient, pipeline: dict, engine: Engine, settings: Settings
) -> None:
    d = _deploy(client, "same-fields", params={"who": "ops"}, max_retries=2, retry_jitter=0.25, timeout_seconds=90)
    rewind(engine, d["id"], T0)
    ScheduleLoop(engine=engine, settings=settings, scheduler_id="scheduler:test").tick(T0 + timedelta(minutes=1))
    assert client.post(f"/api/v1/deployments/{d['id']}/trigger", json={}).status_code in (200, 201, 202)
    window = {"start": "2020-01-01T00:00:00Z", "end": "2020-01-01T00:01:00Z", "overlap_policy": "allow"}
    assert client.post(f"/api/v1/deployments/{d['id']}/backfill", json=window).status_code in (200, 201)
    with engine.connect() as connection:
        rows = connection.execute(
            text(f"SELECT trigger, {COLUMNS} FROM runs WHERE deployment_id = :id ORDER BY trigger"), {"id": d["id"]}
        ).all()
    assert sorted({row.trigger for row in rows}) == ["backfill", "manual", "schedule"]
    assert all(tuple(row[1:]) == tuple(rows[0][1:]) for row in rows), rows
    assert (rows[0].max_retries, rows[0].retry_jitter, rows[0].timeout_seconds) == (2, 0.25, 90)


def test_a_timeout_past_the_instance_bound_is_refused_by_every_path(
    client: TestClient, pipeline: dict, engine: Engine, settings: Settings
) -> None:
    d = _deploy(client, "too-long", timeout_seconds=settings.max_timeout_seconds + 1)
    trigger = client.post(f"/api/v1/deployments/{d['id']}/trigger", json={})
    assert (trigger.status_code, trigger.json()["code"]) == (422, "timeout_too_long")
    window = {"start": "2020-01-01T00:00:00Z", "end": "2020-01-01T00:05:00Z"}
    backfill = client.post(f"/api/v1/deployments/{d['id']}/backfill", json=window)
    assert (backfill.status_code, backfill.json()["code"]) == (422, "timeout_too_long")
    rewind(engine, d["id"], T0)
    result = ScheduleLoop(engine=engine, settings=settings, scheduler_id="scheduler:test").tick(
        T0 + timedelta(minutes=1)
    )
    assert result.failed == [uuid.UUID(d["id"])]
    with engine.connect() as connection:
        runs = connection.execute(text("SELECT count(*) FROM runs WHERE deployment_id = :id"), {"id": d["id"]})
        reasons = connection.execute(
            text("SELECT outcome, reason, reason_code FROM occurrences WHERE deployment_id = :id"), {"id": d["id"]}
        ).all()
    assert runs.scalar_one() == 0
    assert [(o, r.split(":")[0], c) for o, r, c in reasons] == [("plan_failed", "timeout_too_long", "timeout_too_long")]


def test_a_submit_sent_with_its_commit_is_committed_and_a_failed_one_leaves_nothing(
    client: TestClient, pipeline: dict, engine: Engine, settings: Settings
) -> None:
    """insert_run_rows_and_commit: the insert and its COMMIT in one round trip; an error rolls back as before."""
    namespace = pipeline["namespace_id"]

    def row(namespace_id: str) -> dict:
        return run_row(
            settings,
            namespace_id=namespace_id,
            kind=RunKind.PIPELINE,
            trigger=RunTrigger.API,
            actor="user:root",
            created_by=None,
            pipeline_id=pipeline["id"],
            pipeline_version=1,
        )

    good, bad = row(namespace), row(str(uuid.uuid4()))  # no such namespace: a foreign key refuses it
    database = Database(engine)
    with database.transaction() as session:
        [inserted] = insert_run_rows_and_commit(session, [good], dispatch_actor="api:test")
        with engine.connect() as other:  # committed already, before the session's own (empty) commit
            assert (
                other.execute(text("SELECT status FROM runs WHERE id = :id"), {"id": good["id"]}).scalar() == "QUEUED"
            )
    assert (inserted.id, inserted.status) == (good["id"], "QUEUED")
    with pytest.raises(IntegrityError), database.transaction() as session:
        insert_run_rows_and_commit(session, [bad], dispatch_actor="api:test")
    with engine.connect() as other:
        assert other.execute(text("SELECT count(*) FROM runs WHERE id = :id"), {"id": bad["id"]}).scalar() == 0
