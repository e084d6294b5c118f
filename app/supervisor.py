"""`conveyor up`: the whole system in one terminal, restarting any process that dies.

A process that never gets going (a busy port, a bad setting: it exits within
seconds of every start) is not restarted forever: after a few such failures in
a row the supervisor stops everything and exits with an error naming it. A
process that once ran well (then lost, say, its Redis) is restarted as long
as it takes.
Children run in their own sessions, so Ctrl-C reaches only the supervisor,
which stops them in order (api and scheduler, then workers), then the
embedded servers. On Linux each child also dies with the supervisor.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from app.process import die_with_parent

logger = logging.getLogger("conveyor.up")

#: Longest wait between restarts of a process that keeps dying.
MAX_RESTART_DELAY = 30.0
#: A process that ran this long is considered healthy again: its restart delay resets.
HEALTHY_AFTER = 60.0
STOP_TIMEOUT = 20.0
#: A process that exits within this many seconds of its start failed "fast" (it never really ran).
FAST_FAILURE_SECONDS = 10.0
#: Fast failures in a row after which the supervisor gives up instead of restarting again.
MAX_FAST_FAILURES = 3


@dataclass
class Child:
    name: str
    argv: list[str]
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    restarts: int = 0
    delay: float = 1.0
    restart_at: float | None = None
    env: dict[str, str] = field(default_factory=dict)
    #: Exits in a row that came within FAST_FAILURE_SECONDS of a start.
    fast_failures: int = 0
    #: Whether it ever ran past the fast-failure time: then it is restarted however often it fails.
    got_going: bool = False

    def start(self) -> None:
        self.process = subprocess.Popen(
            self.argv,
            env=self.env,
            start_new_session=True,
            preexec_fn=die_with_parent,
        )
        self.started_at = time.monotonic()
        logger.info("started %s (pid %d)", self.name, self.process.pid)


class Supervisor:
    def __init__(
        self,
        children: list[Child],
        *,
        ready: Callable[[], bool] | None = None,
        on_ready: Callable[[], None] | None = None,
        max_fast_failures: int = MAX_FAST_FAILURES,
        fast_failure_seconds: float = FAST_FAILURE_SECONDS,
    ) -> None:
        """`ready` is polled until it says yes, then `on_ready` runs once (the "ready" line)."""
        self.children = children
        self.stopping = threading.Event()
        self.ready = ready
        self.on_ready = on_ready
        self.max_fast_failures = max_fast_failures
        self.fast_failure_seconds = fast_failure_seconds
        #: Why the supervisor gave up, if it did.
        self.gave_up: str | None = None

    def run(self) -> int:
        """Supervise until Ctrl-C/SIGTERM (exit 0) or until a process keeps failing at start (exit 1)."""
        previous = {sig: signal.signal(sig, lambda *_: self.stopping.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            for child in self.children:
                child.start()
            while not self.stopping.wait(0.25):
                self._watch()
                self._check_ready()
            self.stop()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        if self.gave_up:
            logger.error("%s", self.gave_up)
            return 1
        return 0

    def _check_ready(self) -> None:
        if self.ready is None or self.gave_up:
            return
        if self.ready():
            self.ready = None
            if self.on_ready is not None:
                self.on_ready()

    def _watch(self) -> None:
        now = time.monotonic()
        for child in self.children:
            if child.process is None:
                if child.restart_at is not None and now >= child.restart_at:
                    child.restart_at = None
                    child.restarts += 1
                    child.start()
                    logger.warning(
                        "restarted %s (restart #%d, pid %d)",
                        child.name,
                        child.restarts,
                        child.process.pid if child.process else -1,
                    )
                continue
            code = child.process.poll()
            ran = now - child.started_at
            if ran >= self.fast_failure_seconds:
                child.got_going = True
            if code is None:
                if ran > HEALTHY_AFTER:
                    child.delay = 1.0
                continue
            _kill_group(child.process.pid)  # whatever it started (Dramatiq's worker processes) goes with it
            child.fast_failures = child.fast_failures + 1 if ran < self.fast_failure_seconds else 0
            if not child.got_going and child.fast_failures >= self.max_fast_failures:
                self.gave_up = (
                    f"{child.name} exited {child.fast_failures} times in a row within {self.fast_failure_seconds:g} s "
                    f"of starting (last exit code {code}); giving up and stopping everything. "
                    f"Its output above says why (a port in use? a bad setting?)"
                )
                self.stopping.set()
                return
            logger.error(
                "%s (pid %d) exited with code %s; restarting in %.0f s",
                child.name,
                child.process.pid,
                code,
                child.delay,
            )
            child.process = None
            child.restart_at = now + child.delay
            child.delay = min(MAX_RESTART_DELAY, child.delay * 2)

    def stop(self) -> None:
        logger.info("stopping %d processes", len(self.children))
        order = sorted(self.children, key=lambda c: c.name.startswith("worker"))
        for batch in (
            [c for c in order if not c.name.startswith("worker")],
            [c for c in order if c.name.startswith("worker")],
        ):
            for child in batch:
                if child.process is not None and child.process.poll() is None:
                    child.process.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + STOP_TIMEOUT
            for child in batch:
                if child.process is None:
                    continue
                try:
                    child.process.wait(max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    logger.warning("%s did not stop in %.0f s; killing it", child.name, STOP_TIMEOUT)
                    _kill_group(child.process.pid)
                    child.process.wait()
                _kill_group(child.process.pid)


def _kill_group(pgid: int) -> None:
    """SIGKILL what is left of a child's process group (each child leads its own)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)
