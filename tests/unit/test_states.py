"""The transition table, exhaustively: every (from, to) pair is either allowed or refused."""

from itertools import product

import pytest

from app.core.states import CANCEL_AT_ONCE, FINAL, TRANSITIONS, IllegalTransition, RunStatus, is_allowed, sources

S = RunStatus
EXPECTED_ALLOWED = {
    (S.PENDING, S.QUEUED),
    (S.PENDING, S.CANCELLED),
    (S.PENDING, S.SKIPPED),
    (S.QUEUED, S.RUNNING),
    (S.QUEUED, S.CANCELLED),
    (S.RUNNING, S.SUCCEEDED),
    (S.RUNNING, S.FAILED),
    (S.RUNNING, S.CANCELLED),
    (S.RUNNING, S.TIMED_OUT),
    (S.RUNNING, S.RETRYING),
    (S.RETRYING, S.QUEUED),
    (S.RETRYING, S.CANCELLED),
    (S.FAILED, S.PENDING),
    (S.CANCELLED, S.PENDING),
    (S.TIMED_OUT, S.PENDING),
}


@pytest.mark.parametrize(("source", "target"), list(product(RunStatus, RunStatus)))
def test_every_pair_is_allowed_exactly_when_the_design_says(source: RunStatus, target: RunStatus) -> None:
    assert is_allowed(source, target) == ((source, target) in EXPECTED_ALLOWED)


def test_every_state_has_a_row() -> None:
    assert set(TRANSITIONS) == set(RunStatus)


def test_successful_and_skipped_runs_never_move_again() -> None:
    assert TRANSITIONS[S.SUCCEEDED] == frozenset()
    assert TRANSITIONS[S.SKIPPED] == frozenset()


def test_every_non_final_state_can_be_cancelled() -> None:
    for status in set(RunStatus) - FINAL:
        assert is_allowed(status, S.CANCELLED), status
    assert {S.PENDING, S.QUEUED, S.RETRYING} == CANCEL_AT_ONCE


def test_sources_come_from_the_table() -> None:
    assert sources(S.RUNNING) == ["QUEUED"]
    assert sources(S.QUEUED) == ["PENDING", "RETRYING"]
    assert sources(S.CANCELLED, [S.RUNNING]) == ["RUNNING"]


def test_sources_refuses_a_narrowing_outside_the_table() -> None:
    with pytest.raises(IllegalTransition):
        sources(S.RUNNING, [S.PENDING])
