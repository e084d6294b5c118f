"""The one retry-or-finish decision (app.domain.attempts), used by the executor and the reaper alike."""

from __future__ import annotations

import pathlib
import random

import msgspec
import pytest

from app.core.states import RunStatus
from app.domain.attempts import NO_LOG_LINES, after_attempt

ROOT = pathlib.Path(__file__).resolve().parents[2]
RUN = {
    "attempt": 1,
    "attempt_base": 0,
    "max_retries": 1,
    "retry_backoff_seconds": 2.0,
    "retry_backoff_max_seconds": 60.0,
    "retry_jitter": 0.0,
}


def test_a_retryable_end_within_the_budget_is_retried_after_the_backoff() -> None:
    decision = after_attempt(RUN, RunStatus.TIMED_OUT, retryable=True)
    assert (decision.retry, decision.delay_seconds) == (True, 2.0)
    assert "RETRYING" in decision.statement.text
    assert decision.params(queue="q", reason="timed_out", error_code="timeout", error_message="late") == {
        "delay_seconds": 2.0,
        "queue": "q",
        "from_statuses": ["RUNNING"],
        "reason": "timed_out",
        "error_code": "timeout",
        "error_message": "late",
        **NO_LOG_LINES,
    }


@pytest.mark.parametrize(("attempt", "retryable"), [(2, True), (1, False)])
def test_a_spent_budget_or_a_final_failure_finishes_the_run(attempt: int, retryable: bool) -> None:
    decision = after_attempt({**RUN, "attempt": attempt}, RunStatus.FAILED, retryable=retryable)
    assert decision.retry is False
    assert decision.params(queue="q", reason="failed", error_code="boom", error_message="it broke") == {
        "to_status": "FAILED",
        "from_statuses": ["RUNNING"],
        "reason": "failed",
        "error_code": "boom",
        "error_message": "it broke",
        "details": "{}",
        **NO_LOG_LINES,
    }


@pytest.mark.parametrize(
    ("status", "retryable", "at_once", "attempt"),
    [
        (RunStatus.FAILED, True, False, 1),  # a retry was next
        (RunStatus.FAILED, True, False, 2),  # the budget is spent: FAILED was next
        (RunStatus.FAILED, False, False, 1),  # a final failure
        (RunStatus.TIMED_OUT, True, False, 2),
        (RunStatus.RETRYING, False, True, 1),  # a worker shutting down
    ],
)
def test_a_run_asked_to_cancel_ends_cancelled_whatever_its_attempt_would_have_led_to(
    status: RunStatus, retryable: bool, at_once: bool, attempt: int
) -> None:
    """One rule: a cancel request wins over a retry and over a final failure alike; the attempt's error is kept."""
    run = {**RUN, "attempt": attempt}
    decision = after_attempt(run, status, retryable=retryable, at_once=at_once, cancelling=True)
    assert (decision.retry, decision.status, decision.cancelled) == (False, RunStatus.CANCELLED, True)
    params = decision.params(queue="q", reason="failed", error_code="boom", error_message="it broke", details={"x": 1})
    assert (params["to_status"], params["reason"], params["error_code"]) == ("CANCELLED", "cancelled", "cancelled")
    assert msgspec.json.decode(params["details"]) == {
        "x": 1,
        "error_code": "boom",
        "error_message": "it broke",
        "attempt_reason": "failed",
    }


@pytest.mark.parametrize(("cancelling", "at_once"), [(True, False), (False, True)])
def test_a_success_stands_though_a_cancel_or_a_stop_came_after_it(cancelling: bool, at_once: bool) -> None:
    decision = after_attempt(RUN, RunStatus.SUCCEEDED, retryable=False, at_once=at_once, cancelling=cancelling)
    assert (decision.retry, decision.status, decision.cancelled) == (False, RunStatus.SUCCEEDED, False)


def test_an_interrupted_attempt_is_retried_at_once_even_with_no_budget() -> None:
    decision = after_attempt({**RUN, "max_retries": 0}, RunStatus.FAILED, retryable=False, at_once=True)
    assert (decision.retry, decision.delay_seconds) == (True, 0.0)


def test_jitter_comes_from_the_rng_given() -> None:
    run = {**RUN, "retry_jitter": 0.5}
    delays = {
        after_attempt(run, RunStatus.FAILED, retryable=True, rng=random.Random(seed)).delay_seconds for seed in (1, 2)
    }
    assert len(delays) == 2
    assert all(2.0 <= d <= 3.0 for d in delays)


def test_no_process_decides_retries_on_its_own() -> None:
    """The executor and the reaper both ask after_attempt; neither applies the retry budget or backoff itself."""
    for path in ("workers/executor.py", "scheduler/reaper.py"):
        source = (ROOT / path).read_text()
        assert "after_attempt(" in source, path
        assert "retries_left" not in source, path
        assert "backoff_seconds" not in source, path
