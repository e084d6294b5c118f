"""Missed fire times recorded as one range row notify subscribers as single rows do: one event per row inserted."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
import pytest
from litestar.testing import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from app.domain import webhooks
from app.domain.audit import AuditContext
from app.settings import Settings
from scheduler import fire_decisions
from scheduler.schedule_loop import ScheduleLoop
from tests.integration.engine_parts import ROOT
from tests.integration.schedule_support import T0, deploy, loop, rewind

__all__ = ["loop"]  # the fixture, from schedule_support

MISSED = 1_200
CHUNK = 500


def subscribe(engine: Engine, settings: Settings, deployment_id: str) -> None:
    settings = msgspec.structs.replace(settings, webhook_allow_private=True)
    with Session(engine) as session, session.begin():
        new = webhooks.NewWebhook(
            url="http://127.0.0.1:9/",
            event_types=["deployment.misfired", "deployment.run_skipped"],
            deployment_id=uuid.UUID(deployment_id),
        )
        webhooks.create_webhook(session, ROOT, new, settings, audit_as=AuditContext(principal=ROOT))


def events(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT payload FROM webhook_deliveries ORDER BY created_at, id")).scalars()
        return [{"type": p["type"], **p["data"]} for p in rows]


def occurrence_rows(engine: Engine, deployment_id: str, outcome: str) -> list[Any]:
    with engine.connect() as connection:
        return connection.execute(
            text(
                "SELECT scheduled_for, first_scheduled_for, fire_times FROM occurrences"
                " WHERE deployment_id = :id AND outcome = :outcome ORDER BY scheduled_for"
            ),
            {"id": deployment_id, "outcome": outcome},
        ).all()


def test_a_long_downtime_worked_off_chunk_by_chunk_is_one_event_for_its_range(
    client: TestClient,
    pipeline: dict,
    engine: Engine,
    loop: ScheduleLoop,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(fire_decisions, "MAX_FIRES_PER_TICK", CHUNK)
    # Given a deployment firing every second (skip, no grace) with a subscriber, last handled MISSED seconds ago
    d = deploy(
        client,
        schedule={"kind": "interval", "seconds": 1, "anchor": T0.isoformat()},
        misfire_policy="skip",
        misfire_grace_seconds=0,
        overlap_policy="allow",
    )
    subscribe(engine, settings, d["id"])
    rewind(engine, d["id"], T0)
    # When the scheduler works the downtime off, a chunk a tick: the first inserts the range, the next extend it
    now = T0 + timedelta(seconds=MISSED)
    while loop.tick(now).deployments:
        pass
    [(last, first, fire_times)] = occurrence_rows(engine, d["id"], "misfire_skipped")
    assert (first, last, fire_times) == (T0 + timedelta(seconds=1), now - timedelta(seconds=1), MISSED - 1)
    # Then the range row's insert is one deployment.misfired event, with its count and first and last fire time then
    [event] = events(engine)
    assert event["type"] == "deployment.misfired"
    assert (event["deployment_id"], event["outcome"]) == (d["id"], "misfire_skipped")
    assert event["fire_times"] == CHUNK > 100
    assert datetime.fromisoformat(event["first_scheduled_for"]) == T0 + timedelta(seconds=1)
    assert datetime.fromisoformat(event["scheduled_for"]) == T0 + timedelta(seconds=CHUNK)


def test_a_paused_range_recorded_at_resume_is_one_event(
    client: TestClient, pipeline: dict, engine: Engine, settings: Settings
) -> None:
    # Given a deployment every second with a subscriber, paused, its fire times of the last ten minutes unhandled
    anchor = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    d = deploy(client, schedule={"kind": "interval", "seconds": 1, "anchor": anchor})
    subscribe(engine, settings, d["id"])
    assert client.post(f"/api/v1/deployments/{d['id']}/pause").status_code == 200
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE deployments SET last_scheduled_for = now() - interval '10 minutes' WHERE id = :id"),
            {"id": d["id"]},
        )
    # When it is resumed
    assert client.post(f"/api/v1/deployments/{d['id']}/resume").status_code == 200
    # Then the paused range is one row and one deployment.run_skipped event carrying its count and first fire time
    [(last, first, fire_times)] = occurrence_rows(engine, d["id"], "paused")
    [event] = events(engine)
    assert (event["type"], event["outcome"], event["fire_times"]) == ("deployment.run_skipped", "paused", fire_times)
    assert fire_times >= 600
    assert datetime.fromisoformat(event["first_scheduled_for"]) == first
    assert datetime.fromisoformat(event["scheduled_for"]) == last
