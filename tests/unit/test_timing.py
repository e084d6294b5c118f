"""Fire-time maths: cron parsing, DST in three zones, intervals, once, start/end. No I/O, no sleeping."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.core.errors import InvalidInput
from app.scheduling import cron
from app.scheduling.spec import check_fires
from app.scheduling.timing import CronSchedule, IntervalSchedule, OnceSchedule, fires, next_fire, span, upcoming


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def cron_in(expression: str, zone: str, **policy: str) -> CronSchedule:
    return CronSchedule(expression=cron.parse(expression), timezone=ZoneInfo(zone), **policy)  # type: ignore[arg-type]


def local(instants: list[datetime], zone: str) -> list[str]:
    return [i.astimezone(ZoneInfo(zone)).strftime("%m-%d %H:%M %Z") for i in instants]


@pytest.mark.parametrize(
    ("expression", "after", "expected"),
    [
        ("*/15 * * * *", datetime(2026, 1, 1, 10, 7), datetime(2026, 1, 1, 10, 15)),
        ("0 9 * * MON-FRI", datetime(2026, 11, 20, 9, 0), datetime(2026, 11, 23, 9, 0)),  # Friday → Monday
        ("30 2 29 2 *", datetime(2026, 1, 1), datetime(2028, 2, 29, 2, 30)),  # next leap day
        ("0 0 1,15 * 5", datetime(2026, 11, 2), datetime(2026, 11, 6)),  # day-of-month OR Friday
        # Vixie's rule: a day field starting with `*` does not count as restricted, so the other decides alone
        ("0 0 */2 * 1", datetime(2026, 11, 10), datetime(2026, 11, 23)),  # an odd day that is a Monday
        ("0 0 1,* * 1", datetime(2026, 11, 3), datetime(2026, 11, 4)),  # `1,*` is restricted: any day
        ("@hourly", datetime(2026, 1, 1, 10, 0), datetime(2026, 1, 1, 11, 0)),
        ("*/20 * * * * *", datetime(2026, 1, 1, 10, 0, 5), datetime(2026, 1, 1, 10, 0, 20)),  # seconds field
        ("0 0 * JAN,JUL SUN", datetime(2026, 2, 1), datetime(2026, 7, 5)),
        ("0 12 * * 7", datetime(2026, 11, 22, 12, 0), datetime(2026, 11, 29, 12, 0)),  # 7 is Sunday too
        # L, W and # (as in Quartz and cronsim); January 2026 starts on a Thursday, February on a Sunday.
        ("0 9 L * *", datetime(2026, 2, 1), datetime(2026, 2, 28, 9, 0)),  # the last day of the month
        ("0 9 L 2 *", datetime(2027, 3, 1), datetime(2028, 2, 29, 9, 0)),  # ... in a leap year too
        ("0 9 L-2 * *", datetime(2026, 1, 1), datetime(2026, 1, 29, 9, 0)),  # two days before it
        ("0 9 LW * *", datetime(2026, 1, 1), datetime(2026, 1, 30, 9, 0)),  # the 31st is a Saturday → Friday
        ("0 9 15W * *", datetime(2026, 2, 1), datetime(2026, 2, 16, 9, 0)),  # the 15th is a Sunday → Monday
        ("0 9 1W * *", datetime(2026, 1, 31), datetime(2026, 2, 2, 9, 0)),  # Sunday the 1st → Monday, not back
        ("0 9 31W * *", datetime(2026, 5, 1), datetime(2026, 5, 29, 9, 0)),  # Sunday the 31st → Friday
        ("0 9 * * 5L", datetime(2026, 1, 1), datetime(2026, 1, 30, 9, 0)),  # the last Friday
        ("0 9 * * FRI#3", datetime(2026, 1, 1), datetime(2026, 1, 16, 9, 0)),  # the third Friday
        ("0 9 * * 1#1,5L", datetime(2026, 1, 6), datetime(2026, 1, 30, 9, 0)),  # first Monday or last Friday
        ("0 0 0 ? * 2#5", datetime(2026, 1, 1), datetime(2026, 3, 31, 0, 0)),  # a fifth Tuesday, 6 fields
    ],
)
def test_next_matching_wall_time(expression: str, after: datetime, expected: datetime) -> None:
    assert cron.parse(expression).next_after(after) == expected


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("* * * *", "expected 5 fields"),
        ("61 * * * *", "minute: 61 is outside"),
        ("* 24 * * *", "hour"),
        ("* * 0 * *", "day of month"),
        ("* * * 13 *", "month"),
        ("* * * * FUNDAY", "day of week"),
        ("*/0 * * * *", "step must be at least 1"),
        ("5-1 * * * *", "runs backwards"),
        ("a * * * *", "not a number"),
        ("0 0 L-31 * *", "L- '31' must be a number from 0 to 30"),
        ("0 0 32W * *", "W after '32' must be"),
        ("0 0 * * 5#6", "# of '6' must be a number from 1 to 5"),
        ("0 0 * * 9L", "day of week: 9 is outside"),
        # Python's int() reads these; cron does not (and `²` made the L-, W and # terms raise a bare ValueError: a 500)
        ("0 0 L-² * *", "L- '²' must be a number"),
        ("0 0 ²W * *", "W after '²' must be a number"),
        ("0 0 * * 5#²", "# of '²' must be a number"),
        ("\u0661 * * * *", "minute: '\u0661' is not a number"),
        ("+5 * * * *", "minute: '\\+5' is not a number"),
        ("1_0 * * * *", "minute: '1_0' is not a number"),
        ("*/+2 * * * *", "minute: step '\\+2' is not a number"),
        ("*/ * * * *", "minute: step '' is not a number"),
        ("0 0 L, * *", "day of month: an empty item"),
        ("0 0 * * 5L,", "day of week: an empty item"),
        ("1,,2 * * * *", "minute: an empty item"),
        ("? * * * *", "minute: '\\?' is only for the day of month or the day of week"),
    ],
)
def test_bad_expressions_name_the_field(expression: str, message: str) -> None:
    with pytest.raises(cron.CronError, match=message):
        cron.parse(expression)


def test_an_impossible_date_never_fires() -> None:
    assert cron.parse("0 0 30 2 *").next_after(datetime(2026, 1, 1)) is None
    assert cron.parse("0 0 L-30 2 *").next_after(datetime(2026, 1, 1)) is None


def test_the_last_sunday_of_march_keeps_the_dst_policy() -> None:
    """02:30 on the last Sunday of March never exists in Berlin: shifted to 03:30, or skipped."""
    after = utc(2026, 3, 1)
    shifted = next_fire(cron_in("30 2 * 3 0L", "Europe/Berlin"), after)
    assert shifted is not None
    assert local([shifted], "Europe/Berlin") == ["03-29 03:30 CEST"]
    skipped = fires(cron_in("30 2 * 3 0L", "Europe/Berlin", dst_gap="skip"), after, utc(2026, 4, 1))
    assert [f.skipped for f in skipped] == ["dst_skipped"]


# Europe/Berlin: spring forward 2026-03-29 02:00 → 03:00; fall back 2026-10-25 03:00 → 02:00.
def test_berlin_spring_forward_shift_and_skip() -> None:
    window = (utc(2026, 3, 28, 23), utc(2026, 3, 29, 3))
    shifted = fires(cron_in("30 2 * * *", "Europe/Berlin"), *window)
    assert local([f.at for f in shifted], "Europe/Berlin") == ["03-29 03:30 CEST"]
    skipped = fires(cron_in("30 2 * * *", "Europe/Berlin", dst_gap="skip"), *window)
    assert [f.skipped for f in skipped] == ["dst_skipped"]
    assert next_fire(cron_in("30 2 * * *", "Europe/Berlin", dst_gap="skip"), utc(2026, 3, 28, 23)) == utc(
        2026, 3, 30, 0, 30
    )


def test_a_skipped_wall_time_never_takes_the_place_of_a_real_one() -> None:
    """New York 2026-03-08: 02:15 does not exist; skipped, it is recorded at the instant it would shift to, which is
    03:15 EDT, a real fire time: that one runs (each instant is one fire time, so the skip is not recorded)."""
    got = fires(cron_in("*/15 * * * *", "America/New_York", dst_gap="skip"), utc(2026, 3, 8, 6, 50), utc(2026, 3, 8, 8))
    assert local([f.at for f in got], "America/New_York") == [
        f"03-08 {t} EDT" for t in ("03:00", "03:15", "03:30", "03:45", "04:00")
    ]
    assert [f.skipped for f in got] == [None] * 5


def test_skipped_wall_times_do_not_hide_the_next_fire_time() -> None:
    """The four quarter hours of 02:xx are skipped in New York on 2026-03-08; the next run is 03:00 EDT, and a
    bounded search (as next_fire and a backfill's max_runs make) counts runs, not skipped wall times."""
    schedule = cron_in("*/15 * * * *", "America/New_York", dst_gap="skip")
    assert local([next_fire(schedule, utc(2026, 3, 8, 6, 52))], "America/New_York") == ["03-08 03:00 EDT"]  # type: ignore[list-item]
    got = fires(cron_in("0,30 2,3 * * *", "Europe/Berlin", dst_gap="skip"), utc(2026, 3, 29), utc(2026, 3, 30), limit=1)
    assert [f.skipped for f in got] == [None]


def test_a_shifted_wall_time_is_found_from_after_the_jump() -> None:
    """02:30 shifted lands at 03:30 EDT: asked from 03:06 EDT (a preview, a short scheduler tick), it is still to
    come. Apia skipped 2011-12-30 whole: 10:00 that day shifts a day on, to the 31st 10:00."""
    new_york = cron_in("30 2 * * *", "America/New_York")
    assert next_fire(new_york, utc(2026, 3, 8, 7, 6)) == utc(2026, 3, 8, 7, 30)
    assert [f.at for f in fires(new_york, utc(2026, 3, 8, 7, 29), utc(2026, 3, 8, 7, 31))] == [utc(2026, 3, 8, 7, 30)]
    apia = cron_in("0 10 30 12 *", "Pacific/Apia")
    assert [f.at for f in fires(apia, utc(2011, 12, 30, 19), utc(2011, 12, 30, 21))] == [utc(2011, 12, 30, 20)]
    assert next_fire(apia, utc(2011, 12, 30, 12)) == utc(2011, 12, 30, 20)


def test_a_repeated_hour_firing_twice_keeps_its_first_pass_in_order() -> None:
    """New York 2026-11-01 01:00-02:00 happens twice. From 01:42 EDT the next is 01:50 EDT, though the wall times
    01:00-01:40 come first in wall order (their second instants, in EST, are still to come)."""
    schedule = cron_in("*/10 * * * *", "America/New_York", dst_fold="both")
    assert local([next_fire(schedule, utc(2026, 11, 1, 5, 42))], "America/New_York") == ["11-01 01:50 EDT"]  # type: ignore[list-item]
    got = fires(schedule, utc(2026, 11, 1, 5, 42), utc(2026, 11, 1, 7), limit=3)
    assert local([f.at for f in got], "America/New_York") == ["11-01 01:50 EDT", "11-01 01:00 EST", "11-01 01:10 EST"]


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        ("first", ["10-25 02:30 CEST"]),
        ("last", ["10-25 02:30 CET"]),
        ("both", ["10-25 02:30 CEST", "10-25 02:30 CET"]),
    ],
)
def test_berlin_fall_back(policy: str, expected: list[str]) -> None:
    schedule = cron_in("30 2 * * *", "Europe/Berlin", dst_fold=policy)
    got = fires(schedule, utc(2026, 10, 24, 22), utc(2026, 10, 25, 4))
    assert local([f.at for f in got], "Europe/Berlin") == expected


def test_new_york_every_15_minutes_across_both_transitions() -> None:
    spring = [f.at for f in fires(cron_in("*/15 * * * *", "America/New_York"), utc(2026, 3, 8, 6), utc(2026, 3, 8, 8))]
    # 01:15 EST .. 04:00 EDT: 02:xx does not exist; shifted, it lands on 03:xx, which fires once, not twice
    assert [b - a for a, b in itertools.pairwise(spring)] == [timedelta(minutes=15)] * 7
    window = (utc(2026, 11, 1, 4, 59), utc(2026, 11, 1, 7))  # 00:59 EDT .. 02:00 EST
    first = fires(cron_in("*/15 * * * *", "America/New_York"), *window)
    both = fires(cron_in("*/15 * * * *", "America/New_York", dst_fold="both"), *window)
    assert local([f.at for f in first], "America/New_York") == [
        "11-01 01:00 EDT",
        "11-01 01:15 EDT",
        "11-01 01:30 EDT",
        "11-01 01:45 EDT",
        "11-01 02:00 EST",
    ]
    assert len(both) == 9  # the repeated hour fires on both of its instants


def test_lord_howe_half_hour_shift() -> None:
    # Australia/Lord_Howe springs forward 30 minutes on 2026-10-04 at 02:00 (→ 02:30), and falls back 30 minutes
    # on 2026-04-05 at 02:00 (→ 01:30).
    zone = "Australia/Lord_Howe"
    gap = fires(cron_in("15 2 * * *", zone), utc(2026, 10, 3, 14), utc(2026, 10, 3, 17))
    assert local([f.at for f in gap], zone) == ["10-04 02:45 +11"]
    fold = fires(cron_in("45 1 * * *", zone, dst_fold="both"), utc(2026, 4, 4, 13), utc(2026, 4, 4, 16))
    assert [f.at for f in fold][1] - next(f.at for f in fold) == timedelta(minutes=30)


def test_interval_from_anchor() -> None:
    schedule = IntervalSchedule(seconds=30, anchor=utc(2026, 1, 1))
    got = [f.at for f in fires(schedule, utc(2026, 1, 1, 0, 0, 45), utc(2026, 1, 1, 0, 2))]
    assert got == [utc(2026, 1, 1, 0, 1), utc(2026, 1, 1, 0, 1, 30), utc(2026, 1, 1, 0, 2)]
    assert fires(schedule, utc(2025, 12, 31, 23, 59), utc(2026, 1, 1))[0].at == utc(2026, 1, 1)


def test_once_fires_once() -> None:
    schedule = OnceSchedule(at=utc(2026, 5, 1, 12))
    assert [f.at for f in fires(schedule, utc(2026, 5, 1), utc(2026, 5, 2))] == [utc(2026, 5, 1, 12)]
    assert fires(schedule, utc(2026, 5, 1, 12), utc(2026, 5, 2)) == []
    assert next_fire(schedule, utc(2026, 5, 2)) is None


def test_start_and_end_bound_the_fire_times() -> None:
    schedule = cron_in("0 * * * *", "UTC")
    got = fires(schedule, utc(2026, 1, 1), utc(2026, 1, 2), start_at=utc(2026, 1, 1, 5), end_at=utc(2026, 1, 1, 8))
    assert [f.at.hour for f in got] == [5, 6, 7, 8]
    assert upcoming(schedule, utc(2026, 1, 1, 7, 30), 5, end_at=utc(2026, 1, 1, 9)) == [
        utc(2026, 1, 1, 8),
        utc(2026, 1, 1, 9),
    ]


@pytest.mark.parametrize("zone", ["UTC", "Europe/London", "America/New_York", "Australia/Lord_Howe", "Asia/Shanghai"])
def test_the_next_fire_time_of_a_line_matching_rarely_is_found_however_far(zone: str) -> None:
    """The search gave up after 8 years: a fifth Monday in February (18 years off) read as never firing."""
    assert next_fire(cron_in("0 12 * 2 1#5", zone), utc(2026, 1, 1)) == datetime(2044, 2, 29, 12, tzinfo=ZoneInfo(zone))
    assert next_fire(cron_in("0 12 29 2 *", zone), utc(2097, 3, 1)) == datetime(2104, 2, 29, 12, tzinfo=ZoneInfo(zone))
    assert next_fire(cron_in("0 12 */30 2 5#5", zone), utc(2026, 1, 1)) is None


def test_intervals_and_once_schedules_further_than_years_away_still_have_a_next_fire_time() -> None:
    """Both were None past 8 years: the deployment was stored with no next_run_at and never fired."""
    decade = 10 * 365 * 86_400
    assert next_fire(IntervalSchedule(seconds=decade, anchor=utc(2026, 1, 1)), utc(2026, 6, 1)) == utc(
        2026, 1, 1
    ) + timedelta(seconds=decade)
    assert next_fire(OnceSchedule(at=utc(2040, 5, 1)), utc(2026, 5, 1)) == utc(2040, 5, 1)
    assert next_fire(OnceSchedule(at=utc(2040, 5, 1)), utc(2026, 5, 1), end_at=utc(2039, 1, 1)) is None
    assert next_fire(OnceSchedule(at=utc(2040, 5, 1)), utc(2026, 5, 1), start_at=utc(2041, 1, 1)) is None


def test_a_line_whose_every_wall_time_is_skipped_by_the_dst_policy_never_fires_and_the_search_ends() -> None:
    """02:30 on the last Sunday of March never exists in Berlin: with `skip` no fire time ever comes."""
    assert next_fire(cron_in("30 2 * 3 0L", "Europe/Berlin", dst_gap="skip"), utc(2026, 1, 1)) is None
    assert next_fire(cron_in("30 2 * 3 0L", "Europe/Berlin"), utc(2026, 1, 1)) == utc(2026, 3, 29, 1, 30)


def test_a_line_is_refused_as_never_firing_only_when_no_time_in_a_calendar_cycle_matches() -> None:
    check_fires(cron_in("0 0 * 2 1#5", "UTC"), utc(2026, 1, 1))
    check_fires(cron_in("0 0 29 2 *", "UTC"), utc(2097, 3, 1))
    with pytest.raises(InvalidInput) as refused:
        check_fires(cron_in("0 0 */30 2 5#5", "UTC"), utc(2026, 1, 1))
    assert (refused.value.code, refused.value.errors[0]["field"]) == ("schedule_never_fires", "schedule.cron")


def test_an_interval_fire_time_a_microsecond_after_the_window_opens_is_found_however_far_from_the_anchor() -> None:
    """The multiple was a float quotient: 8,100 years of seconds rounded up, and 12:00:00 was skipped."""
    schedule = IntervalSchedule(seconds=1, anchor=utc(1900, 1, 1))
    fire = utc(8999, 6, 1, 12)
    assert [f.at for f in fires(schedule, fire - timedelta(microseconds=1), fire)] == [fire]
    assert next_fire(schedule, fire - timedelta(microseconds=1)) == fire


def test_a_line_skipped_by_dst_every_second_of_every_jump_is_found_never_firing_one_jump_at_a_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each skipped wall time was looked at on its own: 3,600 a year for 475 years (the search must reach a whole
    calendar cycle past 2100 to be exact), some 45 s. Now a skipped wall time jumps to the end of its jump."""
    calls: list[datetime] = []
    next_after = cron.Cron.next_after
    monkeypatch.setattr(cron.Cron, "next_after", lambda self, *a: calls.append(a[0]) or next_after(self, *a))
    assert next_fire(cron_in("* * 2 * 3 0L", "Europe/Berlin", dst_gap="skip"), utc(2026, 1, 1)) is None
    assert len(calls) <= 2 * (2100 - 2026 + cron.CYCLE_YEARS + 1)
    calls.clear()
    # the wall times after the jump still fire: 03:00 local, the end of the jump, is not skipped with it
    assert next_fire(cron_in("* 2-3 * 3 0L", "Europe/Berlin", dst_gap="skip"), utc(2026, 3, 1)) == utc(2026, 3, 29, 1)
    assert next_fire(cron_in("*/7 * * * *", "Pacific/Apia", dst_gap="skip"), utc(2011, 12, 30, 9, 58)) == utc(
        2011, 12, 30, 10, 0
    )


@pytest.mark.parametrize(
    ("seconds", "after", "until", "start_at", "end_at"),
    [
        (1, utc(2030, 1, 1), utc(2030, 1, 1, 2), None, None),
        (7.5, utc(2029, 12, 31, 23), utc(2030, 1, 1, 1, 0, 3), None, None),  # from before the anchor
        (60, utc(2030, 1, 1, 0, 0, 30), utc(2030, 1, 1, 3), utc(2030, 1, 1, 1), utc(2030, 1, 1, 2)),
        (60, utc(2030, 1, 1, 0, 1), utc(2030, 1, 1, 0, 1, 59), None, None),  # none between
        (3600, utc(2029, 1, 1), utc(2029, 6, 1), None, None),  # all before the anchor
    ],
)
def test_span_counts_an_interval_by_arithmetic_as_fires_would_list_it(
    seconds: float, after: datetime, until: datetime, start_at: datetime | None, end_at: datetime | None
) -> None:
    schedule = IntervalSchedule(seconds=seconds, anchor=utc(2030, 1, 1))
    listed = fires(schedule, after, until, start_at=start_at, end_at=end_at)
    found = span(schedule, after, until, start_at=start_at, end_at=end_at)
    assert found.count == len(listed)
    assert (found.first, found.last) == ((listed[0].at, listed[-1].at) if listed else (None, None))


def _walked(schedule: CronSchedule, after: datetime, until: datetime) -> tuple[int, datetime, datetime, list]:
    """(runs, first, last, skipped) by listing every fire time, a chunk at a time."""
    count, first, last, skipped, cursor = 0, None, None, [], after
    while found := fires(schedule, cursor, until, limit=50_000):
        runs = [f.at for f in found if f.skipped is None]
        skipped += [f.at for f in found if f.skipped]
        if not runs:
            break
        count, first, last, cursor = count + len(runs), first or runs[0], runs[-1], runs[-1]
    return count, first, last, skipped  # type: ignore[return-value]


@pytest.mark.parametrize(
    ("expression", "zone", "policy", "after", "until"),
    [
        ("* * * * *", "Europe/Berlin", {}, utc(2027, 1, 1, 0, 0, 30), utc(2028, 1, 1, 5, 7)),  # a year, by the minute
        (
            "*/15 * * * *",
            "America/New_York",
            {"dst_gap": "skip", "dst_fold": "both"},
            utc(2030, 3, 1),
            utc(2030, 12, 1),
        ),
        ("30 1,2 * * 1-5", "America/New_York", {"dst_fold": "last"}, utc(2030, 2, 1, 7), utc(2030, 11, 30)),
        ("0 0 L * *", "Pacific/Apia", {}, utc(2011, 1, 1), utc(2012, 3, 1)),  # Apia skipped 30 December 2011
        ("*/10 0 * * *", "America/Santiago", {"dst_gap": "skip"}, utc(2029, 1, 1), utc(2030, 12, 31)),  # midnight DST
        ("10 * * * * *", "UTC", {}, utc(2030, 1, 1, 0, 0, 10), utc(2030, 1, 1, 0, 3, 10)),  # ends exactly on fires
    ],
)
def test_span_counts_a_cron_line_day_by_day_as_listing_every_fire_time_would(
    expression: str, zone: str, policy: dict, after: datetime, until: datetime
) -> None:
    schedule = cron_in(expression, zone, **policy)
    found = span(schedule, after, until)
    assert (found.count, found.first, found.last, [f.at for f in found.skipped]) == _walked(schedule, after, until)
