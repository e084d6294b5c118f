"""The API's eager send: runs go to the broker right after the submit commits; the outbox stays the fallback."""

from __future__ import annotations

import uuid

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from app.core.states import RunStatus, RunTrigger
from app.domain.dispatch import EAGER_GRACE_SECONDS, ApiBroker, EagerSender
from app.domain.runs import RunRequest, submit_runs
from tests.integration.engine_parts import ROOT, Engine_
from tests.integration.helpers import count, run_status, statuses


def submit_for_eager_send(parts: Engine_, pipeline: str, count_: int = 1) -> list[uuid.UUID]:
    """What the API commits when it sends the runs itself: runs PENDING, outbox rows due after the grace."""
    with Session(parts.engine) as session, session.begin():
        return submit_runs(
            session,
            [RunRequest(pipeline=pipeline) for _ in range(count_)],
            trigger=RunTrigger.API,
            principal=ROOT,
            settings=parts.settings,
            outbox_delay_seconds=EAGER_GRACE_SECONDS,
        )


def sender(parts: Engine_, redis_url: str | None = None) -> EagerSender:
    broker = ApiBroker(redis_url or parts.settings.redis_url, parts.settings.redis_namespace)
    return EagerSender(engine=parts.engine, broker=broker, actor="api-test")


def grace_passes(engine: Engine) -> None:
    """The outbox rows' grace is over (the database clock cannot be moved, so the rows are)."""
    with engine.begin() as connection:
        connection.execute(text("UPDATE outbox SET available_at = now() - interval '1 second'"))


def test_an_eagerly_sent_run_is_queued_without_the_relay(parts: Engine_) -> None:
    parts.pipeline("eager", [{"type": "log", "message": "x"}])
    run_ids = submit_for_eager_send(parts, "eager", 3)
    assert sender(parts).send(run_ids) == 3
    assert {str(r) for r in run_ids} == set(parts.queued_messages())
    for run_id in run_ids:
        assert statuses(parts.engine, run_id) == ["PENDING", "QUEUED"]
    assert count(parts.engine, "outbox", "true") == 0
    assert parts.relay.relay_once() == 0  # nothing left for the relay


def test_a_run_the_api_did_not_send_is_sent_by_the_relay_after_the_grace(parts: Engine_) -> None:
    # Given a submit committed by an API that died before its eager send
    parts.pipeline("orphan", [{"type": "log", "message": "x"}])
    [run_id] = submit_for_eager_send(parts, "orphan")
    # then the relay leaves it alone during the grace (no race with the API's own send)...
    assert parts.relay.relay_once() == 0
    assert run_status(parts.engine, run_id) == "PENDING"
    # ...and sends it from the outbox once the grace is over
    grace_passes(parts.engine)
    assert parts.relay.relay_once() == 1
    assert parts.queued_messages() == [str(run_id)]
    assert parts.executor.execute(run_id) is RunStatus.SUCCEEDED
    assert statuses(parts.engine, run_id) == ["PENDING", "QUEUED", "RUNNING", "SUCCEEDED"]


def test_a_run_whose_eager_send_the_broker_refused_goes_back_to_the_outbox(parts: Engine_) -> None:
    parts.pipeline("refused", [{"type": "log", "message": "x"}])
    [run_id] = submit_for_eager_send(parts, "refused")
    # Given a broker that cannot be reached from the API
    assert sender(parts, "redis://127.0.0.1:1/0").send([run_id]) == 0
    assert parts.queued_messages() == []
    assert count(parts.engine, "outbox", "run_id = :id", id=run_id) == 1
    # then the relay sends it when its row is due again
    grace_passes(parts.engine)
    assert parts.relay.relay_once() == 1
    assert parts.queued_messages() == [str(run_id)]
    assert parts.executor.execute(run_id) is RunStatus.SUCCEEDED


def test_a_run_sent_both_eagerly_and_by_the_relay_runs_once(parts: Engine_) -> None:
    parts.pipeline("twice", [{"type": "log", "message": "x"}])
    [run_id] = submit_for_eager_send(parts, "twice")
    assert sender(parts).send([run_id]) == 1
    # Given an outbox row for the run after its eager send (a put-back whose answer was lost, say)
    with parts.engine.begin() as connection:
        connection.execute(
            text("INSERT INTO outbox (run_id, queue, priority) VALUES (:id, :queue, 0)"),
            {"id": run_id, "queue": parts.settings.queue},
        )
    assert parts.relay.relay_once() == 1  # the relay re-sends the QUEUED run: a second message
    assert parts.queued_messages() == [str(run_id), str(run_id)]
    # then the two deliveries start it once
    assert parts.executor.execute(run_id) is RunStatus.SUCCEEDED
    assert parts.executor.execute(run_id) is None
    assert statuses(parts.engine, run_id) == ["PENDING", "QUEUED", "RUNNING", "SUCCEEDED"]


def test_the_relay_is_not_woken_for_runs_the_api_sends(parts: Engine_) -> None:
    parts.pipeline("quiet", [{"type": "log", "message": "x"}])
    with parts.engine.connect() as listener:
        listener.execute(text("LISTEN conveyor_outbox"))
        listener.commit()
        submit_for_eager_send(parts, "quiet")
        raw = listener.connection.driver_connection
        assert list(raw.notifies(timeout=0.2, stop_after=1)) == []  # type: ignore[union-attr]
        parts.submit("quiet")  # the relay's path wakes it
        assert len(list(raw.notifies(timeout=5, stop_after=1))) == 1  # type: ignore[union-attr]
