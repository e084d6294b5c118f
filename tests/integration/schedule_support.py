"""Helpers the schedule tests share: a fixed clock origin, a deployment maker, and reads of what the loop wrote."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from litestar.testing import TestClient
from sqlalchemy import Engine, text

from app import clock
from app.settings import Settings
from scheduler.schedule_loop import ScheduleLoop

T0 = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def loop(engine: Engine, settings: Settings) -> ScheduleLoop:
    return ScheduleLoop(engine=engine, settings=settings, scheduler_id="scheduler:test")


def host_clock_at(monkeypatch: pytest.MonkeyPatch, now: Callable[[], datetime]) -> None:
    """Every module of the app that reads the host's wall clock (app.clock.utcnow) reads `now` instead."""
    wall = clock.utcnow
    for name, module in list(sys.modules.items()):
        if name.split(".")[0] in ("app", "workers", "scheduler") and getattr(module, "utcnow", None) is wall:
            monkeypatch.setattr(module, "utcnow", now)


def deploy(client: TestClient, **fields) -> dict:  # type: ignore[no-untyped-def]
    body = {
        "name": f"d-{len(fields)}-{id(fields)}",
        "pipeline": "noop",
        "schedule": {"kind": "interval", "seconds": 60, "anchor": T0.isoformat()},
        **fields,
    }
    response = client.post("/api/v1/deployments", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def rewind(engine: Engine, deployment_id: str, to: datetime) -> None:
    """Pretend the deployment was last handled at `to` (as after a downtime)."""
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE deployments SET last_scheduled_for = :to, next_run_at = :to WHERE id = :id"),
            {"to": to, "id": deployment_id},
        )


def occurrences(engine: Engine, deployment_id: str) -> list[tuple[int, str]]:
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT scheduled_for, outcome FROM occurrences WHERE deployment_id = :id ORDER BY scheduled_for"),
            {"id": deployment_id},
        ).all()
    return [(int((at - T0).total_seconds() // 60), outcome) for at, outcome in rows]


def reason_codes(engine: Engine, deployment_id: str) -> list[tuple[int, str]]:
    """(minute after T0, reason code) of a deployment's occurrences, oldest first."""
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT scheduled_for, reason_code FROM occurrences WHERE deployment_id = :id ORDER BY scheduled_for"),
            {"id": deployment_id},
        ).all()
    return [(int((at - T0).total_seconds() // 60), code) for at, code in rows]


def scheduled_runs(engine: Engine, deployment_id: str) -> list[int]:
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT scheduled_for FROM runs WHERE deployment_id = :id AND trigger = "
                "'schedule' ORDER BY scheduled_for"
            ),
            {"id": deployment_id},
        ).scalars()
        return [int((at - T0).total_seconds() // 60) for at in rows]
