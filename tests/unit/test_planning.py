"""Misfire and overlap policies, as pure decisions over fire times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.scheduling.planning import Policies, later_late_wanted, plan, plan_ahead
from app.scheduling.reasons import ReasonCode
from app.scheduling.timing import Fire

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def minutes_ago(*ago: int) -> list[Fire]:
    return [Fire(at=NOW - timedelta(minutes=m)) for m in sorted(ago, reverse=True)]


def outcomes(result) -> list[tuple[int, str]]:  # type: ignore[no-untyped-def]
    runs = [(int((NOW - r.scheduled_for).total_seconds() // 60), "held" if r.held else "run") for r in result.runs]
    skipped = [(int((NOW - t).total_seconds() // 60), o) for t, o, _, _ in result.skipped]
    return sorted(runs + skipped, reverse=True)


def test_on_time_fires_run() -> None:
    result = plan([Fire(at=NOW - timedelta(seconds=5))], NOW, Policies(), active=0, held=0)
    assert [r.scheduled_for for r in result.runs] == [NOW - timedelta(seconds=5)]
    assert result.skipped == []


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        ("skip", [(5, "misfire_skipped"), (4, "misfire_skipped"), (3, "misfire_skipped")]),
        ("run_once", [(5, "coalesced"), (4, "coalesced"), (3, "run")]),
        ("catch_up", [(5, "misfire_skipped"), (4, "run"), (3, "run")]),
    ],
)
def test_misfire_policies(policy: str, expected: list[tuple[int, str]]) -> None:
    policies = Policies(misfire_policy=policy, max_catch_up=2, overlap_policy="allow")
    assert outcomes(plan(minutes_ago(5, 4, 3), NOW, policies, active=0, held=0)) == expected


def test_a_fire_within_the_grace_is_not_a_misfire() -> None:
    policies = Policies(misfire_policy="skip", misfire_grace_seconds=120)
    assert outcomes(plan(minutes_ago(1), NOW, policies, active=0, held=0)) == [(1, "run")]


@pytest.mark.parametrize(
    ("policy", "expected", "cancel"),
    [
        ("skip", [(2, "overlap_skipped"), (1, "overlap_skipped")], False),
        ("buffer_one", [(2, "held"), (1, "overlap_skipped")], False),
        ("buffer_all", [(2, "held"), (1, "held")], False),
        # the running one is cancelled, and of the two new ones only the newer starts: one run at a time
        ("cancel_running", [(2, "overlap_skipped"), (1, "run")], True),
        ("allow", [(2, "run"), (1, "run")], False),
    ],
)
def test_overlap_policies_when_the_limit_is_reached(policy: str, expected: list, cancel: bool) -> None:
    policies = Policies(overlap_policy=policy, max_concurrent_runs=1, misfire_grace_seconds=3600)
    result = plan(minutes_ago(2, 1), NOW, policies, active=1, held=0)
    assert outcomes(result) == expected
    assert result.cancel_running is cancel


def test_buffer_one_keeps_a_single_waiting_run() -> None:
    policies = Policies(overlap_policy="buffer_one", misfire_grace_seconds=3600)
    assert outcomes(plan(minutes_ago(1), NOW, policies, active=1, held=1)) == [(1, "overlap_skipped")]


def test_free_slots_are_used_before_the_policy_applies() -> None:
    policies = Policies(overlap_policy="skip", max_concurrent_runs=3, misfire_grace_seconds=3600)
    assert outcomes(plan(minutes_ago(3, 2, 1), NOW, policies, active=1, held=0)) == [
        (3, "run"),
        (2, "run"),
        (1, "overlap_skipped"),
    ]


def test_dst_skipped_fires_are_reported() -> None:
    result = plan([Fire(at=NOW - timedelta(minutes=1), skipped="dst_skipped")], NOW, Policies(), active=0, held=0)
    assert outcomes(result) == [(1, "dst_skipped")]


def ahead(*seconds: int) -> list[Fire]:
    return [Fire(at=NOW + timedelta(seconds=s)) for s in seconds]


@pytest.mark.parametrize(
    ("policies", "active", "held", "planned"),
    [
        (Policies(overlap_policy="allow", max_concurrent_runs=1), 5, 0, 2),
        (Policies(overlap_policy="skip", max_concurrent_runs=3), 1, 0, 2),
        (Policies(overlap_policy="skip", max_concurrent_runs=2), 1, 0, None),
        (Policies(overlap_policy="buffer_all", max_concurrent_runs=5), 0, 1, None),
        (Policies(overlap_policy="cancel_running", max_concurrent_runs=1), 1, 0, None),
    ],
)
def test_future_fires_are_planned_ahead_only_when_sure_of_a_slot(
    policies: Policies, active: int, held: int, planned: int | None
) -> None:
    result = plan_ahead(ahead(2, 4), policies, active=active, held=held)
    assert (None if result is None else len(result.runs)) == planned


def test_a_future_dst_gap_is_recorded_ahead_and_needs_no_slot() -> None:
    fires = [Fire(at=NOW + timedelta(seconds=2), skipped="dst_skipped"), *ahead(3)]
    result = plan_ahead(fires, Policies(max_concurrent_runs=1), active=0, held=0)
    assert result is not None
    assert [r.scheduled_for for r in result.runs] == [NOW + timedelta(seconds=3)]
    assert [o for _, o, _, _ in result.skipped] == ["dst_skipped"]


@pytest.mark.parametrize(
    ("policy", "later_late", "expected"),
    [
        # a chunk of a long downtime, followed by missed fire times of later chunks: none of it runs under run_once
        ("run_once", 1, [(30, "coalesced"), (20, "coalesced"), (10, "coalesced")]),
        ("run_once", 0, [(30, "coalesced"), (20, "coalesced"), (10, "run")]),
        # catch_up keeps the newest max_catch_up (2) of the whole downtime: the later chunks' first
        ("catch_up", 2, [(30, "misfire_skipped"), (20, "misfire_skipped"), (10, "misfire_skipped")]),
        ("catch_up", 1, [(30, "misfire_skipped"), (20, "misfire_skipped"), (10, "run")]),
        ("catch_up", 0, [(30, "misfire_skipped"), (20, "run"), (10, "run")]),
    ],
)
def test_a_chunk_of_a_long_downtime_leaves_its_runs_to_the_later_missed_fire_times(
    policy: str, later_late: int, expected: list[tuple[int, str]]
) -> None:
    policies = Policies(misfire_policy=policy, misfire_grace_seconds=60, max_catch_up=2, overlap_policy="allow")
    result = plan(minutes_ago(30, 20, 10), NOW, policies, active=0, held=0, later_late=later_late)
    assert outcomes(result) == expected
    assert later_late_wanted(policies) == (1 if policy == "run_once" else 2)


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        ("buffer_all", [(0, "held")]),  # the held run is released into the free slot; the new one waits behind it
        ("buffer_one", [(0, "held")]),  # ... and becomes the one held
        ("skip", [(0, "overlap_skipped")]),  # a run still held from an earlier policy takes the slot first
    ],
)
def test_a_free_slot_goes_to_the_run_already_held_not_to_a_new_fire_time(
    policy: str, expected: list[tuple[int, str]]
) -> None:
    """The new fire time took the slot the held run was waiting for: the held one ran later (not first in, first
    out), and a second scheduler releasing it meanwhile made two runs where one may run."""
    policies = Policies(max_concurrent_runs=1, overlap_policy=policy)
    assert outcomes(plan(minutes_ago(0), NOW, policies, active=0, held=1)) == expected
    assert outcomes(plan(minutes_ago(0), NOW, policies, active=0, held=0)) == [(0, "run")]


def test_cancel_running_over_a_catch_up_starts_only_the_newest_runs() -> None:
    """Each caught-up fire time past the free slots set cancel_running, which cancels only the runs already there:
    all three started together where max_concurrent_runs allows one."""
    policies = Policies(
        misfire_policy="catch_up", max_catch_up=3, misfire_grace_seconds=60, overlap_policy="cancel_running"
    )
    result = plan(minutes_ago(30, 20, 10), NOW, policies, active=0, held=0)
    assert outcomes(result) == [(30, "overlap_skipped"), (20, "overlap_skipped"), (10, "run")]
    assert result.cancel_running
    two = plan(
        minutes_ago(30, 20, 10), NOW, Policies(**{**policies.__dict__, "max_concurrent_runs": 2}), active=1, held=0
    )
    assert outcomes(two) == [(30, "overlap_skipped"), (20, "run"), (10, "run")]


@pytest.mark.parametrize(
    ("misfire", "overlap", "active", "fires", "codes"),
    [
        ("skip", "allow", 0, minutes_ago(5), {ReasonCode.MISFIRE_GRACE}),
        ("run_once", "allow", 0, minutes_ago(5, 4), {ReasonCode.COALESCED}),
        ("catch_up", "allow", 0, minutes_ago(5, 4, 3), {ReasonCode.MAX_CATCH_UP}),
        ("skip", "skip", 1, [Fire(at=NOW)], {ReasonCode.OVERLAP_LIMIT}),
        ("catch_up", "cancel_running", 1, minutes_ago(2, 1), {ReasonCode.SUPERSEDED}),
        ("skip", "allow", 0, [Fire(at=NOW, skipped="dst_skipped")], {ReasonCode.DST_GAP}),
    ],
)
def test_every_fire_time_without_a_run_says_why_as_a_code(
    misfire: str, overlap: str, active: int, fires: list[Fire], codes: set[ReasonCode]
) -> None:
    policies = Policies(misfire_policy=misfire, max_catch_up=2, overlap_policy=overlap, misfire_grace_seconds=30)
    result = plan(fires, NOW, policies, active=active, held=0)
    assert {entry[3] for entry in result.skipped} == codes
