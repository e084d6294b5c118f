"""`conveyor up`: the whole system in one terminal, restarting any process that dies.

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
from dataclasses import dataclass, field

from app.process import die_with_parent

logger = logging.getLogger("conveyor.up")

#: Longest wait between restarts of a process that keeps dying.
MAX_RESTART_DELAY = 30.0
#: A process that ran this long is considered healthy again: its restart delay resets.
HEALTHY_AFTER = 60.0
STOP_TIMEOUT = 20.0


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
    def __init__(self, children: list[Child]) -> None:
        self.children = children
        self.stopping = threading.Event()

    def run(self) -> int:
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: self.stopping.set())
        for child in self.children:
            child.start()
        while not self.stopping.wait(0.25):
            self._watch()
        self.stop()
        return 0

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
            if code is None:
                if now - child.started_at > HEALTHY_AFTER:
                    child.delay = 1.0
                continue
            logger.error(
                "%s (pid %d) exited with code %s; restarting in %.0f s",
                child.name,
                child.process.pid,
                code,
                child.delay,
            )
            _kill_group(child.process.pid)  # whatever it started (Dramatiq's worker processes) goes with it
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
