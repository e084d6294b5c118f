"""The outbox relay: claims due outbox rows, marks their runs QUEUED, sends one message per run.

Claim and QUEUED are committed before the send, so a worker that receives the
message at once finds the run QUEUED. A relay that dies after committing but
before sending leaves the rows undispatched; their lease runs out and another
relay sends them. A run sent twice is harmless: only one start can win.
"""

from __future__ import annotations

import logging

import redis
from dramatiq import Message
from dramatiq.brokers.redis import RedisBroker
from sqlalchemy import Engine, text

from app.db.queries import query
from app.domain.states import RunStatus, sources
from workers.broker import RUN_ACTOR, enqueue_many

logger = logging.getLogger(__name__)

#: How long a relay keeps claimed rows before another relay may take them.
CLAIM_LEASE_SECONDS = 30.0
_QUEUE_FROM = sources(RunStatus.QUEUED)
_RELEASE = text("UPDATE outbox SET claimed_until = NULL WHERE id = ANY(CAST(:ids AS bigint[]))")


class Relay:
    """Moves the outbox to the broker, one batch per call."""

    def __init__(self, *, engine: Engine, broker: RedisBroker, relay_id: str, batch: int) -> None:
        self.engine = engine
        self.broker = broker
        self.relay_id = relay_id
        self.batch = batch

    def relay_once(self) -> int:
        """Send one batch; returns how many outbox rows it closed."""
        with self.engine.begin() as connection:
            claimed = connection.execute(
                query("claim_outbox"),
                {"relay_id": self.relay_id, "lease_seconds": CLAIM_LEASE_SECONDS, "batch": self.batch},
            ).all()
            if not claimed:
                return 0
            to_send = {
                row.id
                for row in connection.execute(
                    query("mark_runs_queued"),
                    {"run_ids": [str(r.run_id) for r in claimed], "from_statuses": _QUEUE_FROM, "actor": self.relay_id},
                )
            }
        sendable = []
        for row in claimed:
            if row.run_id in to_send:
                to_send.discard(row.run_id)  # one message per run, even with two outbox rows
                sendable.append(row)
        try:
            sent = enqueue_many(
                self.broker,
                [
                    Message(queue_name=r.queue, actor_name=RUN_ACTOR, args=(str(r.run_id),), kwargs={}, options={})
                    for r in sendable
                ],
            )
        except redis.RedisError as exc:
            logger.warning("broker unavailable, %d outbox rows left for later: %s", len(claimed), exc)
            self._release([row.id for row in claimed])
            return 0
        message_ids: dict[int, str | None] = {row.id: None for row in claimed}
        message_ids.update({row.id: message_id for row, message_id in zip(sendable, sent, strict=True)})
        with self.engine.begin() as connection:
            connection.execute(
                query("mark_outbox_dispatched"), {"ids": list(message_ids), "message_ids": list(message_ids.values())}
            )
        return len(message_ids)

    def _release(self, ids: list[int]) -> None:
        if not ids:
            return
        try:
            with self.engine.begin() as connection:
                connection.execute(_RELEASE, {"ids": ids})
        except Exception:
            logger.exception("could not release outbox claims; their lease will expire")
