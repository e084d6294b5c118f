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

from dramatiq.brokers.redis import RedisBroker
from sqlalchemy import Engine

from app.db.queries import query
from app.domain.dispatch import QUEUE_FROM, send_dispatched, sender_link

logger = logging.getLogger(__name__)


class Relay:
    """Moves the outbox to the broker, one batch per call."""

    def __init__(self, *, engine: Engine, broker: RedisBroker, relay_id: str, batch: int) -> None:
        self.engine = engine
        self.broker = broker
        self.relay_id = relay_id
        self.batch = batch
        #: Shared by the relay threads: an outage is one warning for the process's relay.
        self.link = sender_link(logger)

    def relay_once(self) -> int:
        """Send one batch; returns how many outbox rows it took (a full batch: more may be waiting)."""
        with self.engine.begin() as connection:
            rows = connection.execute(
                query("dispatch_outbox"),
                {"batch": self.batch, "from_statuses": QUEUE_FROM, "actor": self.relay_id},
            ).all()
        sendable = [row for row in rows if row.id is not None]
        if not send_dispatched(self.engine, self.broker, sendable, link=self.link):
            return 0
        return int(rows[0].taken)

    def wait_seconds(self, longest: float) -> float:
        """How long to sleep before the next row is due: 0 if one is due now, at most `longest`."""
        with self.engine.connect() as connection:
            due_in = connection.execute(query("outbox_due_in")).scalar()
        if due_in is None:
            return longest
        return min(max(float(due_in), 0.0), longest)
