"""Every DST policy against zoneinfo, around real transitions in zones with odd ones. No I/O.

The oracle: cronsim lists the matching local wall times (naive: its own DST handling is not used), and
zoneinfo says what each one is in a zone: one instant, none (the clock jumps over it) or two (it happens twice).
The policies, as README and app/scheduling/timing.py state them, then say which instants fire:

- a wall time that does not exist is `shift`ed by the jump (02:30 → 03:30: the wall time read at the offset
  before the jump, zoneinfo's fold=0) or `skip`ped (recorded as dst_skipped at that instant, no run);
- one that happens twice fires on the `first`, the `last` or `both` instants;
- each instant fires once: a shifted wall time landing on a real fire time is that fire time, and a real fire
  time is never lost to a skipped one landing on it.

So every fire maps back to its wall time (or its shifted one), nothing fires twice in an overlap unless the
policy is `both`, and nothing is lost in a gap unless the policy is `skip`, which records it.
"""

from __future__ import annotations

import functools
import itertools
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from cronsim import CronSim

from app.scheduling import cron
from app.scheduling.timing import CronSchedule, IntervalSchedule, OnceSchedule, Schedule, fires, next_fire

#: (nonexistent, ambiguous): each value of each once; the two never meet (a jump is a gap or a fold, not both).
POLICIES = [("shift", "first"), ("skip", "last"), ("shift", "both")]
#: Lines that fall in gaps and overlaps: every 10 minutes (more than next_fire's 4 candidates in an hour), 02:30,
#: midnight (Santiago moves at 24:00), half-hours (Lord Howe moves by 30 minutes) and a date-bound one (Apia
#: dropped 2011-12-30 whole).
EXPRESSIONS = ["*/10 * * * *", "30 2 * * *", "0 0 * * *", "15,45 1-3 * * *", "*/20 * 30 12 *"]


def transitions(zone: str, year: int) -> list[datetime]:
    """The UTC hours in `year` after which `zone`'s offset changed (found by zoneinfo, hour by hour)."""
    tz, found = ZoneInfo(zone), []
    hour = datetime(year, 1, 1, tzinfo=UTC)
    while hour.year == year:
        if hour.astimezone(tz).utcoffset() != (hour + timedelta(hours=1)).astimezone(tz).utcoffset():
            found.append(hour)
        hour += timedelta(hours=1)
    return found


CASES = [
    (zone, at)
    for zone, year in [
        ("America/New_York", 2026),
        ("Europe/London", 2026),
        ("Australia/Lord_Howe", 2026),
        ("America/Santiago", 2026),
        ("Pacific/Apia", 2011),
    ]
    for at in transitions(zone, year)
]


def test_the_zones_have_the_transitions_the_cases_need() -> None:
    assert len(CASES) == 11  # two a year each; Apia three: out of DST in April, in in September, the lost day
    assert transitions("Asia/Shanghai", 2026) == []
    lost_day = datetime(2011, 12, 30, 12, tzinfo=ZoneInfo("Pacific/Apia"))
    assert lost_day.astimezone(UTC).astimezone(lost_day.tzinfo).day == 31  # zoneinfo knows the 30th never was


@functools.cache
def walls(expression: str, start: datetime, end: datetime) -> tuple[datetime, ...]:
    """The matching wall times in [start, end], by cronsim (cached: each policy asks for the same)."""
    return tuple(itertools.takewhile(lambda wall: wall <= end, CronSim(expression, start - timedelta(seconds=1))))


def intended(
    expression: str, zone: str, gap: str, fold: str, low: datetime, high: datetime
) -> dict[datetime, str | None]:
    """Instant → None (a run) or "dst_skipped", for the fire times in (low, high], by the policies as documented."""
    tz, out = ZoneInfo(zone), {}
    wide = timedelta(hours=26)  # more than any jump: Apia's was a whole day
    for wall in walls(
        expression, low.astimezone(tz).replace(tzinfo=None) - wide, high.astimezone(tz).replace(tzinfo=None) + wide
    ):
        first = wall.replace(tzinfo=tz, fold=0).astimezone(UTC)
        last = wall.replace(tzinfo=tz, fold=1).astimezone(UTC)
        if first.astimezone(tz).replace(tzinfo=None) != wall:  # the clock jumps over it
            candidates = [(first, "dst_skipped" if gap == "skip" else None)]
        elif first == last:
            candidates = [(first, None)]
        else:
            candidates = [(at, None) for at in {"first": [first], "last": [last], "both": [first, last]}[fold]]
        for at, skipped in candidates:
            if low < at <= high and out.get(at, "") is not None:  # a real fire time is never replaced
                out[at] = skipped
    return out


def got(schedule: Schedule, low: datetime, high: datetime) -> dict[datetime, str | None]:
    found = fires(schedule, low, high)
    assert [f.at for f in found] == sorted({f.at for f in found}), "oldest first, each instant once"
    return {f.at: f.skipped for f in found}


def schedule(expression: str, zone: str, gap: str, fold: str) -> CronSchedule:
    return CronSchedule(expression=cron.parse(expression), timezone=ZoneInfo(zone), dst_gap=gap, dst_fold=fold)  # type: ignore[arg-type]


@pytest.mark.parametrize(("zone", "transition"), CASES, ids=[f"{z}-{t:%Y-%m-%d}" for z, t in CASES])
@pytest.mark.parametrize("expression", EXPRESSIONS)
def test_fire_times_around_a_transition_follow_the_policy(zone: str, transition: datetime, expression: str) -> None:
    """One wide window, and the same time cut in short ticks as the scheduler loop asks: the same fire times."""
    low, high = transition - timedelta(hours=3), transition + timedelta(hours=26)
    for gap, fold in POLICIES:
        sched, expected = schedule(expression, zone, gap, fold), intended(expression, zone, gap, fold, low, high)
        assert got(sched, low, high) == expected, (gap, fold)
        ticks = [low + timedelta(minutes=17 * k) for k in range(int((high - low) / timedelta(minutes=17)))] + [high]
        ticked: dict[datetime, str | None] = {}
        for a, b in itertools.pairwise(ticks):
            ticked |= got(sched, a, b)
        assert ticked == expected, ("ticks", gap, fold)


@pytest.mark.parametrize(("zone", "transition"), CASES, ids=[f"{z}-{t:%Y-%m-%d}" for z, t in CASES])
@pytest.mark.parametrize("expression", EXPRESSIONS)
def test_the_next_fire_time_is_the_first_that_runs(zone: str, transition: datetime, expression: str) -> None:
    """What the loop stores as next_run_at and the preview shows, from moments around the transition."""
    low, high = transition - timedelta(hours=3), transition + timedelta(hours=26)
    for gap, fold in POLICIES:
        sched = schedule(expression, zone, gap, fold)
        horizon = high + timedelta(days=3)
        runs = sorted(at for at, skipped in intended(expression, zone, gap, fold, low, horizon).items() if not skipped)
        everywhere = [low + timedelta(minutes=41 * k) for k in range(int((high - low) / timedelta(minutes=41)))]
        near = [transition - timedelta(hours=1) + timedelta(minutes=7 * k) for k in range(26)]  # in a repeated hour
        for after in everywhere + near:
            expected, answer = next((at for at in runs if at > after), None), next_fire(sched, after)
            assert answer == expected if expected else answer is None or answer > horizon, (gap, fold, after)


def test_a_zone_without_dst_fires_at_its_wall_times() -> None:
    shanghai = schedule("30 2 * * *", "Asia/Shanghai", "skip", "both")
    found = fires(shanghai, datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 4, tzinfo=UTC))
    assert [f.at for f in found] == [datetime(2026, 3, d, 18, 30, tzinfo=UTC) for d in (1, 2, 3)]


@pytest.mark.parametrize(("zone", "transition"), CASES[:2], ids=["spring", "autumn"])
def test_interval_and_once_schedules_ignore_wall_clocks(zone: str, transition: datetime) -> None:
    """They count UTC time: an interval keeps its step across a transition, a once fires once, whatever the ticks."""
    low, high = transition - timedelta(hours=3), transition + timedelta(hours=3)
    interval = IntervalSchedule(seconds=1800, anchor=datetime(2026, 1, 1, 0, 7, tzinfo=UTC))
    once = OnceSchedule(at=transition + timedelta(minutes=30))
    ticks = [low + timedelta(minutes=11 * k) for k in range(33)] + [high]
    for sched in (interval, once):
        whole = [f.at for f in fires(sched, low, high)]
        assert [f.at for a, b in itertools.pairwise(ticks) for f in fires(sched, a, b)] == whole
    assert {b - a for a, b in itertools.pairwise(f.at for f in fires(interval, low, high))} == {timedelta(minutes=30)}
    assert [f.at for f in fires(once, low, high)] == [once.at]
