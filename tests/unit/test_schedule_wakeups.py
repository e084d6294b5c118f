"""When the scheduler's loops claim again after a tick, and try again after an error: pure, no clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from scheduler.service import MAX_ERROR_PAUSE_SECONDS, SCHEDULE_RECHECK_SECONDS, claim_wait_seconds, error_pause_seconds

NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


def test_the_loop_claims_when_the_next_fire_time_comes_within_the_lookahead() -> None:
    assert claim_wait_seconds(NOW + timedelta(seconds=7), NOW, lookahead=5) == 2


def test_a_fire_time_already_within_the_lookahead_or_past_is_claimed_at_once() -> None:
    assert claim_wait_seconds(NOW + timedelta(seconds=3), NOW, lookahead=5) <= 0
    assert claim_wait_seconds(NOW - timedelta(minutes=10), NOW, lookahead=0) <= 0


def test_a_far_fire_time_or_none_still_rechecks_for_changes_no_notify_announced() -> None:
    assert claim_wait_seconds(NOW + timedelta(hours=1), NOW, lookahead=5) == SCHEDULE_RECHECK_SECONDS
    assert claim_wait_seconds(None, NOW, lookahead=5) == SCHEDULE_RECHECK_SECONDS


def test_a_dropped_session_is_replaced_at_once_and_a_server_that_stays_down_is_tried_at_most_once_a_second() -> None:
    pauses = [error_pause_seconds(n, outage=True) for n in range(1, 50)]
    assert pauses[:2] == [0, 0]  # the LISTEN connection, then a pooled one, meeting one drop
    assert all(pause > 0 for pause in pauses[2:])  # no busy loop against a server that is down
    assert pauses == sorted(pauses)
    assert max(pauses) == 1.0


def test_an_error_that_is_no_outage_pauses_a_second_doubling_up_to_the_cap() -> None:
    pauses = [error_pause_seconds(n, outage=False) for n in range(1, 50)]
    assert pauses[:4] == [1, 2, 4, MAX_ERROR_PAUSE_SECONDS]
    assert max(pauses) == MAX_ERROR_PAUSE_SECONDS
