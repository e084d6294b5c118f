"""A worker runs a DuckDB pipeline in a child it watches: SQL that takes memory DuckDB does not count fails the run,
and a timeout ends work DuckDB does not interrupt; the worker's own memory stays as it was."""

from __future__ import annotations

import os
import time

import msgspec
import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from app.core.states import RunStatus
from app.domain.pipelines import create_pipeline
from app.pipeline.watched import resident_bytes
from app.settings import Settings
from tests.integration.engine_parts import Engine_
from tests.integration.helpers import log_lines, statuses

#: Evaluated while binding: DuckDB neither interrupts it nor counts its 3 GB against the connection's limit.
UNBOUNDED = "SELECT length(repeat(repeat('x', 1000000000), 3)) AS n"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return msgspec.structs.replace(settings, job_memory_limit_mb=64)


def _error(parts: Engine_, run_id: object) -> tuple[str, str]:
    with parts.engine.connect() as connection:
        row = connection.execute(
            text("SELECT error_code, error_message FROM runs WHERE id = :id"), {"id": str(run_id)}
        ).one()
    return row[0], row[1]


@pytest.mark.timeout(120)
def test_sql_that_takes_memory_duckdb_does_not_count_fails_the_run_not_the_worker(parts: Engine_) -> None:
    # Given a step whose string DuckDB neither interrupts nor counts against the run's 64 MB, with retries left
    parts.pipeline("greedy", [{"type": "sql", "sql": UNBOUNDED}])
    [run_id] = parts.submit("greedy", max_retries=2)
    parts.relay.relay_once()
    before = resident_bytes(os.getpid()) or 0
    # When a worker runs it
    assert parts.executor.execute(run_id) is RunStatus.FAILED
    # Then it fails for good with a code that names the limit, and this worker process did not grow
    code, message = _error(parts, run_id)
    assert code == "memory_limit_exceeded"
    assert "CONVEYOR_JOB_MEMORY_LIMIT_MB" in message
    assert statuses(parts.engine, run_id)[-2:] == ["RUNNING", "FAILED"]
    assert (resident_bytes(os.getpid()) or 0) - before < 100 * 1024 * 1024


@pytest.mark.timeout(120)
def test_a_timeout_ends_duckdb_work_that_sees_no_interrupt(parts: Engine_, settings: Settings) -> None:
    parts.executor.settings = msgspec.structs.replace(settings, job_memory_limit_mb=4096)  # no kill for memory
    parts.pipeline("stuck", [{"type": "sql", "sql": UNBOUNDED}])
    [run_id] = parts.submit("stuck", timeout_seconds=1)
    parts.relay.relay_once()
    started = time.monotonic()
    assert parts.executor.execute(run_id) is RunStatus.TIMED_OUT
    assert time.monotonic() - started < 15
    assert _error(parts, run_id)[0] == "timeout"


@pytest.mark.timeout(120)
def test_a_data_pipeline_in_its_child_logs_its_steps_and_publishes_its_output(parts: Engine_) -> None:
    steps = [{"id": "nums", "type": "sql", "sql": "SELECT range AS n FROM range(7)"}, {"type": "log", "message": "hi"}]
    with Session(parts.engine) as session, session.begin():
        create_pipeline(
            session,
            namespace="default",
            name="nums",
            description="",
            spec={"steps": steps, "output": {"dataset": "nums-out"}},
        )
    [run_id] = parts.submit("nums")
    parts.relay.relay_once()
    assert parts.executor.execute(run_id) is RunStatus.SUCCEEDED
    lines = [line.message for line in log_lines(parts.engine, run_id)]
    assert "hi" in lines
    assert any(line.startswith("step 1/2 nums (sql") for line in lines)
    assert any(line.startswith("output nums-out version 1: 7 rows") for line in lines), lines
    with parts.engine.connect() as connection:
        progress = connection.execute(text("SELECT progress FROM runs WHERE id = :id"), {"id": run_id}).scalar_one()
    assert progress["rows_out"] == 7
