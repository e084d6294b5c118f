"""An attempt that loses the database under it (a restart, a terminated session) is retried at once, whatever the
run's retries: the outage is no fault of the run, so a run with no retries (the default) is not FAILED by it."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from sqlalchemy import exc as sa_exc
from sqlalchemy import text

from app.core.states import RunStatus
from tests.integration.engine_parts import Engine_
from workers import pipeline_job


def _terminated() -> sa_exc.OperationalError:
    """What a statement meets when pg_terminate_backend ends its session (SQLSTATE 57P01)."""
    return sa_exc.OperationalError(
        "SELECT 1", {}, psycopg.errors.AdminShutdown("terminating connection due to administrator command")
    )


def test_a_run_without_retries_whose_attempt_lost_the_database_runs_again_and_succeeds(
    parts: Engine_, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Outside testers' faults under load: a pipeline run's attempt met a terminated session as it resolved its inputs
    and ended `internal_error`; with max_retries 0 the run was FAILED by the outage."""
    parts.pipeline("outage", [{"type": "log", "message": "ok"}])
    [run_id] = parts.submit("outage", max_retries=0)
    real = pipeline_job._run
    calls: list[int] = []

    def first_loses_the_database(*args: Any, **kwargs: Any) -> None:
        calls.append(1)
        if len(calls) == 1:
            raise _terminated()
        real(*args, **kwargs)

    monkeypatch.setattr(pipeline_job, "_run", first_loses_the_database)
    parts.relay.relay_once()

    assert parts.executor.execute(run_id) is RunStatus.RETRYING
    parts.relay.relay_once()
    assert parts.executor.execute(run_id) is RunStatus.SUCCEEDED

    with parts.engine.connect() as connection:
        events = connection.execute(
            text("SELECT to_status, reason, details->>'error_code' FROM run_events WHERE run_id = :id ORDER BY id"),
            {"id": run_id},
        ).all()
    assert ("RETRYING", "failed", "database_unavailable") in [tuple(e) for e in events], events
    assert len(calls) == 2


def test_an_attempt_that_crashes_otherwise_still_spends_the_runs_retries(
    parts: Engine_, monkeypatch: pytest.MonkeyPatch
) -> None:
    parts.pipeline("crash", [{"type": "log", "message": "ok"}])
    [run_id] = parts.submit("crash", max_retries=0)

    def crashes(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(pipeline_job, "_run", crashes)
    parts.relay.relay_once()

    assert parts.executor.execute(run_id) is RunStatus.FAILED
