"""The API's eager send: runs committed QUEUED by the submit and sent right after; the reaper is the fallback."""

from __future__ import annotations

import uuid

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from app.core.states import RunStatus, RunTrigger
from app.db.models import Run
from app.domain.dispatch import ApiBroker, EagerSender
from app.domain.runs import RunRequest, get_runs, submit_runs
from tests.integration.engine_parts import ROOT, Engine_
from tests.integration.helpers import count, run_status, statuses

ACTOR = "api:test:1"


def submit_for_eager_send(parts: Engine_, pipeline: str, count_: int = 1) -> list[Run]:
    """What the API commits when it sends the runs itself: the runs QUEUED, dispatched by the API, no outbox rows."""
    with Session(parts.engine, expire_on_commit=False) as session, session.begin():
        created = submit_runs(
            session,
            [RunRequest(pipeline=pipeline) for _ in range(count_)],
            trigger=RunTrigger.API,
            principal=ROOT,
            settings=parts.settings,
            dispatch_actor=ACTOR,
        )
        return get_runs(session, [run.id for run in created])


def sender(parts: Engine_, redis_url: str | None = None) -> EagerSender:
    broker = ApiBroker(redis_url or parts.settings.redis_url, parts.settings.redis_namespace)
    return EagerSender(engine=parts.engine, broker=broker, actor=ACTOR)


def resend_wait_passes(engine: Engine) -> None:
    """The reaper's resend wait is over (the database clock cannot be moved, so the runs are)."""
    with engine.begin() as connection:
        connection.execute(text("UPDATE runs SET dispatched_at = now() - interval '1 hour' WHERE status = 'QUEUED'"))


def events_of(engine: Engine, run_id: uuid.UUID) -> list[tuple[str | None, str, str, str]]:
    with engine.connect() as connection:
        return [
            tuple(row)  # type: ignore[misc]
            for row in connection.execute(
                text("SELECT from_status, to_status, reason, actor FROM run_events WHERE run_id = :id ORDER BY id"),
                {"id": run_id},
            )
        ]


def test_a_submit_commits_its_runs_queued_with_both_events_and_no_outbox_row(parts: Engine_) -> None:
    parts.pipeline("eager", [{"type": "log", "message": "x"}])
    runs = submit_for_eager_send(parts, "eager", 3)
    for run in runs:
        assert run.status == "QUEUED"
        assert run.broker_message_id
        assert run.broker_queue == parts.settings.queue
        assert run.queued_at is not None
        assert run.dispatched_at is not None
        assert events_of(parts.engine, run.id) == [
            (None, "PENDING", "created", "user:test"),
            ("PENDING", "QUEUED", "dispatched", ACTOR),
        ]
    assert count(parts.engine, "outbox", "true") == 0
    assert parts.relay.relay_once() == 0  # nothing for the relay
    assert parts.queued_messages() == []  # nothing sent before the commit


def test_an_eagerly_sent_run_reaches_a_worker_without_the_relay(parts: Engine_) -> None:
    parts.pipeline("eager", [{"type": "log", "message": "x"}])
    runs = submit_for_eager_send(parts, "eager", 3)
    assert sender(parts).send(runs) == 3
    assert {str(r.id) for r in runs} == set(parts.queued_messages())
    for run in runs:
        assert parts.executor.execute(run.id) is RunStatus.SUCCEEDED
        assert statuses(parts.engine, run.id) == ["PENDING", "QUEUED", "RUNNING", "SUCCEEDED"]


def test_a_run_the_api_never_sent_is_sent_again_by_the_reaper(parts: Engine_) -> None:
    # Given a submit committed by an API that died before its send
    parts.pipeline("orphan", [{"type": "log", "message": "x"}])
    [run] = submit_for_eager_send(parts, "orphan")
    # then the reaper leaves it alone while the message may still be on its way...
    assert parts.reaper.resend_unstarted() == 0
    assert parts.queued_messages() == []
    # ...and, once the wait is over and the broker does not hold its message, sends it through the outbox
    resend_wait_passes(parts.engine)
    assert parts.reaper.resend_unstarted() == 1
    assert parts.relay.relay_once() == 1
    assert parts.queued_messages() == [str(run.id)]
    assert parts.executor.execute(run.id) is RunStatus.SUCCEEDED
    assert run_status(parts.engine, run.id) == "SUCCEEDED"


def test_a_run_whose_eager_send_the_broker_refused_goes_back_to_the_outbox(parts: Engine_) -> None:
    parts.pipeline("refused", [{"type": "log", "message": "x"}])
    [run] = submit_for_eager_send(parts, "refused")
    # Given a broker that cannot be reached from the API
    assert sender(parts, "redis://127.0.0.1:1/0").send([run]) == 0
    assert parts.queued_messages() == []
    assert count(parts.engine, "outbox", "run_id = :id", id=run.id) == 1
    # then the relay sends it when its row is due
    with parts.engine.begin() as connection:
        connection.execute(text("UPDATE outbox SET available_at = now() - interval '1 second'"))
    assert parts.relay.relay_once() == 1
    assert parts.queued_messages() == [str(run.id)]
    assert parts.executor.execute(run.id) is RunStatus.SUCCEEDED
    assert statuses(parts.engine, run.id) == ["PENDING", "QUEUED", "RUNNING", "SUCCEEDED"]


def test_a_run_sent_both_eagerly_and_by_the_relay_runs_once(parts: Engine_) -> None:
    parts.pipeline("twice", [{"type": "log", "message": "x"}])
    [run] = submit_for_eager_send(parts, "twice")
    assert sender(parts).send([run]) == 1
    # Given an outbox row for the run after its eager send (a put-back whose answer was lost, say)
    with parts.engine.begin() as connection:
        connection.execute(
            text("INSERT INTO outbox (run_id, queue, priority) VALUES (:id, :queue, 0)"),
            {"id": run.id, "queue": parts.settings.queue},
        )
    assert parts.relay.relay_once() == 1  # the relay re-sends the QUEUED run: a second message
    assert parts.queued_messages() == [str(run.id), str(run.id)]
    # then the two deliveries start it once
    assert parts.executor.execute(run.id) is RunStatus.SUCCEEDED
    assert parts.executor.execute(run.id) is None
    assert statuses(parts.engine, run.id) == ["PENDING", "QUEUED", "RUNNING", "SUCCEEDED"]


def test_a_cancelled_run_sent_eagerly_is_not_started(parts: Engine_) -> None:
    parts.pipeline("cancelled", [{"type": "log", "message": "x"}])
    [run] = submit_for_eager_send(parts, "cancelled")
    with parts.engine.begin() as connection:
        connection.execute(
            text("UPDATE runs SET status = 'CANCELLED', finished_at = now() WHERE id = :id"), {"id": run.id}
        )
    # the send skips nothing it cannot know about, but the start finds nothing to start
    assert sender(parts).send([run]) == 1
    assert parts.executor.execute(run.id) is None
    assert run_status(parts.engine, run.id) == "CANCELLED"


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
