"""Cron expressions: parse 5 fields (or 6, seconds first) and find the next matching local wall time.

Pure and time-zone free: it works on naive local datetimes; `app.scheduling.timing`
turns them into UTC instants under a deployment's DST policy.

Beyond plain cron, as in Quartz and cronsim: day of month `L` (the last day),
`L-3` (three days before it), `LW` (the last weekday), `15W` (the weekday
nearest the 15th, within the month); day of week `5L` (the last Friday) and
`5#3` (the third Friday).
"""

from __future__ import annotations

import bisect
import calendar
import functools
from dataclasses import dataclass, field
from datetime import datetime, timedelta

MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
MONTHS = {name: i for i, name in enumerate(calendar.month_abbr) if name}
WEEKDAYS = {"SUN": 0, "MON": 1, "TUE": 2, "WED": 3, "THU": 4, "FRI": 5, "SAT": 6}
#: The Gregorian calendar repeats every 400 years (146,097 days, exactly 20,871 weeks): every day rule (a day of the
#: month, a weekday, L, W, #) picks the same days again 400 years on. So a line that matches no time in one such
#: cycle matches none ever, and a search never needs to look further to be exact.
CYCLE_YEARS = 400


class CronError(ValueError):
    """The expression is not valid cron; the message says which field and why."""


@dataclass(frozen=True)
class DayRule:
    """A day of month that depends on the month: `L`, `L-n` (kind "last", n), `LW` ("last_weekday"), `nW`."""

    kind: str
    n: int = 0

    def day_in(self, first: int, last: int) -> int | None:
        """Its day in a month of `last` days whose 1st falls on weekday `first` (0 = Monday, as `calendar`)."""
        if self.kind == "last":
            return last - self.n if last - self.n >= 1 else None
        if self.kind == "last_weekday":
            return _nearest_weekday(first, last, last)
        return _nearest_weekday(first, self.n, last) if self.n <= last else None


@dataclass(frozen=True)
class WeekdayRule:
    """The `nth` given weekday of the month (0 = Sunday); nth -1 is the last one."""

    weekday: int
    nth: int

    def matches(self, day: int, weekday: int, last: int) -> bool:
        """Whether `day`, a `weekday` (0 = Sunday) of a month of `last` days, is this one."""
        if weekday != self.weekday:
            return False
        if self.nth == -1:
            return day + 7 > last
        return (day - 1) // 7 + 1 == self.nth


def _nearest_weekday(first: int, day: int, last: int) -> int:
    """The Monday-to-Friday day nearest `day`, not leaving the month (Quartz's `W`); `first`: the 1st's weekday."""
    weekday = (first + day - 1) % 7  # 5 = Saturday, 6 = Sunday
    if weekday == 5:
        return day - 1 if day > 1 else day + 2
    if weekday == 6:
        return day + 1 if day < last else day - 2
    return day


@functools.lru_cache(maxsize=8192)
def _month_shape(year: int, month: int) -> tuple[int, int]:
    """(the weekday of the 1st, 0 = Monday; the number of days): all that a month's matching days depend on."""
    return calendar.monthrange(year, month)


@dataclass(frozen=True)
class Cron:
    seconds: tuple[int, ...]
    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    days: tuple[int, ...]
    months: tuple[int, ...]
    weekdays: tuple[int, ...]  # 0 = Sunday
    day_restricted: bool
    weekday_restricted: bool
    has_seconds: bool
    day_rules: tuple[DayRule, ...] = ()
    weekday_rules: tuple[WeekdayRule, ...] = ()

    #: The matching days of a month, by its shape (_month_shape): 28 shapes at most, each worked out once.
    _days: dict[tuple[int, int], tuple[int, ...]] = field(default_factory=dict, compare=False, repr=False)
    #: Every day matches (the common `* *` days): no day needs looking up.
    _every_day: bool = field(default=False, init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        every = len(self.days) == 31 and len(self.weekdays) == 7 and not self.day_rules and not self.weekday_rules
        object.__setattr__(self, "_every_day", every)

    def days_of(self, year: int, month: int) -> tuple[int, ...]:
        """The days of the month that match, in order (the month field aside)."""
        shape = _month_shape(year, month)
        days = self._days.get(shape)
        if days is None:
            first, last = shape
            days = self._days[shape] = tuple(d for d in range(1, last + 1) if self._day_matches(d, first, last))
        return days

    def _day_matches(self, day: int, first: int, last: int) -> bool:
        """Vixie cron: if both day-of-month and day-of-week are restricted, either may match."""
        weekday = (first + day) % 7  # 0 = Sunday: the 1st is `first` days after a Monday
        day_ok = day in self.days or any(r.day_in(first, last) == day for r in self.day_rules)
        weekday_ok = weekday in self.weekdays or any(r.matches(day, weekday, last) for r in self.weekday_rules)
        if self.day_restricted and self.weekday_restricted:
            return day_ok or weekday_ok
        return day_ok and weekday_ok

    def next_after(self, after: datetime, until: datetime | None = None) -> datetime | None:
        """The first local wall time strictly after `after` that matches, if there is one up to `until`.

        Without `until` the search spans a whole calendar cycle (CYCLE_YEARS), so None is exact: nothing ever
        matches. Either way the work is bounded: each step moves to the next allowed month, day, hour, minute
        or second, a day's matching days come from a table (days_of), so a cycle takes at most some 12 * 400
        month steps and a few steps per matching day.
        """
        step = timedelta(seconds=1) if self.has_seconds else timedelta(minutes=1)
        when = (after.replace(microsecond=0) if self.has_seconds else after.replace(second=0, microsecond=0)) + step
        limit = _cycle_after(after) if until is None else until
        while when <= limit:
            if when.month not in self.months:
                nxt = _next_in(self.months, when.month)
                if nxt is None and when.year >= limit.year:
                    return None
                when = datetime(when.year + (nxt is None), nxt or self.months[0], 1)
                continue
            if not self._every_day and when.day not in (days := self.days_of(when.year, when.month)):
                index = bisect.bisect_right(days, when.day)
                if index < len(days):
                    when = datetime(when.year, when.month, days[index])
                elif when.month < 12:
                    when = datetime(when.year, when.month + 1, 1)
                elif when.year < limit.year:
                    when = datetime(when.year + 1, 1, 1)
                else:
                    return None
                continue
            if when.hour not in self.hours:
                nxt = _next_in(self.hours, when.hour)
                when = datetime(when.year, when.month, when.day) + (
                    timedelta(hours=nxt) if nxt is not None else timedelta(days=1)
                )
                continue
            if when.minute not in self.minutes:
                nxt = _next_in(self.minutes, when.minute)
                base = when.replace(minute=0, second=0)
                when = base + (timedelta(minutes=nxt) if nxt is not None else timedelta(hours=1))
                continue
            if when.second not in self.seconds:
                nxt = _next_in(self.seconds, when.second)
                base = when.replace(second=0)
                when = base + (timedelta(seconds=nxt) if nxt is not None else timedelta(minutes=1))
                continue
            return when
        return None


def _cycle_after(when: datetime) -> datetime:
    """`when` one calendar cycle later (a 29 February stays one), or the last datetime there is."""
    if when.year + CYCLE_YEARS > datetime.max.year:
        return datetime.max
    return when.replace(year=when.year + CYCLE_YEARS)


def _next_in(values: tuple[int, ...], current: int) -> int | None:
    """The smallest allowed value above `current`, if any."""
    index = bisect.bisect_right(values, current)
    return values[index] if index < len(values) else None


@functools.lru_cache(maxsize=4096)
def parse(expression: str) -> Cron:
    """Parse `expression` (5 fields, 6 with seconds first, or a macro such as @daily)."""
    text = MACROS.get(expression.strip().lower(), expression.strip())
    fields = text.split()
    if len(fields) not in (5, 6):
        raise CronError(f"expected 5 fields (minute hour day month weekday) or 6 with seconds, got {len(fields)}")
    has_seconds = len(fields) == 6
    if not has_seconds:
        fields = ["0", *fields]
    names = ["second", "minute", "hour", "day of month", "month", "day of week"]
    ranges = [(0, 59), (0, 59), (0, 23), (1, 31), (1, 12), (0, 7)]
    aliases = [{}, {}, {}, {}, {k.upper(): v for k, v in MONTHS.items()}, WEEKDAYS]
    # Vixie cron and cronie: a day field that starts with `*` (`*`, `*/2`) leaves the day to the other field;
    # only when neither does may either match (the OR rule). `?` is Quartz's spelling of `*`.
    day_restricted, weekday_restricted = (not fields[i].startswith(("*", "?")) for i in (3, 5))
    plain_days, day_rules = _day_rules(fields[3])
    plain_weekdays, weekday_rules = _weekday_rules(fields[5], aliases[5])
    fields = [*fields[:3], plain_days, fields[4], plain_weekdays]
    parsed = [_field(f, n, r, a) if f else () for f, n, r, a in zip(fields, names, ranges, aliases, strict=True)]
    weekdays = tuple(sorted({0 if d == 7 else d for d in parsed[5]}))
    return Cron(
        seconds=parsed[0],
        minutes=parsed[1],
        hours=parsed[2],
        days=parsed[3],
        months=parsed[4],
        weekdays=weekdays,
        day_restricted=day_restricted,
        weekday_restricted=weekday_restricted,
        has_seconds=has_seconds,
        day_rules=day_rules,
        weekday_rules=weekday_rules,
    )


def _day_rules(text: str) -> tuple[str, tuple[DayRule, ...]]:
    """The day-of-month field split into its plain terms (as text) and its `L`/`W` terms."""
    plain, rules = [], []
    for part in _items(text.upper(), "day of month"):
        if part == "L":
            rules.append(DayRule("last"))
        elif part.startswith("L-"):
            rules.append(DayRule("last", _bounded(part[2:], "day of month: L-", 0, 30)))
        elif part == "LW":
            rules.append(DayRule("last_weekday"))
        elif part.endswith("W") and part[:-1].isdigit():  # any digits: _bounded refuses what cron does not read
            rules.append(DayRule("weekday", _bounded(part[:-1], "day of month: W after", 1, 31)))
        else:
            plain.append(part)
    return ",".join(plain), tuple(rules)


def _weekday_rules(text: str, aliases: dict[str, int]) -> tuple[str, tuple[WeekdayRule, ...]]:
    """The day-of-week field split into its plain terms (as text) and its `5L`/`5#3` terms."""
    plain, rules = [], []
    for part in _items(text.upper(), "day of week"):
        day, hash_, nth = part.partition("#")
        if hash_:
            weekday = _value(day, "day of week", (0, 7), aliases) % 7
            rules.append(WeekdayRule(weekday, _bounded(nth, "day of week: # of", 1, 5)))
        elif len(part) > 1 and part.endswith("L"):
            rules.append(WeekdayRule(_value(part[:-1], "day of week", (0, 7), aliases) % 7, -1))
        else:
            plain.append(part)
    return ",".join(plain), tuple(rules)


def _items(text: str, name: str) -> list[str]:
    """A field's comma-separated items; an empty one (`1,,2`, `L,`) is a typo, not nothing."""
    items = text.split(",")
    if "" in items:
        raise CronError(f"{name}: an empty item in the list {text!r}")
    return items


def _digits(token: str) -> int | None:
    """`token` as a number when it is ASCII digits only: int() would also take `+5`, `1_0` and other scripts' digits."""
    return int(token) if token.isascii() and token.isdigit() else None


def _bounded(token: str, name: str, low: int, high: int) -> int:
    value = _digits(token)
    if value is None or not low <= value <= high:
        raise CronError(f"{name} {token!r} must be a number from {low} to {high}")
    return value


def _field(text: str, name: str, bounds: tuple[int, int], aliases: dict[str, int]) -> tuple[int, ...]:
    low, high = bounds
    values: set[int] = set()
    for part in _items(text, name):
        body, slash, step_text = part.partition("/")
        step = _digits(step_text) if slash else 1
        if step is None:
            raise CronError(f"{name}: step {step_text!r} is not a number")
        if step < 1:
            raise CronError(f"{name}: step must be at least 1")
        if body == "?" and name not in ("day of month", "day of week"):
            raise CronError(f"{name}: '?' is only for the day of month or the day of week")
        if body in ("*", "?"):
            start, end = low, high
        elif "-" in body:
            first, _, last = body.partition("-")
            start, end = _value(first, name, bounds, aliases), _value(last, name, bounds, aliases)
            if start > end:
                raise CronError(f"{name}: range {body!r} runs backwards")
        else:
            start = _value(body, name, bounds, aliases)
            end = high if step_text else start
        values.update(range(start, end + 1, step))
    if not values:
        raise CronError(f"{name}: no value")
    return tuple(sorted(values))


def _value(token: str, name: str, bounds: tuple[int, int], aliases: dict[str, int]) -> int:
    if token.upper() in aliases:
        return aliases[token.upper()]
    value = _digits(token)
    if value is None:
        raise CronError(f"{name}: {token!r} is not a number or a known name")
    if not bounds[0] <= value <= bounds[1]:
        raise CronError(f"{name}: {value} is outside {bounds[0]}-{bounds[1]}")
    return value
