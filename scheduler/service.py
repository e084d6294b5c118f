"""The standalone scheduler process: schedule loop, outbox relay, reaper and metrics rollup, each in a thread.

Several replicas may run at once; every step claims rows with SKIP LOCKED.
The relay wakes on Postgres NOTIFY (sent by every transaction that writes the
outbox) and otherwise polls, so a new run reaches the broker in milliseconds.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
from datetime import UTC, datetime

import psycopg

from app.db.engine import get_engine
from app.settings import Settings
from scheduler.reaper import Reaper
from scheduler.relay import Relay
from scheduler.rollup import RollupFolder
from scheduler.schedule_loop import ScheduleLoop
from workers.broker import build_broker

logger = logging.getLogger(__name__)

#: How often the schedule loop looks for due deployments (bounds fire lateness).
SCHEDULE_TICK_SECONDS = 0.25
#: Pause when due rows are all being sent by another relay.
RELAY_BUSY_PAUSE_SECONDS = 0.01
#: Pause after an unexpected error in a loop, so a broken database is not hammered.
ERROR_PAUSE_SECONDS = 1.0


class SchedulerService:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.identity = f"scheduler:{socket.gethostname()}:{os.getpid()}"
        self.engine = get_engine(settings, pool_size=3 + settings.relay_threads, pre_ping=False)
        self.broker = build_broker(settings)
        self.relay = Relay(engine=self.engine, broker=self.broker, relay_id=self.identity, batch=settings.relay_batch)
        self.reaper = Reaper(engine=self.engine, broker=self.broker, settings=settings, reaper_id=self.identity)
        self.schedules = ScheduleLoop(engine=self.engine, settings=settings, scheduler_id=self.identity)
        self.rollup = RollupFolder(engine=self.engine)
        self.stopping = threading.Event()
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
        ]
        for thread in self._threads:
            thread.start()
        logger.info("scheduler %s started", self.identity)

    def stop(self) -> None:
        logger.info("scheduler %s stopping", self.identity)
        self.stopping.set()
        for thread in self._threads:
            thread.join(timeout=10)

    def _relay_loop(self) -> None:
        listener: psycopg.Connection | None = None
        while not self.stopping.is_set():
            try:
                if listener is None:
                    listener = self._listen()
                while (sent := self.relay.relay_once()) >= self.relay.batch:
                    pass  # more may be waiting
                wait = self.relay.wait_seconds(self.settings.relay_poll_seconds)
                if wait > 0:  # until a NOTIFY, the next row's due time, or the poll interval
                    for _ in listener.notifies(timeout=wait, stop_after=1):
                        pass
                elif not sent:  # due rows another relay is sending right now
                    self.stopping.wait(RELAY_BUSY_PAUSE_SECONDS)
            except Exception:
                logger.exception("relay loop error")
                if listener is not None:
                    listener.close()
                    listener = None
                self.stopping.wait(ERROR_PAUSE_SECONDS)
        if listener is not None:
            listener.close()

    def _listen(self) -> psycopg.Connection:
        url = self.settings.sqlalchemy_url.replace("postgresql+psycopg://", "postgresql://", 1)
        connection = psycopg.connect(url, autocommit=True)
        connection.execute("LISTEN conveyor_outbox")
        return connection

    def _schedule_loop(self) -> None:
        """Tick with the wall clock; the tick itself takes `now` as an argument."""
        while not self.stopping.wait(SCHEDULE_TICK_SECONDS):
            try:
                self.schedules.tick(datetime.now(UTC))
            except Exception:
                logger.exception("schedule loop error")
                self.stopping.wait(ERROR_PAUSE_SECONDS)

    def _rollup_loop(self) -> None:
        while not self.stopping.wait(self.settings.rollup_interval_seconds):
            try:
                self.rollup.fold_all()
            except Exception:
                logger.exception("rollup loop error")
                self.stopping.wait(ERROR_PAUSE_SECONDS)

    def _reaper_loop(self) -> None:
        last_housekeeping = 0.0
        while not self.stopping.wait(self.settings.reaper_interval_seconds):
            try:
                self.reaper.reap_once()
                if time.monotonic() - last_housekeeping > 60:
                    self.reaper.housekeeping()
                    last_housekeeping = time.monotonic()
            except Exception:
                logger.exception("reaper loop error")
                self.stopping.wait(ERROR_PAUSE_SECONDS)
