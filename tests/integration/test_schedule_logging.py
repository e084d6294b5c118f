"""The schedule loop's logs name the deployment they are about (deployment_id bound), in the JSON format too."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from datetime import timedelta

import pytest
from litestar.testing import TestClient
from sqlalchemy import Engine

from app.logs import JsonFormatter, _ContextFilter
from app.settings import Settings
from scheduler.schedule_loop import ScheduleLoop
from tests.integration.schedule_support import T0, deploy, rewind


@pytest.fixture
def loop(engine: Engine, settings: Settings) -> ScheduleLoop:
    return ScheduleLoop(engine=engine, settings=settings, scheduler_id="scheduler:test")


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.addFilter(_ContextFilter())
    handler.setFormatter(JsonFormatter("scheduler"))
    target = logging.getLogger("scheduler.schedule_loop")
    level = target.level
    target.addHandler(handler)
    target.setLevel(logging.INFO)
    yield out
    target.removeHandler(handler)
    target.setLevel(level)


def test_skipped_fire_times_are_logged_with_their_deployment_id(
    client: TestClient, pipeline: dict, engine: Engine, loop: ScheduleLoop, json_lines: io.StringIO
) -> None:
    d = deploy(client, misfire_policy="skip", misfire_grace_seconds=30)
    rewind(engine, d["id"], T0)
    loop.tick(T0 + timedelta(minutes=10, seconds=5))  # nine fire times missed while the scheduler was down
    entries = [json.loads(line) for line in json_lines.getvalue().splitlines()]
    mine = [e for e in entries if e.get("deployment_id") == d["id"]]
    assert [e["message"] for e in mine] == ["9 fire times made no run (misfire_skipped)"]
    assert mine[0]["process"] == "scheduler"
