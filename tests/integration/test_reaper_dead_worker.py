"""A worker killed with messages fetched but not started: the reaper puts them back, so their runs start."""

from __future__ import annotations

from sqlalchemy import text

from app.core.states import RunStatus
from tests.integration.engine_parts import Engine_
from tests.integration.helpers import statuses
from workers.broker import build_broker


def test_a_run_whose_message_a_dead_worker_had_fetched_is_started_by_a_live_one(parts: Engine_) -> None:
    # Given a QUEUED run whose message a worker fetched (its prefetch) before it was killed with SIGKILL
    parts.pipeline("prefetched", [])
    [run_id] = parts.submit("prefetched")
    assert parts.relay.relay_once() == 1
    queue = parts.settings.queue
    queue_list = f"{parts.broker.namespace}:{queue}"
    dead = build_broker(parts.settings)
    try:
        assert len(dead.ack_and_fetch(queue, 8)) == 1
        # (its last heartbeat is long past: it never fetches or acks again)
        dead.client.zadd(f"{dead.namespace}:__heartbeats__", {dead.broker_id: 0})
    finally:
        dead.client.close()
    assert parts.broker.client.llen(queue_list) == 0
    assert parts.queued_messages() == [str(run_id)]  # held by the broker, in the dead worker's ack set

    # When it has waited longer than the resend wait, and the reaper looks
    with parts.engine.begin() as connection:
        connection.execute(text("UPDATE runs SET dispatched_at = now() - interval '1 hour'"))
    assert parts.reaper.resend_unstarted() == 0  # the broker holds its message: nothing to send again

    # Then its message is back in the queue for the live workers, and the run starts once
    assert parts.broker.client.llen(queue_list) == 1
    [message] = parts.queued(queue)
    assert message.args[0] == str(run_id)
    assert parts.executor.execute(run_id) is RunStatus.SUCCEEDED
    assert statuses(parts.engine, run_id) == ["PENDING", "QUEUED", "RUNNING", "SUCCEEDED"]
