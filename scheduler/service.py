"""The standalone scheduler process: schedule loop, outbox relay, reaper, rollup and webhook sender, one thread each.

Several replicas may run at once; every step claims rows with SKIP LOCKED.
The relay wakes on Postgres NOTIFY (sent by every transaction that writes the
outbox) and otherwise polls, so a new run reaches the broker in milliseconds.
"""

from __future__ import annotations

import gc
import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Callable
from datetime import datetime

import psycopg

from app.db.engine import get_engine
from app.db.outage import database_unavailable
from app.domain.webhook_sender import WebhookSender
from app.settings import Settings
from scheduler.reaper import Reaper
from scheduler.relay import Relay
from scheduler.rollup import RollupFolder
from scheduler.schedule_loop import ScheduleLoop
from workers.broker import build_broker

logger = logging.getLogger(__name__)

#: How often the schedule loop wakes: to claim deployments coming due (bounds fire lateness), else to release held runs.
SCHEDULE_TICK_SECONDS = 0.25
#: Longest the schedule loop goes without claiming while no fire time seemed near: a change that sent no NOTIFY
#: on conveyor_deployments (another replica's reaper replanning unsent runs, SQL by hand) is seen within this.
SCHEDULE_RECHECK_SECONDS = 5.0
#: Pause when due rows are all being sent by another relay.
RELAY_BUSY_PAUSE_SECONDS = 0.01
#: Longest a loop waiting for a NOTIFY goes without looking whether the service is stopping: the webhook sender
#: waits up to webhook_poll_seconds (30 s), and a stop waited for it, 10 s per thread, at every SIGTERM.
STOP_CHECK_SECONDS = 0.25
#: Pause after an error in a loop that is not an outage (a bug: logged in full each time); it doubles while errors
#: repeat...
ERROR_PAUSE_SECONDS = 1.0
#: ...up to this.
MAX_ERROR_PAUSE_SECONDS = 5.0
#: Pauses after 1, 2, 3... database outage errors in a row (the last repeats). A dropped session (pg_terminate_backend,
#: a restart, a proxy) is replaced at once: the first two are none, as a loop's LISTEN connection and then a pooled
#: one may each meet the same drop, and a deployment made or a run queued meanwhile must not wait. Then a server that
#: is down is tried again at most once a second (a refused connection costs nothing), which bounds how long a loop
#: takes to notice that it is back; two in a row with no pause bound the busy retries.
OUTAGE_PAUSES = (0.0, 0.0, 0.1, 0.25, 0.5, 1.0)


class SchedulerService:
    def __init__(self, settings: Settings, *, error_pause: Callable[[float], object] | None = None) -> None:
        self.settings = settings
        self.identity = f"scheduler:{socket.gethostname()}:{os.getpid()}"
        self.engine = get_engine(settings, pool_size=4 + settings.relay_threads, pre_ping=False)
        self.broker = build_broker(settings)
        self.relay = Relay(engine=self.engine, broker=self.broker, relay_id=self.identity, batch=settings.relay_batch)
        self.reaper = Reaper(engine=self.engine, broker=self.broker, settings=settings, reaper_id=self.identity)
        self.schedules = ScheduleLoop(engine=self.engine, settings=settings, scheduler_id=self.identity)
        self.rollup = RollupFolder(engine=self.engine)
        self.webhooks = WebhookSender(engine=self.engine, settings=settings)
        self.stopping = threading.Event()
        #: How a loop waits after an error (tests freeze it): the stop event's wait unless given.
        self.error_pause: Callable[[float], object] = error_pause or (lambda seconds: self.stopping.wait(seconds))
        self._threads: list[threading.Thread] = []

    def run(self) -> None:
        """Run until SIGTERM/SIGINT."""
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: self.stopping.set())
        self.start()
        while not self.stopping.wait(0.5):
            pass
        self.stop()

    def start(self) -> None:
        """Start the relay, reaper and schedule loops, each in a thread of its own.

        Runs that were due while every scheduler was down are first handed back to the
        schedule loop, so the relay does not send them late past their misfire policy.
        """
        try:
            self.reaper.replan_unsent()
        except Exception:
            logger.exception("could not replan unsent scheduled runs; the reaper tries again")
        self._threads = [
            *(
                threading.Thread(target=self._relay_loop, name=f"relay-{i}", daemon=True)
                for i in range(self.settings.relay_threads)
            ),
            threading.Thread(target=self._reaper_loop, name="reaper", daemon=True),
            threading.Thread(target=self._schedule_loop, name="schedule", daemon=True),
            threading.Thread(target=self._rollup_loop, name="rollup", daemon=True),
            threading.Thread(target=self._webhook_loop, name="webhooks", daemon=True),
        ]
        freeze_startup_objects()
        for thread in self._threads:
            thread.start()
        logger.info("scheduler %s started", self.identity)

    def stop(self) -> None:
        logger.info("scheduler %s stopping", self.identity)
        self.stopping.set()
        for thread in self._threads:
            thread.join(timeout=10)
        self.webhooks.close()
        gc.unfreeze()  # at exit the interpreter frees them as usual (native modules check they were)

    def _relay_loop(self) -> None:
        self._listening_loop(
            "relay",
            "conveyor_outbox",
            self.relay.relay_once,
            self.relay.batch,
            self.relay.wait_seconds,
            self.settings.relay_poll_seconds,
        )

    def _webhook_loop(self) -> None:
        """Send due webhook deliveries; NOTIFY conveyor_webhooks comes from the transaction that wrote them."""
        self._listening_loop(
            "webhook sender",
            "conveyor_webhooks",
            self.webhooks.send_once,
            self.webhooks.batch,
            self.webhooks.wait_seconds,
            self.settings.webhook_poll_seconds,
        )

    def _listening_loop(
        self,
        name: str,
        channel: str,
        send: Callable[[], int],
        batch: int,
        wait_seconds: Callable[[float], float],
        poll_seconds: float,
    ) -> None:
        """Send batches while full ones come; then sleep until a NOTIFY on `channel`, the next due row, or a poll.

        `poll_seconds` bounds the sleep: the poll only finds rows whose NOTIFY was missed.
        """
        listener: psycopg.Connection | None = None
        failures = 0
        while not self.stopping.is_set():
            try:
                if listener is None:
                    listener = self._listen(channel)
                while (sent := send()) >= batch and not self.stopping.is_set():
                    pass  # more may be waiting
                wait = wait_seconds(poll_seconds)
                if wait > 0:  # until a NOTIFY, the next row's due time, the poll interval, or a stop
                    self._await_notify(listener, wait)
                elif not sent:  # due rows another replica is sending right now
                    self.stopping.wait(RELAY_BUSY_PAUSE_SECONDS)
                failures = self._recovered(name, failures)
            except Exception as exc:
                if listener is not None:
                    listener.close()
                    listener = None
                failures = self._back_off(name, exc, failures)
        if listener is not None:
            listener.close()

    def _await_notify(self, listener: psycopg.Connection, seconds: float) -> None:
        """Wait up to `seconds` for a NOTIFY on `listener`; a stop ends the wait within STOP_CHECK_SECONDS."""
        deadline = time.monotonic() + seconds
        woken = False
        while not woken and not self.stopping.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                return
            for _ in listener.notifies(timeout=min(left, STOP_CHECK_SECONDS), stop_after=1):
                woken = True

    def _listen(self, channel: str) -> psycopg.Connection:
        url = self.settings.sqlalchemy_url.replace("postgresql+psycopg://", "postgresql://", 1)
        connection = psycopg.connect(url, autocommit=True)
        connection.execute(f"LISTEN {channel}")
        return connection

    def _schedule_loop(self) -> None:
        """Tick with the database's clock (the tick itself takes `now`); between fire times, only release held runs.

        The database's clock, not this host's: the one the outbox and the reaper go by, the same for every replica,
        so a host clock that is off or jumps neither fires early nor judges fire times still to come as missed.

        A tick reports the earliest fire time left. Until it comes within the lookahead, a deployment change
        NOTIFYs conveyor_deployments, or SCHEDULE_RECHECK_SECONDS pass, a wake-up claims nothing: the claim
        query and its transaction were half the loop's CPU with 10,000 deployments (four wake-ups a second).
        """
        listener: psycopg.Connection | None = None
        failures = 0
        claim_at = 0.0  # time.monotonic() of the next claim
        while not self.stopping.is_set():
            try:
                if listener is None:
                    listener = self._listen("conveyor_deployments")
                    claim_at = 0.0  # a change may have come while nobody listened
                woken = False
                for _ in listener.notifies(timeout=SCHEDULE_TICK_SECONDS, stop_after=1):
                    woken = True
                if self.stopping.is_set():
                    break
                if woken or time.monotonic() >= claim_at:
                    now = self.schedules.database_now()
                    next_due = self.schedules.tick(now).next_due
                    lookahead = self.settings.schedule_lookahead_seconds
                    claim_at = time.monotonic() + claim_wait_seconds(next_due, now, lookahead)
                else:
                    self.schedules.release_held()
                failures = self._recovered("schedule loop", failures)
            except Exception as exc:
                if listener is not None:
                    listener.close()
                    listener = None
                failures = self._back_off("schedule loop", exc, failures)
        if listener is not None:
            listener.close()

    def _rollup_loop(self) -> None:
        failures = 0
        while not self.stopping.wait(self.settings.rollup_interval_seconds):
            try:
                self.rollup.fold_all()
                failures = self._recovered("rollup", failures)
            except Exception as exc:
                failures = self._back_off("rollup", exc, failures)

    def _reaper_loop(self) -> None:
        last_housekeeping = 0.0
        failures = 0
        while not self.stopping.wait(self.settings.reaper_interval_seconds):
            try:
                self.reaper.reap_once()
                if time.monotonic() - last_housekeeping > 60:
                    self.reaper.housekeeping()
                    last_housekeeping = time.monotonic()
                failures = self._recovered("reaper", failures)
            except Exception as exc:
                failures = self._back_off("reaper", exc, failures)

    def _back_off(self, loop: str, exc: Exception, failures: int) -> int:
        """Log a loop's error and pause (error_pause_seconds); returns the new count of failures in a row.

        A database outage is one warning when it starts (no traceback every second);
        any other error is logged in full each time.
        """
        failures += 1
        if not database_unavailable(exc):
            logger.exception("%s error", loop)
        elif failures == 1:
            logger.warning("%s: the database is unavailable; trying again with backoff: %s", loop, exc)
        self.error_pause(error_pause_seconds(failures, outage=database_unavailable(exc)))
        return failures

    @staticmethod
    def _recovered(loop: str, failures: int) -> int:
        if failures:
            logger.info("%s: working again after %d failed tries", loop, failures)
        return 0


def error_pause_seconds(failures: int, *, outage: bool) -> float:
    """How long a loop pauses after `failures` errors in a row (1: the first): OUTAGE_PAUSES for a database outage,
    else ERROR_PAUSE_SECONDS doubling up to MAX_ERROR_PAUSE_SECONDS."""
    if outage:
        return OUTAGE_PAUSES[min(failures, len(OUTAGE_PAUSES)) - 1]
    return min(ERROR_PAUSE_SECONDS * 2 ** min(failures - 1, 10), MAX_ERROR_PAUSE_SECONDS)


def claim_wait_seconds(next_due: datetime | None, now: datetime, lookahead: float) -> float:
    """How long after a tick at `now` the schedule loop claims again: when `next_due` (the earliest fire time
    left) comes within the lookahead, and at the latest after SCHEDULE_RECHECK_SECONDS; 0 or less: at once."""
    if next_due is None:
        return SCHEDULE_RECHECK_SECONDS
    return min(SCHEDULE_RECHECK_SECONDS, (next_due - now).total_seconds() - lookahead)


def freeze_startup_objects() -> None:
    """Move the objects alive after start-up (modules, classes, settings: ~120,000) out of the collector's reach.

    They live as long as the process, yet every full collection walked them all again (~75 ms each, a few a
    minute, charged to whichever loop allocated last); after the freeze a full collection walks only what the
    loops made since. Garbage is collected first, so nothing collectable is frozen.
    """
    gc.collect()
    gc.freeze()
