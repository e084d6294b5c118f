"""A retry attempt whose pooled database connection the server dropped still runs (it is not lost)."""

from __future__ import annotations

import psycopg
from sqlalchemy import Engine

from app.core.states import RunStatus
from app.db.engine import get_engine
from app.settings import Settings
from tests.integration.engine_parts import Engine_
from tests.integration.helpers import log_lines, statuses
from workers.executor import Executor
from workers.runtime import ActiveRuns


def _terminate(settings: Settings, pids: list[int]) -> None:
    """pg_terminate_backend on these sessions (as an operator or a proxy would); only the test's own: the other
    pools of this test process (the API's, earlier tests') keep theirs, so no later test meets a dropped one."""
    with psycopg.connect(settings.database_url, autocommit=True) as connection:
        for pid in pids:
            connection.execute("SELECT pg_terminate_backend(%s)", (pid,))


def test_a_retry_attempt_on_a_dropped_pooled_connection_runs_and_numbers_on_its_lines(parts: Engine_) -> None:
    # Given a run whose first attempt failed, queued again for its retry
    parts.pipeline("flaky", [{"type": "fail", "message": "once"}])
    [run_id] = parts.submit("flaky", max_retries=1)
    parts.relay.relay_once()
    assert parts.executor.execute(run_id) is RunStatus.RETRYING
    assert parts.relay.relay_once() == 1
    # and a worker's engine as workers build it (no pre-ping), with an idle connection in its pool
    engine: Engine = get_engine(parts.settings, pool_size=3, pre_ping=False)
    with engine.connect() as connection:
        pooled = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
    executor = Executor(engine=engine, redis_client=None, settings=parts.settings, active=ActiveRuns())

    # When the server drops that pooled session
    _terminate(parts.settings, [pooled])

    # Then the second attempt still runs to its outcome, its lines numbered on from the first attempt's
    assert executor.execute(run_id) is RunStatus.FAILED
    assert statuses(parts.engine, run_id) == ["PENDING", "QUEUED", "RUNNING", "RETRYING", "QUEUED", "RUNNING", "FAILED"]
    lines = log_lines(parts.engine, run_id)
    assert [line.n for line in lines] == list(range(1, len(lines) + 1))
    assert {line.attempt for line in lines} == {1, 2}
    executor.close()
