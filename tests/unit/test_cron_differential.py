"""Our cron evaluator against cronsim, an independent one, on generated expressions and start times.

Only naive wall-time matching is compared here (cronsim's own DST handling is not ours: the DST policies are
checked against zoneinfo in test_dst_oracle.py). Where the two may legitimately differ, we follow Vixie cron
and cronie, as cron users expect, and so does cronsim:

- day of month and day of week: when both are restricted a day matching either fires (the OR rule); a field
  that starts with `*` (`*`, `*/2`) counts as unrestricted, so `0 0 */2 * MON` fires on odd days that are
  Mondays (Vixie's DOM_STAR/DOW_STAR flags; cronsim's `day_and`).
- what cronsim lacks is not generated: `?` (Quartz's "any", in the day fields) has fixed cases in
  test_timing.py, `L-n` and `nW` are checked below against a day-by-day reference, and the @macros are
  compared through their expansion.
- a line that matches no time: cronsim refuses `0 0 30 2 *` when it parses; we parse it and find no fire
  time, and the API refuses it (422 schedule_never_fires). cronsim gives up after 50 years without a match;
  we search a whole 400-year calendar cycle, so the reference restarts it until it has too (`theirs`).
- what each refuses: the same lines, but for our extensions (and a named weekday before `L`, `FRIL`, which
  Quartz reads too) and a step after `L` or `LW`, which cronsim ignores and we refuse. Everything we refuse
  is a CronError (the API's 422 invalid_cron naming schedule.cron), never another exception (a 500).
"""

from __future__ import annotations

import calendar
import itertools
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from cronsim import CronSim, CronSimError
from hypothesis import given, settings
from hypothesis import strategies as st

from app.scheduling import cron

#: Fire times compared per example.
FIRES = 6
MONTH_NAMES = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
DAY_NAMES = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]
EXAMPLES = settings(max_examples=400, derandomize=True, database=None, deadline=None)


@st.composite
def term(draw: st.DrawFn, low: int, high: int, names: list[str] | None = None) -> str:
    """One list item: `*`, `*/s`, `a`, `a/s`, `a-b`, `a-b/s`; months and weekdays sometimes by name."""
    kind = draw(st.sampled_from(["*", "*/{s}", "{a}", "{a}", "{a}/{s}", "{a}-{b}", "{a}-{b}/{s}"]))
    step = str(draw(st.integers(1, high - low + 2)))
    a = draw(st.integers(low, high))
    b = draw(st.integers(a, high))

    def spelled(value: int) -> str:
        if names and value - low < len(names) and draw(st.booleans()):  # weekday 7 has no name (SUN is 0)
            name = names[value - low]
            return name.lower() if draw(st.booleans()) else name
        return str(value)

    return kind.format(a=spelled(a), b=spelled(b), s=step)


def field(items: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.lists(items, min_size=1, max_size=3).map(",".join)


DAY_TERMS = term(1, 31) | st.sampled_from(["L", "LW", "1", "15", "28", "29", "30", "31"])
WEEKDAY_TERMS = (
    term(0, 7, DAY_NAMES)
    | st.builds("{}#{}".format, st.sampled_from([*map(str, range(8)), *DAY_NAMES]), st.integers(1, 5))
    | st.integers(0, 7).map("{}L".format)
)
FIELDS = [
    field(term(0, 59) | st.sampled_from(["0", "*/15", "30"])),
    field(term(0, 23) | st.sampled_from(["0", "2", "23"])),
    st.just("*") | field(DAY_TERMS),
    st.just("*") | field(term(1, 12, MONTH_NAMES)),
    st.just("*") | field(WEEKDAY_TERMS),
]
#: A 5-field line, or a 6-field one with seconds first, in the grammar both evaluators share.
expressions = st.builds(
    lambda seconds, fields: " ".join([*seconds, *fields]),
    st.lists(field(term(0, 59)), max_size=1),
    st.tuples(*FIELDS),
)


SPECIAL_STARTS = [
    datetime(2024, 2, 28, 23, 59, 59),
    datetime(2024, 2, 29, 0, 0),
    datetime(2024, 2, 29, 23, 59, 30),
    datetime(2025, 2, 28, 23, 59),
    datetime(2025, 12, 31, 23, 59, 59),
    datetime(2026, 1, 31, 23, 59),
    datetime(2026, 4, 30, 12, 0),
    datetime(2027, 12, 31, 0, 0),
    datetime(2028, 2, 29, 12, 0, 1),
    datetime(2099, 12, 31, 23, 59, 59),
    datetime(2096, 2, 29, 0, 0),  # 2100 is no leap year: the next 29 February is in 2104
    datetime(2097, 3, 1, 0, 0),
]
starts = st.sampled_from(SPECIAL_STARTS) | st.datetimes(datetime(2000, 1, 1), datetime(2100, 12, 31))


def ours(expression: str, start: datetime) -> list[datetime]:
    parsed, found, cursor = cron.parse(expression), [], start
    while len(found) < FIRES and (cursor := parsed.next_after(cursor)) is not None:
        found.append(cursor)
    return found


def theirs(expression: str, start: datetime) -> list[datetime]:
    """cronsim's fire times, restarted where it gives up (50 years without a match) until a whole calendar cycle
    is searched; none when it refuses a line that can never match."""
    found: list[datetime] = []
    cursor = start
    while cursor.year <= start.year + cron.CYCLE_YEARS:
        try:
            evaluator = CronSim(expression, cursor)
        except CronSimError:
            return []
        for when in evaluator:
            found.append(when)
            if len(found) == FIRES:
                return found
        # it gave up: nothing after the last match (or the start) until the end of that year + 50
        cursor = datetime((found[-1] if found else cursor).year + 49, 12, 31, 23, 59, 59)
    return found


@EXAMPLES
@given(expression=expressions, start=starts)
def test_the_next_fire_times_agree_with_cronsim(expression: str, start: datetime) -> None:
    assert ours(expression, start) == theirs(expression, start)


def test_macros_are_their_expansions() -> None:
    for macro, start in itertools.product(cron.MACROS, SPECIAL_STARTS):
        assert ours(macro.upper(), start) == theirs(cron.MACROS[macro], start)


def test_a_line_cronsim_refuses_as_never_matching_never_fires_here() -> None:
    for line in ["0 0 30 2 *", "0 0 31 4,6,9,11 *", "0 0 31 2 *"]:
        try:
            CronSim(line, datetime(2026, 1, 1))
        except CronSimError:
            pass
        else:  # pragma: no cover - the premise of the test
            raise AssertionError(f"cronsim accepted {line!r}")
        assert cron.parse(line).next_after(datetime(2026, 1, 1)) is None


def test_start_times_at_the_ends_of_months_and_years_roll_over() -> None:
    """A few fixed cases of the above, readable: Feb 29 and Dec 31 roll into the next month and year."""
    cases = {
        ("0 0 * * *", datetime(2024, 2, 29, 0, 0)): datetime(2024, 3, 1),
        ("59 23 L * *", datetime(2024, 2, 29, 23, 59)): datetime(2024, 3, 31, 23, 59),
        ("* * * * * *", datetime(2025, 12, 31, 23, 59, 59)): datetime(2026, 1, 1),
    }
    for (expression, start), expected in cases.items():
        assert ours(expression, start)[0] == expected == theirs(expression, start)[0]
        assert ours(expression, start)[1] - expected <= timedelta(days=31)


def nearest_weekday(year: int, month: int, day: int) -> int | None:
    """Quartz's `nW` said another way: the Monday-to-Friday date of the month closest to `day`; none when the
    month is shorter than `day`."""
    last = calendar.monthrange(year, month)[1]
    if day > last:
        return None
    weekdays = [d for d in range(1, last + 1) if calendar.weekday(year, month, d) < 5]
    return min(weekdays, key=lambda d: (abs(d - day), d))


def test_last_day_offsets_and_nearest_weekdays_match_a_day_by_day_reference() -> None:
    months = [(year, month) for year in range(2000, 2020) for month in range(1, 13)]
    rules: dict[str, Callable[[int, int], int | None]] = {
        "LW": lambda y, m: nearest_weekday(y, m, calendar.monthrange(y, m)[1]),
        **{f"L-{n}": (lambda y, m, n=n: calendar.monthrange(y, m)[1] - n) for n in (0, 1, 2, 27, 28, 30)},
        **{f"{n}W": (lambda y, m, n=n: nearest_weekday(y, m, n)) for n in (1, 2, 3, 15, 28, 29, 30, 31)},
    }
    for rule, day_of in rules.items():
        expected = [datetime(y, m, d) for y, m in months if (d := day_of(y, m)) is not None and d > 0]
        got = ours_until(f"0 0 {rule} * *", datetime(1999, 12, 31), datetime(2020, 1, 1))
        assert got == expected, rule


def ours_until(expression: str, start: datetime, end: datetime) -> list[datetime]:
    parsed, found, cursor = cron.parse(expression), [], start
    while (cursor := parsed.next_after(cursor)) is not None and cursor < end:
        found.append(cursor)
    return found


#: Pieces of cron text, valid and not, for lines both parsers must judge alike (Unicode digits included:
#: Python's int() reads them, cron does not).
PIECES = ["0", "1", "5", "7", "12", "31", "59", "60", "*", "?", "L", "W", "LW", "#", "-", "/", ",", "FRI", "jan", "+"]
PIECES += ["_", "\u00b2", "\u0661"]
soup_field = st.lists(st.sampled_from(PIECES), min_size=1, max_size=4).map("".join)


@st.composite
def near_misses(draw: st.DrawFn) -> str:
    """A valid line with one field replaced by, or run on with, a few pieces."""
    fields = draw(expressions).split()
    index, piece = draw(st.integers(0, len(fields) - 1)), draw(soup_field)
    fields[index] = piece if draw(st.booleans()) else fields[index] + piece
    return " ".join(fields)


def our_extension(expression: str) -> bool:
    """Ours alone, on purpose: the macros, `?` in a day field, `L-n`, `nW` (Quartz), a named weekday before `L`."""
    if expression.strip().lower() in cron.MACROS:
        return True
    fields = expression.split()
    days, weekdays = (fields[2], fields[4]) if len(fields) == 5 else (fields[3], fields[5])
    terms = days.upper().split(",")
    return (
        "?" in days + weekdays
        or any(t.startswith("L-") or (t.endswith("W") and t[:-1].isdigit()) for t in terms)
        or any(t.endswith("L") and not t[:-1].isdigit() for t in weekdays.upper().split(","))
    )


@settings(EXAMPLES, max_examples=200)
@given(expression=near_misses() | st.text(max_size=30).map(lambda t: f"0 0 {t} * *"))
def test_we_accept_what_cronsim_accepts_and_refuse_the_rest_as_cron_errors(expression: str) -> None:
    try:
        cron.parse(expression)
        accepted = True
    except cron.CronError:  # anything else escaping would be a 500
        accepted = False
    try:
        CronSim(expression, datetime(2026, 1, 1))
        theirs_accepted = True
    except CronSimError as exc:
        theirs_accepted = False
        never = str(exc) == "Bad day-of-month"  # cronsim refuses a day no month has; we say so at the API (422)
    if accepted and not theirs_accepted:
        assert our_extension(expression) or (never and ours(expression, datetime(2026, 1, 1)) == []), expression
    if theirs_accepted and not accepted:
        # cronsim takes a step after L or LW and ignores it (`L/2`); we refuse it rather than guess
        assert "L/" in expression.upper() or "LW/" in expression.upper(), expression


@pytest.mark.parametrize(
    ("expression", "start", "expected"),
    [
        ("0 0 29 2 *", datetime(2097, 3, 1), datetime(2104, 2, 29)),  # 2100 is no leap year
        ("0 0 29 2 *", datetime(2096, 2, 29), datetime(2104, 2, 29)),  # eight years to the day
        ("0 0 * 2 1#5", datetime(2026, 1, 1), datetime(2044, 2, 29)),  # a fifth Monday in February: 18 years
        ("0 0 * 2 1#5", datetime(2072, 3, 1), datetime(2112, 2, 29)),  # ... and across 2100, 40 years
        ("0 0 */28 2 1#5", datetime(2072, 3, 1), datetime(2112, 2, 29)),
        ("0 0 */30 2 5#5", datetime(2026, 1, 1), None),  # 1 February, a fifth Friday: never (cronsim accepts it)
        ("0 0 31 2,4,6,9,11 *", datetime(2026, 1, 1), None),
    ],
)
def test_a_line_matching_rarely_is_found_however_far_and_one_matching_never_is_none(
    expression: str, start: datetime, expected: datetime | None
) -> None:
    """Gave up after 8 years: `0 0 * 2 1#5` was refused as never firing, and from 2097 a leap-day line too."""
    assert cron.parse(expression).next_after(start) == expected
    assert theirs(expression, start)[:1] == ([expected] if expected else [])


def test_a_search_over_a_whole_cycle_takes_one_step_per_month_at_most(monkeypatch: pytest.MonkeyPatch) -> None:
    """The work a search may do is bounded by the cycle, not by hope: a line that never matches looks at each
    allowed month of 400 years once, and each month's days come from a table of at most 28 month shapes."""
    looked: list[tuple[int, int]] = []
    days_of = cron.Cron.days_of
    monkeypatch.setattr(cron.Cron, "days_of", lambda self, y, m: looked.append((y, m)) or days_of(self, y, m))
    for line in ["0 0 */30 2 5#5", "* * 31 2,4,6,9,11 *", "* * * 30 2 *", "0 0 L-30 2 *"]:
        looked.clear()
        parsed = cron.parse(line)
        assert parsed.next_after(datetime(2026, 1, 1)) is None
        assert len(looked) == len(set(looked)) <= 12 * (cron.CYCLE_YEARS + 1)
        assert len(parsed._days) <= 28
