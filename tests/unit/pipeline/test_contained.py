"""A DuckDB pipeline run in its watched child: stopped past its memory budget or on demand, its errors and result
back in the caller as if it had run there."""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from app.ingest.config import DuckDBSettings
from app.pipeline import DataValidationFailed, InputFile, PipelineCancelled, PipelineStepFailed, RunInfo
from app.pipeline.contained import STOP_GRACE_SECONDS, run_contained
from app.pipeline.errors import MemoryLimitExceeded, PipelineProcessDied, SandboxViolation
from app.pipeline.spec import parse_spec
from app.pipeline.watched import resident_bytes
from tests.unit.pipeline.conftest import ORDERS

#: Evaluated while binding: DuckDB neither interrupts it nor counts its 3 GB against the connection's limit.
UNBOUNDED = "SELECT length(repeat(repeat('x', 1000000000), 3)) AS n"


class Calls:
    """What the child's callbacks did here, and the pids of the run's children seen while it ran."""

    def __init__(self, stop_when: Callable[[Calls], bool] = lambda calls: False) -> None:
        self.lines: list[tuple[str, str]] = []
        self.steps: list[tuple[int, int]] = []
        self.children: set[int] = set()
        self.stop_when = stop_when
        self.stopped_at: float | None = None

    def should_stop(self) -> bool:
        self.children |= {p.pid for p in multiprocessing.active_children() if p.name == "conveyor-pipeline-run"}
        if self.stopped_at is None and self.stop_when(self):
            self.stopped_at = time.monotonic()
        return self.stopped_at is not None


def contained(
    tmp_path: Path,
    steps: list[dict[str, Any]],
    calls: Calls,
    *,
    limit_mb: int = 64,
    files: dict[str, InputFile] | None = None,
    **spec: Any,
) -> Any:
    return run_contained(
        parse_spec({"steps": steps, **spec}),
        inputs=files or {},
        params={},
        run=RunInfo(id="run-1"),
        out_dir=str(tmp_path / "out"),
        duckdb_settings=DuckDBSettings(memory_limit=f"{limit_mb}MB", threads=1),
        memory_limit_mb=limit_mb,
        log=lambda message, level: calls.lines.append((level, message)),
        should_stop=calls.should_stop,
        on_step=lambda index, total: calls.steps.append((index, total)),
    )


def gone(pids: set[int]) -> bool:
    return bool(pids) and not any(os.path.exists(f"/proc/{pid}") for pid in pids)


@pytest.mark.timeout(120)
def test_a_run_succeeds_with_its_log_its_progress_and_its_output_written_by_its_child(tmp_path: Path) -> None:
    calls = Calls()
    steps = [{"id": "nums", "type": "sql", "sql": "SELECT range AS n FROM range(5)"}, {"type": "log", "message": "hi"}]
    result = contained(tmp_path, steps, calls, output={"dataset": "nums"})
    assert result.rows_out == 5
    assert result.data_path == str(tmp_path / "out" / "data.parquet")
    assert Path(result.data_path).is_file()
    assert calls.steps == [(1, 2), (2, 2)]
    assert ("info", "hi") in calls.lines
    assert any(message.startswith("output: 5 rows") for _, message in calls.lines)
    assert gone(calls.children)


@pytest.mark.timeout(120)
def test_memory_duckdb_does_not_count_stops_the_child_not_the_caller(tmp_path: Path) -> None:
    # Given a step whose 3 GB string DuckDB neither interrupts nor counts against the 64 MB limit
    calls = Calls()
    before = resident_bytes(os.getpid()) or 0
    # When it runs
    with pytest.raises(MemoryLimitExceeded) as raised:
        contained(tmp_path, [{"type": "sql", "sql": UNBOUNDED}], calls)
    # Then its child is killed past 4 x 64 MB: the run fails, not retryable, naming the setting; this process held none
    assert raised.value.code == "memory_limit_exceeded"
    assert not raised.value.retryable
    assert "CONVEYOR_JOB_MEMORY_LIMIT_MB" in raised.value.detail
    assert (resident_bytes(os.getpid()) or 0) - before < 100 * 1024 * 1024
    assert gone(calls.children)


@pytest.mark.timeout(180)
def test_a_summary_that_grows_without_end_is_stopped_at_its_budget(
    tmp_path: Path, inputs: dict[str, InputFile]
) -> None:
    calls = Calls()
    steps = [{"type": "sql", "sql": "SELECT * FROM summary(orders)"}]
    with pytest.raises(MemoryLimitExceeded):  # budget 4 x 8 MB: reached in seconds
        contained(tmp_path, steps, calls, limit_mb=8, files={"orders": inputs["orders"]}, inputs=ORDERS)
    assert gone(calls.children)


@pytest.mark.timeout(120)
def test_a_cancel_during_uninterruptible_duckdb_work_kills_the_child_after_its_grace(tmp_path: Path) -> None:
    # Given the same step with room enough to run for long (its work sees no interrupt)
    calls = Calls(stop_when=lambda calls: bool(calls.steps))
    # When the caller says stop while it runs
    with pytest.raises(PipelineCancelled):
        contained(tmp_path, [{"type": "sql", "sql": UNBOUNDED}], calls, limit_mb=4096)
    # Then the run ends as cancelled soon after its grace, its child gone
    assert calls.stopped_at is not None
    assert time.monotonic() - calls.stopped_at < STOP_GRACE_SECONDS + 3
    assert gone(calls.children)


@pytest.mark.timeout(120)
def test_a_sleep_step_ends_at_once_on_stop(tmp_path: Path) -> None:
    calls = Calls(stop_when=lambda calls: len(calls.steps) == 2)
    steps = [{"type": "sql", "sql": "SELECT 1 AS one"}, {"type": "sleep", "seconds": 60}]
    with pytest.raises(PipelineCancelled):
        contained(tmp_path, steps, calls)
    assert calls.stopped_at is not None
    assert time.monotonic() - calls.stopped_at < 1.0  # told over the pipe, not killed after STOP_GRACE_SECONDS
    assert gone(calls.children)


@pytest.mark.timeout(120)
def test_a_child_that_dies_is_a_failure_another_attempt_may_not_repeat(tmp_path: Path) -> None:
    def kill_it(calls: Calls) -> bool:
        for pid in calls.children:
            os.kill(pid, signal.SIGKILL)  # as the kernel's OOM killer would
        return False

    with pytest.raises(PipelineProcessDied) as raised:
        contained(tmp_path, [{"type": "sql", "sql": "SELECT 1"}, {"type": "sleep", "seconds": 60}], Calls(kill_it))
    assert raised.value.retryable
    assert "SIGKILL" in raised.value.detail


@pytest.mark.timeout(120)
def test_the_childs_errors_are_raised_here_with_their_code_and_details(
    tmp_path: Path, inputs: dict[str, InputFile]
) -> None:
    with pytest.raises(PipelineStepFailed) as failed:
        contained(tmp_path, [{"type": "sql", "sql": "SELECT 1 AS a"}, {"type": "fail", "message": "boom"}], Calls())
    assert (failed.value.detail, failed.value.errors[0]["code"]) == ("boom", "fail_step")
    with pytest.raises(SandboxViolation) as violation:
        contained(tmp_path, [{"type": "sql", "sql": "SELECT * FROM read_csv('/etc/passwd')"}], Calls())
    assert violation.value.code == "sandbox_violation"
    rules = [{"rule": "row_count", "min": 100, "severity": "fail"}]
    steps = [{"type": "validate", "input": "orders", "rules": rules}]
    with pytest.raises(DataValidationFailed) as invalid:
        contained(tmp_path, steps, Calls(), files={"orders": inputs["orders"]}, inputs=ORDERS)
    assert invalid.value.errors[0]["code"] == "rule_failed"
    assert len(invalid.value.validations) == 1


class _ThreadInterrupted(BaseException):
    """What an exception raised into the worker's thread (its shutdown) looks like here."""


@pytest.mark.timeout(120)
def test_an_exception_raised_into_the_callers_thread_leaves_no_child_behind(tmp_path: Path) -> None:
    def interrupt(calls: Calls) -> bool:
        if calls.steps:
            raise _ThreadInterrupted
        return False

    calls = Calls(interrupt)
    with pytest.raises(_ThreadInterrupted):
        contained(tmp_path, [{"type": "sql", "sql": "SELECT 1 AS one"}, {"type": "sleep", "seconds": 60}], calls)
    assert gone(calls.children)
    assert not [p for p in multiprocessing.active_children() if p.name == "conveyor-pipeline-run"]
