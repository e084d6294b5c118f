"""Fire times of a schedule: cron (DST-aware, per-deployment policy), interval, once. Pure functions of time.

A cron expression names local wall times. Each becomes a UTC instant:
- a wall time that does not exist (spring forward) is `shift`ed forward by the
  jump (02:30 → 03:30: read at the offset before it, as java.time and Quartz do;
  Vixie cron runs it at 03:00), or `skip`ped (reported as dst_skipped);
- a wall time that happens twice (fall back) fires on the `first`, the `last`,
  or `both` instants.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from app.scheduling import cron
from app.scheduling.policies import DstFold, DstGap

#: Zones without daylight saving time: a wall time is the instant.
FIXED_UTC = frozenset({"UTC", "Etc/UTC", "Etc/UCT", "Etc/Universal", "Etc/Zulu", "Etc/GMT", "GMT", "Zulu", "UCT"})
#: Most fire times one call returns (bounds the work of a catch-up or a preview).
MAX_FIRES = 100_000
#: Most missed fire times of one outcome recorded one row each; more are one occurrence row for the range.
MAX_SINGLE_MISSED = 100
#: The longest jump a zone's clock has made (Pacific/Apia and Kwajalein skipped a whole day), with room to spare.
MAX_JUMP = timedelta(hours=25)
#: How often a window's offsets are sampled: a zone keeps one for months, never changing twice in 6 hours.
OFFSET_PROBE = timedelta(hours=6)
#: More than the widest difference of two UTC offsets (UTC-12 to UTC+14).
OFFSET_SPREAD = timedelta(hours=27)
#: From this instant on every zone's clock follows a yearly rule (the TZif footer: tzdata lists its one-off
#: transitions no later; Morocco's, the furthest, end in 2087), which repeats with the calendar's cycle.
RULES_SETTLED = datetime(2100, 1, 1, tzinfo=UTC)
#: One calendar cycle as a duration (cron.CYCLE_YEARS of 365.2425 days), and the last instant there is.
_CYCLE = timedelta(days=146_097 * cron.CYCLE_YEARS // 400)
#: The smallest step of a datetime.
_TICK = timedelta(microseconds=1)
_LAST = datetime.max.replace(tzinfo=UTC) - OFFSET_SPREAD


@dataclass(frozen=True, kw_only=True)
class Fire:
    """One fire time; `skipped` carries the reason when the schedule itself drops it (DST)."""

    at: datetime
    skipped: str | None = None


@dataclass(frozen=True, kw_only=True)
class CronSchedule:
    expression: cron.Cron
    timezone: ZoneInfo
    dst_gap: DstGap = DstGap.SHIFT
    dst_fold: DstFold = DstFold.FIRST


@dataclass(frozen=True, kw_only=True)
class IntervalSchedule:
    seconds: float
    anchor: datetime


@dataclass(frozen=True, kw_only=True)
class OnceSchedule:
    at: datetime


Schedule = CronSchedule | IntervalSchedule | OnceSchedule


def fires(
    schedule: Schedule,
    after: datetime,
    until: datetime,
    *,
    start_at: datetime | None = None,
    end_at: datetime | None = None,
    limit: int = MAX_FIRES,
) -> list[Fire]:
    """Fire times in (after, until], oldest first, within [start_at, end_at]: at most `limit` that run, with the
    DST-skipped ones among them."""
    low, high = _bounds(after, until, start_at, end_at)
    if high <= low:
        return []
    if isinstance(schedule, OnceSchedule):
        return [Fire(at=schedule.at)] if low < schedule.at <= high else []
    if isinstance(schedule, IntervalSchedule):
        return _interval(schedule, low, high, limit)
    return _cron(schedule, low, high, limit)


@dataclass(frozen=True, kw_only=True)
class Span:
    """The fire times in (after, until] that run: how many, the first and the last; the DST-skipped ones among them."""

    count: int
    first: datetime | None
    last: datetime | None
    skipped: list[Fire]


def _bounds(
    after: datetime, until: datetime, start_at: datetime | None, end_at: datetime | None
) -> tuple[datetime, datetime]:
    """(after, until] narrowed to the window [start_at, end_at], as (low, high]."""
    low = max(after, start_at - _TICK) if start_at else after
    return low, min(until, end_at) if end_at else until


def span(
    schedule: Schedule,
    after: datetime,
    until: datetime,
    *,
    start_at: datetime | None = None,
    end_at: datetime | None = None,
) -> Span:
    """Fire times in (after, until] within [start_at, end_at], counted without listing them all.

    An interval's by arithmetic; a cron line's day by day: a local day whose UTC offset holds all day and that lies
    wholly in the span counts its matching wall times (hours x minutes x seconds); the days at the ends and those
    the clock changes on are listed (fires). The work grows with the days spanned, not with the fire times.
    """
    low, high = _bounds(after, until, start_at, end_at)
    if high <= low:
        return Span(count=0, first=None, last=None, skipped=[])
    if isinstance(schedule, IntervalSchedule):
        step = timedelta(seconds=schedule.seconds)
        first = 0 if low < schedule.anchor else (low - schedule.anchor) // step + 1
        last = (high - schedule.anchor) // step if high >= schedule.anchor else -1
        if last < first:
            return Span(count=0, first=None, last=None, skipped=[])
        return Span(
            count=last - first + 1, first=schedule.anchor + step * first, last=schedule.anchor + step * last, skipped=[]
        )
    if isinstance(schedule, OnceSchedule):
        at = [schedule.at] if low < schedule.at <= high else []
        return Span(count=len(at), first=at[0] if at else None, last=at[0] if at else None, skipped=[])
    return _cron_span(schedule, low, high)


def _cron_span(schedule: CronSchedule, low: datetime, high: datetime) -> Span:
    expression, zone = schedule.expression, schedule.timezone
    per_day = (
        len(expression.hours) * len(expression.minutes) * (len(expression.seconds) if expression.has_seconds else 1)
    )
    second = (lambda k: expression.seconds[k]) if expression.has_seconds else (lambda k: 0)
    earliest = timedelta(hours=expression.hours[0], minutes=expression.minutes[0], seconds=second(0))
    latest = timedelta(hours=expression.hours[-1], minutes=expression.minutes[-1], seconds=second(-1))
    count, runs, skipped = 0, [], []
    day = low.astimezone(zone).date() - timedelta(days=1)
    while True:
        start = datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC)
        if start > high:
            break
        nxt = day + timedelta(days=1)
        end = datetime(nxt.year, nxt.month, nxt.day, tzinfo=zone).astimezone(UTC)  # the day's instants: [start, end)
        offsets = {(start + OFFSET_PROBE * k).astimezone(zone).utcoffset() for k in range(4)}
        # and the offset just before: a day whose midnight the clock jumped over starts at the jump
        offsets |= {
            (end - timedelta(seconds=1)).astimezone(zone).utcoffset(),
            (start - _TICK).astimezone(zone).utcoffset(),
        }
        if low < start and end - timedelta(microseconds=1) <= high and len(offsets) == 1:
            if day.month in expression.months and day.day in expression.days_of(day.year, day.month):
                count += per_day
                runs += [start + earliest, start + latest]
        elif end > low:
            for fire in fires(
                schedule, max(low, start - timedelta(microseconds=1)), min(high, end - timedelta(microseconds=1))
            ):
                if fire.skipped is None:
                    count += 1
                    runs.append(fire.at)
                else:
                    skipped.append(fire)
        day = nxt
    return Span(count=count, first=min(runs, default=None), last=max(runs, default=None), skipped=skipped)


def next_fire(
    schedule: Schedule, after: datetime, *, start_at: datetime | None = None, end_at: datetime | None = None
) -> datetime | None:
    """The first fire time after `after` that actually fires (skipped ones are passed over); None: there is none.

    Exact, with bounded work: an interval or a once schedule is arithmetic; a cron line jumps from wall time to
    matching wall time (cron.next_after, exact over a calendar cycle) and stops at SEARCH_CYCLE past the year
    every zone's rules have settled, after which both the calendar and the rules repeat.
    """
    low = max(after, start_at - timedelta(microseconds=1)) if start_at else after
    if not isinstance(schedule, CronSchedule):
        found = fires(schedule, low, end_at or _LAST, end_at=end_at, limit=1)
        return found[0].at if found else None
    horizon = _cycle_after(max(low, RULES_SETTLED))
    cursor = _naive(low) - OFFSET_SPREAD  # a wall time before this cannot fire after `low`
    while low < horizon and (end_at is None or low < end_at):
        wall = schedule.expression.next_after(cursor)
        if wall is None or wall.replace(tzinfo=UTC) - OFFSET_SPREAD >= horizon:
            return None
        gap_end = _skipped_until(wall, schedule)
        if gap_end is not None:  # every wall time from here to the end of the clock's jump is skipped
            cursor = gap_end - timedelta(microseconds=1)
            continue
        # no fire time comes before the instant of this wall time read at the largest offset; it falls in the window
        low = max(low, wall.replace(tzinfo=UTC) - OFFSET_SPREAD)
        # A few candidates are enough: wall-time order equals instant order except inside a repeated hour,
        # where each wall time gives at most two instants.
        for fire in fires(
            schedule, low, min(low + 2 * OFFSET_SPREAD, horizon), start_at=start_at, end_at=end_at, limit=4
        ):
            if fire.skipped is None:
                return fire.at
        low += 2 * OFFSET_SPREAD
        cursor = _naive(low) - OFFSET_SPREAD
    return None


def _naive(instant: datetime) -> datetime:
    return instant.astimezone(UTC).replace(tzinfo=None)


def _skipped_until(wall: datetime, schedule: CronSchedule) -> datetime | None:
    """When the DST policy skips `wall` (the clock jumped over it), the wall time the jump lands on; else None.

    The jump's instant lies between `wall` read at the offset after it and at the offset before it; it is found
    by halving that span to the second (zones change offset on whole seconds), some 17 steps for a day.
    """
    zone = schedule.timezone
    if schedule.dst_gap != "skip" or zone.key in FIXED_UTC:
        return None
    before, after = wall.replace(tzinfo=zone, fold=0).utcoffset(), wall.replace(tzinfo=zone, fold=1).utcoffset()
    if before is None or after is None or after <= before:  # no jump forward here: the wall time exists
        return None
    if wall.replace(tzinfo=zone, fold=0).astimezone(UTC).astimezone(zone).replace(tzinfo=None) == wall:
        return None
    low, high = (wall - after).replace(tzinfo=UTC), (wall - before).replace(tzinfo=UTC)  # old offset; new offset
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) // 2
        if middle.astimezone(zone).utcoffset() == after:
            high = middle
        else:
            low = middle
    return _naive(high) + after


def _cycle_after(when: datetime) -> datetime:
    """`when` one calendar cycle (cron.CYCLE_YEARS) later, or the last instant there is."""
    return when + (_LAST - when if when.year + cron.CYCLE_YEARS > _LAST.year else _CYCLE)


def upcoming(
    schedule: Schedule, after: datetime, count: int, *, start_at: datetime | None = None, end_at: datetime | None = None
) -> list[datetime]:
    """The next `count` fire times after `after`."""
    found: list[datetime] = []
    cursor = after
    while len(found) < count:
        nxt = next_fire(schedule, cursor, start_at=start_at, end_at=end_at)
        if nxt is None:
            break
        found.append(nxt)
        cursor = nxt
    return found


def _interval(schedule: IntervalSchedule, low: datetime, high: datetime, limit: int) -> list[Fire]:
    step = timedelta(seconds=schedule.seconds)
    # exact integer division: a float quotient rounds up across long spans and a fire time just after `low` was lost
    k = 0 if low < schedule.anchor else (low - schedule.anchor) // step + 1
    out = []
    at = schedule.anchor + step * k
    while at <= high and len(out) < limit:
        out.append(Fire(at=at))
        k += 1
        at = schedule.anchor + step * k
    return out


def _cron(schedule: CronSchedule, low: datetime, high: datetime, limit: int) -> list[Fire]:
    if limit < 1:
        return []
    local, end_local, most = _wall_span(schedule.timezone, low, high)
    local -= timedelta(seconds=1)
    seen: dict[datetime, Fire] = {}
    # `limit` counts the fire times that run (skipped ones must not hide the next run: next_fire asks for 4), oldest
    # first. Wall order is not instant order in a repeated hour, so once `limit` runs are found the walk goes on
    # while a wall time could still give an earlier instant: none later than `bound` + the most offset can.
    bound: datetime | None = None
    runs = 0
    while (nxt := schedule.expression.next_after(local, end_local)) is not None:
        if bound is not None and (nxt - most).replace(tzinfo=UTC) > bound:
            break
        local = nxt
        for fire in _instants(nxt, schedule):
            # One fire per instant. A skipped wall time is recorded at the instant it would shift to, which may be
            # a real fire time (02:15 skipped → 03:15 EDT): the real one wins, whichever comes first.
            if low < fire.at <= high and (fire.at not in seen or (seen[fire.at].skipped and not fire.skipped)):
                seen[fire.at] = fire
                runs += fire.skipped is None
        if bound is None and runs >= limit:
            bound = _nth_run(seen, limit)
    found = sorted(seen.values(), key=lambda f: f.at)
    last = _nth_run(seen, limit)
    return found if last is None else [f for f in found if f.at <= last]


def _nth_run(seen: dict[datetime, Fire], limit: int) -> datetime | None:
    """The instant of the `limit`-th fire time that runs, if there are that many."""
    runs = [at for at, fire in seen.items() if fire.skipped is None]
    return sorted(runs)[limit - 1] if 0 < limit <= len(runs) else None


def _wall_span(zone: ZoneInfo, low: datetime, high: datetime) -> tuple[datetime, datetime, timedelta]:
    """The local wall times whose instants may fall in (low, high], and the most offset among them.

    A wall time is its instant plus the offset then, or, for one the clock jumped over, plus the offset before
    the jump, which may be up to a day earlier (Apia skipped 2011-12-30): so the span is (low, high] moved by
    the least and the most offset in force from MAX_JUMP before `low` until `high`, sampled every OFFSET_PROBE.
    Only the offsets within a day or so of either end can set the span's ends (offsets differ by 26 h at most).
    """
    first, last = low.astimezone(UTC).replace(tzinfo=None), high.astimezone(UTC).replace(tzinfo=None)
    if zone.key in FIXED_UTC:
        return first, last, timedelta(0)
    offsets = {high.astimezone(zone).utcoffset() or timedelta(0)}
    for start, stop in ((low - MAX_JUMP, min(high, low + OFFSET_SPREAD)), (max(low, high - OFFSET_SPREAD), high)):
        while start < stop:
            offsets.add(start.astimezone(zone).utcoffset() or timedelta(0))
            start += OFFSET_PROBE
    return first + min(offsets), last + max(offsets), max(offsets)


def _instants(wall: datetime, schedule: CronSchedule) -> list[Fire]:
    """The UTC instant(s) of a local wall time under the DST policy."""
    zone = schedule.timezone
    if zone.key in FIXED_UTC:
        return [Fire(at=wall.replace(tzinfo=UTC))]
    first = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    last = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    if first.astimezone(zone).replace(tzinfo=None) != wall:  # does not exist: the clock jumped over it
        return [Fire(at=first, skipped="dst_skipped" if schedule.dst_gap == "skip" else None)]
    if first == last:
        return [Fire(at=first)]
    if schedule.dst_fold == "first":
        return [Fire(at=first)]
    if schedule.dst_fold == "last":
        return [Fire(at=last)]
    return [Fire(at=first), Fire(at=last)]
