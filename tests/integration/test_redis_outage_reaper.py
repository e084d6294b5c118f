"""The reaper while Redis is away: one warning when it goes, one info line when it is back, not one every pass."""

from __future__ import annotations

import logging
import re
import time

import msgspec
import pytest
from sqlalchemy import text

from scheduler.reaper import Reaper
from tests.cutting_proxy import CuttingProxy
from tests.integration.engine_parts import Engine_
from tests.integration.helpers import run_status
from tests.integration.redis_outage_support import loud, said
from workers.broker import build_broker

#: How long Redis is away: the reaper passes many times meanwhile (every 0.5 s in the scheduler; 0.1 s here).
OUTAGE_SECONDS = 3.0


def test_the_reaper_says_a_redis_outage_once_and_checks_the_queued_runs_when_it_is_back(
    parts: Engine_, redis_proxy: CuttingProxy, caplog: pytest.LogCaptureFixture
) -> None:
    # Given runs QUEUED long ago, not started, and a reaper whose Redis goes away
    caplog.set_level(logging.DEBUG)
    parts.pipeline("outage", [{"type": "log", "message": "x"}])
    run_ids = parts.submit("outage", 40)
    while parts.relay.relay_once():
        pass
    with parts.engine.begin() as connection:
        connection.execute(text("UPDATE runs SET dispatched_at = now() - interval '1 hour'"))
    broker = build_broker(msgspec.structs.replace(parts.settings, redis_url=redis_proxy.url))
    reaper = Reaper(engine=parts.engine, broker=broker, settings=parts.settings, reaper_id="reaper-test")
    redis_proxy.down()
    passes = 0
    try:
        # When it passes again and again while Redis is away, and a waiting run is cancelled before each pass
        deadline = time.monotonic() + OUTAGE_SECONDS
        while time.monotonic() < deadline:
            with parts.engine.begin() as connection:
                connection.execute(
                    text("UPDATE runs SET cancel_requested_at = now() WHERE id = :id"), {"id": run_ids[passes]}
                )
            assert reaper.reap_once() == {"lost": 0, "cancelled": 1, "resent": 0, "replanned": 0}
            passes += 1
            time.sleep(0.1)
        # and passes once Redis is back
        redis_proxy.up()
        assert reaper.reap_once()["resent"] == 0  # the broker still holds every message
    finally:
        broker.close()
    # Then the cancelled runs ended, and the reaper said once that Redis went and once that it came back
    assert passes > 3
    assert {run_status(parts.engine, run_id) for run_id in run_ids[:passes]} == {"CANCELLED"}
    lines = [
        (level, message)
        for level, message in said(caplog, "scheduler.reaper", "app.domain.runlogs")
        if "was asked to cancel" not in message  # a line per cancelled run, as it should be
    ]
    assert [level for level, _ in lines] == ["WARNING", "INFO"], lines
    assert lines[0][1].startswith("Lost the connection to Redis"), lines
    back = re.fullmatch(
        r"Reconnected to Redis after \d+\.\d s \(checks of queued runs put off meanwhile: (\d+)\); .*", lines[1][1]
    )
    assert back, lines
    assert int(back[1]) == sum(len(run_ids) - n for n in range(1, passes + 1)), lines
    assert loud(caplog) == []
