"""When the scheduler's schedule loop claims again after a tick: pure, no clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from scheduler.service import SCHEDULE_RECHECK_SECONDS, claim_wait_seconds

NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


def test_the_loop_claims_when_the_next_fire_time_comes_within_the_lookahead() -> None:
    assert claim_wait_seconds(NOW + timedelta(seconds=7), NOW, lookahead=5) == 2


def test_a_fire_time_already_within_the_lookahead_or_past_is_claimed_at_once() -> None:
    assert claim_wait_seconds(NOW + timedelta(seconds=3), NOW, lookahead=5) <= 0
    assert claim_wait_seconds(NOW - timedelta(minutes=10), NOW, lookahead=0) <= 0


def test_a_far_fire_time_or_none_still_rechecks_for_changes_no_notify_announced() -> None:
    assert claim_wait_seconds(NOW + timedelta(hours=1), NOW, lookahead=5) == SCHEDULE_RECHECK_SECONDS
    assert claim_wait_seconds(None, NOW, lookahead=5) == SCHEDULE_RECHECK_SECONDS
