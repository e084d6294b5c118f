"""The relay and the API's eager send while Redis is away: one warning each when it goes, one info line when it is
back (how long, how many sends were put off), the runs sent then; not a warning at every try."""

from __future__ import annotations

import logging
import re
import time

import msgspec
import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from app.core.states import RunTrigger
from app.domain.dispatch import ApiBroker, EagerSender
from app.domain.runs import RunRequest, get_runs, submit_runs
from scheduler.relay import Relay
from tests.cutting_proxy import CuttingProxy
from tests.integration.engine_parts import ROOT, Engine_
from tests.integration.redis_outage_support import loud, said
from workers.broker import build_broker

#: How long Redis is away: the relay and the API try again many times meanwhile.
OUTAGE_SECONDS = 3.0
BACK = r"Reconnected to Redis after \d+\.\d s \(run sends put off meanwhile: (\d+)\); sending runs again"


def test_the_relay_says_a_redis_outage_once_and_sends_the_runs_when_it_is_back(
    parts: Engine_, redis_proxy: CuttingProxy, caplog: pytest.LogCaptureFixture
) -> None:
    # Given three runs in the outbox and a relay whose Redis goes away
    caplog.set_level(logging.DEBUG)
    parts.pipeline("outage", [{"type": "log", "message": "x"}])
    run_ids = parts.submit("outage", 3)
    broker = build_broker(msgspec.structs.replace(parts.settings, redis_url=redis_proxy.url))
    relay = Relay(engine=parts.engine, broker=broker, relay_id="relay-test", batch=parts.settings.relay_batch)
    redis_proxy.down()
    tries = 0
    try:
        # When it tries to send them again and again while Redis is away (each time they go back into the outbox)
        deadline = time.monotonic() + OUTAGE_SECONDS
        while time.monotonic() < deadline:
            assert relay.relay_once() == 0
            tries += 1
            with parts.engine.begin() as connection:  # due again at once, not after RETRY_AFTER_SECONDS
                connection.execute(text("UPDATE outbox SET available_at = now() - interval '1 second'"))
        # and Redis comes back
        redis_proxy.up()
        assert relay.relay_once() == 3
    finally:
        broker.close()
    # Then the runs are sent, and the relay said so once when Redis went and once when it came back
    assert sorted(parts.queued_messages()) == sorted(map(str, run_ids))
    assert tries > 3
    lines = said(caplog, "scheduler.relay", "app.domain.dispatch")
    assert [level for level, _ in lines] == ["WARNING", "INFO"], lines
    assert lines[0][1].startswith("Lost the connection to Redis"), lines
    back = re.fullmatch(BACK, lines[1][1])
    assert back, lines
    assert int(back[1]) == 3 * tries, lines
    assert loud(caplog) == []


def test_the_api_says_a_redis_outage_once_however_many_submits_it_puts_back(
    parts: Engine_, redis_proxy: CuttingProxy, caplog: pytest.LogCaptureFixture
) -> None:
    # Given an API whose Redis goes away
    caplog.set_level(logging.DEBUG)
    parts.pipeline("outage", [{"type": "log", "message": "x"}])
    sender = EagerSender(
        engine=parts.engine,
        broker=ApiBroker(redis_proxy.url, parts.settings.redis_namespace),
        actor="api:test:1",
    )
    redis_proxy.down()
    # When runs are submitted meanwhile, one every 0.1 s
    put_back = 0
    deadline = time.monotonic() + OUTAGE_SECONDS
    while time.monotonic() < deadline:
        assert sender.send(_submit_queued(parts)) == 0
        put_back += 1
        time.sleep(0.1)
    # and one after Redis is back
    redis_proxy.up()
    assert sender.send(_submit_queued(parts)) == 1
    # Then each run sent meanwhile went back into the outbox, and the API said so in one warning and one info line
    with parts.engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM outbox")).scalar_one() == put_back
    lines = said(caplog, "app.domain.dispatch")
    assert [level for level, _ in lines] == ["WARNING", "INFO"], lines
    back = re.fullmatch(BACK, lines[1][1])
    assert back, lines
    assert int(back[1]) == put_back, lines
    assert loud(caplog) == []


def _submit_queued(parts: Engine_) -> list[object]:
    """One run as the API commits it when it sends it itself: QUEUED, no outbox row."""
    with Session(parts.engine, expire_on_commit=False) as session, session.begin():
        created = submit_runs(
            session,
            [RunRequest(pipeline="outage")],
            trigger=RunTrigger.API,
            principal=ROOT,
            settings=parts.settings,
            dispatch_actor="api:test:1",
        )
        return list(get_runs(session, [run.id for run in created]))
