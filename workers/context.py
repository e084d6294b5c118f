"""What a running attempt can see and do: log, report progress, wait, be interrupted."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Sequence
from enum import StrEnum
from typing import Any

from app.domain.runlog_buffer import Chunk, RunLogWriter


class Interruption(StrEnum):
    """Why an attempt must stop before its steps are done."""

    CANCEL = "cancel"
    TIMEOUT = "timeout"
    LOST = "lost"  # the reaper gave the run away: someone else owns it now
    SHUTDOWN = "shutdown"  # this worker is stopping; the run goes back to the queue


class Interrupted(Exception):
    def __init__(self, why: Interruption) -> None:
        super().__init__(why.value)
        self.why = why


class RunContext:
    """One attempt of one run, as the steps and the heartbeat thread see it."""

    def __init__(self, *, run_id: uuid.UUID, attempt: int, timeout_seconds: float, log: RunLogWriter) -> None:
        self.run_id = run_id
        self.attempt = attempt
        self.deadline = time.monotonic() + timeout_seconds
        self.progress: dict[str, Any] = {}
        self.step: int | None = None
        self._log = log
        #: Made by the attempt's first wait (most attempts never wait, and an Event costs more than the rest).
        self._stop: threading.Event | None = None
        self._why: Interruption | None = None

    @property
    def log_lines(self) -> int:
        return self._log.lines

    def log(self, message: str, *, level: str = "info") -> None:
        self._log.write(message, level=level, step=self.step)

    def next_line(self, message: str, *, level: str = "info") -> Chunk:
        """The attempt's next line, not buffered: stored by the statement that records what it tells (`kept` then)."""
        return self._log.next_line(message, level=level)

    def next_lines(self, lines: Sequence[tuple[str, str]]) -> Chunk:
        """`next_line` for several lines (message, level), in order."""
        return self._log.next_lines(lines)

    def kept(self, chunk: Chunk) -> None:
        self._log.kept(chunk)

    def interrupt(self, why: Interruption) -> None:
        """Ask the attempt to stop (called from the heartbeat thread); the first reason wins."""
        if self._why is None:
            self._why = why
        stop = self._stop  # read after the reason is set: a wait that made it since sees the reason or is woken
        if stop is not None:
            stop.set()

    @property
    def interruption(self) -> Interruption | None:
        return self._why

    def note_deadline(self) -> None:
        """Interrupt the attempt if its timeout has passed (the heartbeat calls this)."""
        if self._why is None and time.monotonic() >= self.deadline:
            self.interrupt(Interruption.TIMEOUT)

    def check(self) -> None:
        """Raise Interrupted if the attempt must stop; steps call this between units of work."""
        self.note_deadline()
        if self._why is not None:
            raise Interrupted(self._why)

    def wait(self, seconds: float) -> None:
        """Sleep, but wake at once on cancel, timeout, loss or shutdown."""
        stop = self._stop
        if stop is None:  # only the attempt's own thread waits, so only it makes the event
            stop = self._stop = threading.Event()
        end = time.monotonic() + seconds
        while True:
            self.check()
            remaining = min(end, self.deadline) - time.monotonic()
            if remaining <= 0:
                self.check()
                return
            stop.wait(remaining)
