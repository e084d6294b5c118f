"""An attempt's wait wakes on an interrupt, whether the interrupt comes before its first wait or during one."""

from __future__ import annotations

import threading
import uuid
from typing import Any

import pytest

from workers.context import Interrupted, Interruption, RunContext


class _NoLog:
    lines = 0

    def write(self, message: str, **_: Any) -> None:
        self.lines += 1


def _context() -> RunContext:
    return RunContext(run_id=uuid.uuid4(), attempt=1, timeout_seconds=600, log=_NoLog())  # type: ignore[arg-type]


def test_an_attempt_interrupted_before_it_ever_waited_stops_at_its_first_wait() -> None:
    ctx = _context()
    ctx.interrupt(Interruption.CANCEL)
    with pytest.raises(Interrupted) as raised:
        ctx.wait(600)
    assert raised.value.why is Interruption.CANCEL


def test_an_interrupt_wakes_an_attempt_that_waits_and_the_first_reason_wins() -> None:
    ctx = _context()
    waiting = threading.Event()
    outcome: list[Interruption] = []

    def attempt() -> None:
        waiting.set()
        try:
            ctx.wait(600)
        except Interrupted as exc:
            outcome.append(exc.why)

    thread = threading.Thread(target=attempt)
    thread.start()
    waiting.wait(5)
    ctx.interrupt(Interruption.SHUTDOWN)
    ctx.interrupt(Interruption.CANCEL)
    thread.join(10)
    assert not thread.is_alive()
    assert outcome == [Interruption.SHUTDOWN]
