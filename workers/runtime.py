"""Per-process worker state: the attempts running here and the one thread that heartbeats them.

One heartbeat statement per interval covers every attempt in the process; its
answer tells which attempts this worker still owns and which were cancelled.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable

import msgspec
from dramatiq import Middleware
from sqlalchemy import Engine

from app.db.outage import database_unavailable
from app.db.queries import query
from app.process import die_with_parent
from workers.context import Interruption, RunContext

logger = logging.getLogger(__name__)

#: This process's identity in run rows and events.
WORKER_ID = f"worker:{socket.gethostname()}:{os.getpid()}"


class ActiveRuns:
    """The attempts this process is running, keyed by run id."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._runs: dict[uuid.UUID, RunContext] = {}
        #: Set when the worker shuts down: waits for the database end early.
        self.stopping = threading.Event()

    def add(self, ctx: RunContext) -> None:
        with self._lock:
            self._runs[ctx.run_id] = ctx

    def remove(self, ctx: RunContext) -> None:
        with self._lock:
            if self._runs.get(ctx.run_id) is ctx:
                del self._runs[ctx.run_id]

    def snapshot(self) -> list[RunContext]:
        with self._lock:
            return list(self._runs.values())

    def interrupt_all(self, why: Interruption) -> None:
        if why is Interruption.SHUTDOWN:
            self.stopping.set()
        for ctx in self.snapshot():
            ctx.interrupt(why)


def heartbeat_once(engine: Engine, active: ActiveRuns) -> None:
    """Renew every attempt's lease; interrupt those cancelled, timed out, or no longer ours."""
    contexts = active.snapshot()
    if not contexts:
        return
    params = {
        "run_ids": [str(c.run_id) for c in contexts],
        "attempts": [c.attempt for c in contexts],
        "progress": [msgspec.json.encode(c.progress).decode() for c in contexts],
        "log_lines": [c.log_lines for c in contexts],
    }
    with engine.begin() as connection:
        owned = {row.id: row.cancel_requested for row in connection.execute(query("heartbeat_runs"), params)}
    for ctx in contexts:
        if ctx.run_id not in owned:
            ctx.interrupt(Interruption.LOST)
        elif owned[ctx.run_id]:
            ctx.interrupt(Interruption.CANCEL)
        else:
            ctx.note_deadline()


class Heartbeat(threading.Thread):
    """Calls heartbeat_once every `interval` seconds until stopped."""

    def __init__(self, engine: Engine, active: ActiveRuns, interval: float) -> None:
        super().__init__(name="conveyor-heartbeat", daemon=True)
        self.engine, self.active, self.interval = engine, active, interval
        self.stopped = threading.Event()

    def run(self) -> None:
        outage = False  # a database outage is logged when it starts and when it ends, not at every beat
        while not self.stopped.wait(self.interval):
            try:
                heartbeat_once(self.engine, self.active)
                if outage:
                    logger.info("heartbeat: working again")
                outage = False
            except Exception as exc:
                if not database_unavailable(exc):
                    logger.exception("heartbeat failed; will try again")
                elif not outage:
                    outage = True
                    logger.warning("heartbeat failed, the database is unavailable; trying at every beat: %s", exc)


class WorkerLifecycle(Middleware):
    """Starts the heartbeat with the worker; on shutdown, hands running attempts back to the queue."""

    def __init__(  # type: ignore[no-untyped-def]
        self, engine_factory, active: ActiveRuns, interval: float, *, on_stopped: Callable[[], None] = lambda: None
    ) -> None:
        self.engine_factory = engine_factory
        self.active = active
        self.interval = interval
        #: Called once the worker threads have stopped (writes the finishes they handed over).
        self.on_stopped = on_stopped
        self.heartbeat: Heartbeat | None = None

    def after_process_boot(self, broker) -> None:  # type: ignore[no-untyped-def]
        # a worker process must not outlive the `conveyor worker` process that started it
        die_with_parent()

    def after_worker_boot(self, broker, worker) -> None:  # type: ignore[no-untyped-def]
        self.heartbeat = Heartbeat(self.engine_factory(), self.active, self.interval)
        self.heartbeat.start()

    def before_worker_shutdown(self, broker, worker) -> None:  # type: ignore[no-untyped-def]
        logger.info("worker stopping: handing %d running attempt(s) back", len(self.active.snapshot()))
        self.active.interrupt_all(Interruption.SHUTDOWN)

    def after_worker_shutdown(self, broker, worker) -> None:  # type: ignore[no-untyped-def]
        self.on_stopped()
        if self.heartbeat is not None:
            self.heartbeat.stopped.set()
