"""Run lanes: batch submits and backfills travel in the bulk lane, and keep it on retries and re-sends."""

from __future__ import annotations

from sqlalchemy import text

from app.core.states import RunStatus, RunTrigger
from app.domain.lanes import BULK_RUN_ACTOR, RUN_ACTOR, bulk_queue
from tests.integration.engine_parts import Engine_
from tests.integration.helpers import statuses


def broker_queue(parts: Engine_, run_id: object) -> str:
    with parts.engine.connect() as connection:
        return str(connection.execute(text("SELECT broker_queue FROM runs WHERE id = :id"), {"id": run_id}).scalar())


def test_a_batch_run_is_sent_to_the_bulk_lane_and_a_single_run_to_the_interactive_one(parts: Engine_) -> None:
    parts.pipeline("lanes", [{"type": "log", "message": "x"}])
    [batch_run] = parts.submit("lanes", trigger=RunTrigger.BATCH)
    [single_run] = parts.submit("lanes")
    assert parts.relay.relay_once() == 2
    bulk = bulk_queue(parts.settings.queue)
    assert [(m.args[0], m.actor_name) for m in parts.queued(bulk)] == [(str(batch_run), BULK_RUN_ACTOR)]
    assert [(m.args[0], m.actor_name) for m in parts.queued()] == [(str(single_run), RUN_ACTOR)]
    assert broker_queue(parts, batch_run) == bulk
    assert broker_queue(parts, single_run) == parts.settings.queue
    # either lane's message starts its run the same way
    assert parts.executor.execute(batch_run) is RunStatus.SUCCEEDED
    assert parts.executor.execute(single_run) is RunStatus.SUCCEEDED


def test_a_backfill_run_takes_the_bulk_lane_too(parts: Engine_) -> None:
    parts.pipeline("backfilled", [{"type": "log", "message": "x"}])
    [run_id] = parts.submit("backfilled", trigger=RunTrigger.BACKFILL)
    assert parts.relay.relay_once() == 1
    assert parts.queued_messages(bulk_queue(parts.settings.queue)) == [str(run_id)]


def test_a_bulk_run_is_retried_in_the_bulk_lane(parts: Engine_) -> None:
    parts.pipeline("bulkboom", [{"type": "fail", "message": "kaboom"}])
    [run_id] = parts.submit("bulkboom", trigger=RunTrigger.BATCH, max_retries=1)
    bulk = bulk_queue(parts.settings.queue)
    assert parts.relay.relay_once() == 1
    assert parts.executor.execute(run_id) is RunStatus.RETRYING
    parts.drain()
    assert parts.relay.relay_once() == 1  # backoff is 0 in the test settings
    assert parts.queued_messages(bulk) == [str(run_id)]
    assert parts.queued_messages() == []
    assert parts.executor.execute(run_id) is RunStatus.FAILED
    assert statuses(parts.engine, run_id) == ["PENDING", "QUEUED", "RUNNING", "RETRYING", "QUEUED", "RUNNING", "FAILED"]


def test_a_bulk_run_whose_message_was_lost_is_sent_again_to_the_bulk_lane(parts: Engine_) -> None:
    parts.pipeline("bulklost", [{"type": "log", "message": "x"}])
    [run_id] = parts.submit("bulklost", trigger=RunTrigger.BATCH)
    assert parts.relay.relay_once() == 1
    parts.drain()  # Redis lost the message
    with parts.engine.begin() as connection:
        connection.execute(
            text("UPDATE runs SET dispatched_at = now() - interval '1 hour' WHERE id = :id"), {"id": run_id}
        )
    assert parts.reaper.resend_unstarted() == 1
    assert parts.relay.relay_once() == 1
    assert parts.queued_messages(bulk_queue(parts.settings.queue)) == [str(run_id)]
    assert parts.executor.execute(run_id) is RunStatus.SUCCEEDED
