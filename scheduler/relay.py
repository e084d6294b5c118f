"""The outbox relay: takes due outbox rows, marks their runs QUEUED, sends one message per run.

Taking the rows and marking the runs QUEUED is one statement, committed before
the send, so a worker that receives a message at once finds its run QUEUED. If
the broker refuses the send, the rows go back into the outbox. If the relay
dies between the commit and the send, the run is QUEUED with a message the
broker never got: the reaper notices (it asks the broker for the run's message
id) and sends it again. A run sent twice is harmless: only one start can win.
"""

from __future__ import annotations

import logging

import redis
from dramatiq.brokers.redis import RedisBroker
from sqlalchemy import Engine

from app.core.states import RunStatus, sources
from app.db.queries import query
from workers.broker import enqueue_runs

logger = logging.getLogger(__name__)

#: A batch the broker refused is due again after this pause.
RETRY_AFTER_SECONDS = 1.0
_QUEUE_FROM = sources(RunStatus.QUEUED)


class Relay:
    """Moves the outbox to the broker, one batch per call."""

    def __init__(self, *, engine: Engine, broker: RedisBroker, relay_id: str, batch: int) -> None:
        self.engine = engine
        self.broker = broker
        self.relay_id = relay_id
        self.batch = batch

    def relay_once(self) -> int:
        """Send one batch; returns how many outbox rows it took (a full batch: more may be waiting)."""
        with self.engine.begin() as connection:
            rows = connection.execute(
                query("dispatch_outbox"),
                {"batch": self.batch, "from_statuses": _QUEUE_FROM, "actor": self.relay_id},
            ).all()
        sendable = [row for row in rows if row.id is not None]
        try:
            enqueue_runs(self.broker, [(r.broker_queue, str(r.id), r.broker_message_id) for r in sendable])
        except redis.RedisError as exc:
            logger.warning("broker unavailable, %d runs go back into the outbox: %s", len(sendable), exc)
            self._put_back(sendable)
            return 0
        return int(rows[0].taken)

    def wait_seconds(self, longest: float) -> float:
        """How long to sleep before the next row is due: 0 if one is due now, at most `longest`."""
        with self.engine.connect() as connection:
            due_in = connection.execute(query("outbox_due_in")).scalar()
        if due_in is None:
            return longest
        return min(max(float(due_in), 0.0), longest)

    def _put_back(self, rows: list) -> None:  # type: ignore[type-arg]
        try:
            with self.engine.begin() as connection:
                connection.execute(
                    query("put_back_outbox"),
                    {
                        "run_ids": [r.id for r in rows],
                        "queues": [r.broker_queue for r in rows],
                        "priorities": [r.priority for r in rows],
                        "after_seconds": RETRY_AFTER_SECONDS,
                    },
                )
        except Exception:
            logger.exception("could not put %d runs back into the outbox; the reaper will resend them", len(rows))
