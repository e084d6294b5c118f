"""Races at an attempt's end: what the worker did decides how the run ends, not a signal that came too late."""

from __future__ import annotations

from typing import Any

import pytest

from app.core.states import RunStatus
from tests.integration.engine_parts import Engine_
from tests.integration.helpers import count, statuses
from workers import pipeline_job
from workers.context import Interruption


def test_a_worker_stopping_after_its_attempt_succeeded_does_not_retry_the_run(
    parts: Engine_, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The stop came once the steps were done (their last check passed): the attempt was handed back as if
    interrupted, the run went RETRYING and ran again, though it had succeeded (and a pipeline's steps have
    effects: its output was written again by the second run)."""
    parts.pipeline("done-then-stopped", [{"type": "log", "message": "did its work"}])
    [run_id] = parts.submit("done-then-stopped", max_retries=0)
    real = pipeline_job._record_validations

    def stopped_after(*args: Any, **kwargs: Any) -> Any:
        parts.active.interrupt_all(Interruption.SHUTDOWN)  # the worker is asked to stop just now
        return real(*args, **kwargs)

    monkeypatch.setattr(pipeline_job, "_record_validations", stopped_after)
    parts.relay.relay_once()
    assert parts.executor.execute(run_id) is RunStatus.SUCCEEDED
    assert statuses(parts.engine, run_id)[-2:] == ["RUNNING", "SUCCEEDED"]
    assert count(parts.engine, "outbox", "run_id = :id", id=str(run_id)) == 0
