"""The deployment document: schedule and policies, validated into app.scheduling.timing value objects."""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec

from app.core import display_text
from app.core.errors import InvalidInput
from app.core.ids import MAX_VERSION
from app.scheduling import cron, policies
from app.scheduling.timing import CronSchedule, IntervalSchedule, OnceSchedule, Schedule, next_fire

#: The times a deployment or a backfill may name: the fire-time maths looks years ahead and converts between
#: zones, which overflowed datetime near years 1 and 9999 (a 500 before).
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)
#: An interval's bounds: under a microsecond its step was 0 (division by zero); past a century anchor + step
#: overflowed datetime.
MIN_INTERVAL_SECONDS = 0.001
MAX_INTERVAL_SECONDS = 100 * 366 * 86_400
E = TypeVar("E", bound=StrEnum)


#: A deployment's or a backfill's time, as the document states the rule check_time enforces.
Time = Annotated[
    datetime,
    msgspec.Meta(
        description=f"ISO 8601 with a UTC offset, in the years {EARLIEST.year} to {LATEST.year - 1} "
        f"(from {EARLIEST.isoformat()} until {LATEST.isoformat()}, exclusive); 422 time_out_of_range otherwise"
    ),
]


class CronSpec(msgspec.Struct, tag_field="kind", tag="cron", kw_only=True, forbid_unknown_fields=True):
    cron: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    timezone: str = "UTC"


class IntervalSpec(msgspec.Struct, tag_field="kind", tag="interval", kw_only=True, forbid_unknown_fields=True):
    seconds: float
    #: Fire times are anchor + k * seconds; default: when the deployment was created (or start_at).
    anchor: Time | None = None


class OnceSpec(msgspec.Struct, tag_field="kind", tag="once", kw_only=True, forbid_unknown_fields=True):
    at: Time


ScheduleSpec = CronSpec | IntervalSpec | OnceSpec


# The bounded policy fields, for the create and the change schemas alike (defined in app.scheduling.policies).
MisfireGraceSeconds = policies.MisfireGraceSeconds
MaxCatchUp = policies.MaxCatchUp
MaxConcurrentRuns = policies.MaxConcurrentRuns
MaxRetries = policies.MaxRetries
RetryBackoffSeconds = policies.RetryBackoffSeconds
RetryBackoffMaxSeconds = policies.RetryBackoffMaxSeconds
RetryJitter = policies.RetryJitter
TimeoutSeconds = policies.TimeoutSeconds
Description = display_text.multi_line(2000)
PipelineVersion = Annotated[int, msgspec.Meta(ge=1, le=MAX_VERSION)]


def field_error(field: str, message: str, code: str = "invalid_schedule") -> InvalidInput:
    return InvalidInput(f"{field}: {message}", code=code, errors=[{"field": field, "message": message}])


def dst_policy(raw: dict[str, str] | None) -> tuple[policies.DstGap, policies.DstFold]:
    """(gap, fold) from `{"nonexistent": "shift"|"skip", "ambiguous": "first"|"last"|"both"}`."""
    raw = raw or {}
    unknown = set(raw) - {"nonexistent", "ambiguous"}
    if unknown:
        raise field_error("dst_policy", f"unknown key(s) {sorted(unknown)}; use nonexistent and ambiguous")
    return (
        _one_of(policies.DstGap, raw.get("nonexistent", policies.DstGap.SHIFT), "dst_policy.nonexistent"),
        _one_of(policies.DstFold, raw.get("ambiguous", policies.DstFold.FIRST), "dst_policy.ambiguous"),
    )


def _one_of(kind: type[E], value: str, field: str) -> E:
    try:
        return kind(value)
    except ValueError:
        raise field_error(field, f"must be {' or '.join(kind)}") from None


def to_schedule(spec: ScheduleSpec, *, dst_gap: str, dst_fold: str, default_anchor: datetime) -> Schedule:
    """A scheduler value object, or InvalidInput naming the field at fault."""
    if isinstance(spec, CronSpec):
        try:
            expression = cron.parse(spec.cron)
        except cron.CronError as exc:
            raise field_error("schedule.cron", str(exc), "invalid_cron") from None
        try:
            zone = ZoneInfo(spec.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise field_error(
                "schedule.timezone", f"unknown IANA time zone {spec.timezone!r}", "unknown_timezone"
            ) from None
        gap, fold = policies.DstGap(dst_gap), policies.DstFold(dst_fold)
        return CronSchedule(expression=expression, timezone=zone, dst_gap=gap, dst_fold=fold)
    if isinstance(spec, IntervalSpec):
        if spec.seconds <= 0:
            raise field_error("schedule.seconds", "must be greater than 0", "invalid_interval")
        if not MIN_INTERVAL_SECONDS <= spec.seconds <= MAX_INTERVAL_SECONDS:
            message = f"must be between {MIN_INTERVAL_SECONDS} and {MAX_INTERVAL_SECONDS} (a century)"
            raise field_error("schedule.seconds", message, "invalid_interval")
        return IntervalSchedule(seconds=spec.seconds, anchor=_utc(spec.anchor or default_anchor))
    return OnceSchedule(at=_utc(spec.at))


def check_window(
    spec: ScheduleSpec,
    start_at: datetime | None,
    end_at: datetime | None,
    now: datetime,
    *,
    new_schedule: bool = True,
    new_times: frozenset[str] = frozenset({"start_at", "end_at"}),
) -> None:
    """The window's ends in order; a new `once` schedule in the future (a stored one may have fired already).

    Only the times given now are held to the years rule (`new_times`, and the schedule's when `new_schedule`): a
    deployment stored before the rule keeps accepting changes to its other fields (see `window`).
    """
    check_time("start_at", start_at if "start_at" in new_times else None)
    check_time("end_at", end_at if "end_at" in new_times else None)
    if new_schedule:
        check_time("schedule.at", spec.at if isinstance(spec, OnceSpec) else None)
        check_time("schedule.anchor", spec.anchor if isinstance(spec, IntervalSpec) else None)
    if start_at and end_at and end_at <= start_at:
        raise field_error("end_at", "must be after start_at", "invalid_window")
    if new_schedule and isinstance(spec, OnceSpec) and _utc(spec.at) <= now:
        raise field_error("schedule.at", "is in the past", "once_in_the_past")


def check_time(field: str, when: datetime | None) -> None:
    """A time with a UTC offset, from EARLIEST until LATEST (None: nothing to check)."""
    if when is None:
        return
    if when.tzinfo is None:
        raise field_error(field, "needs a UTC offset (ISO 8601, e.g. 2026-05-01T12:00:00Z)")
    if not EARLIEST <= when < LATEST:  # aware datetimes compare as instants: no conversion that could overflow
        raise field_error(field, f"must fall in the years {EARLIEST.year} to {LATEST.year - 1}", "time_out_of_range")


def window(start_at: datetime | None, end_at: datetime | None) -> tuple[datetime | None, datetime | None]:
    """A stored window as the fire-time maths can use it: a start before EARLIEST is no lower bound (it began long
    ago), an end at or past LATEST none at all (it never ends), the rest clamped into [EARLIEST, LATEST].

    Rows stored before check_time existed (or read as datetime's ends, app/db/times.py) overflowed the maths;
    migration 0018 rewrites them the same way.
    """
    if start_at is not None:
        start_at = None if start_at < EARLIEST else min(start_at, LATEST)
    if end_at is not None:
        end_at = None if end_at >= LATEST else max(end_at, EARLIEST)
    return start_at, end_at


def check_fires(
    schedule: Schedule, now: datetime, *, start_at: datetime | None = None, end_at: datetime | None = None
) -> None:
    """A schedule that never fires is refused, rather than kept as a deployment that never runs: a cron line that
    matches no time (`0 0 30 2 *`), or any schedule whose first fire time falls after `end_at`."""
    if isinstance(schedule, CronSchedule) and next_fire(schedule, now) is None:
        message = f"never fires: no time in a whole {cron.CYCLE_YEARS}-year calendar cycle matches (or fires)"
        raise field_error("schedule.cron", message, "schedule_never_fires")
    if end_at is not None and next_fire(schedule, now, start_at=start_at, end_at=end_at) is None:
        message = "is before the schedule's first fire time: the deployment would never run"
        raise field_error("end_at", message, "schedule_never_fires")


def _utc(when: datetime) -> datetime:
    if when.tzinfo is None:
        raise field_error("schedule", "times need a UTC offset (ISO 8601, e.g. 2026-05-01T12:00:00Z)")
    return when.astimezone(UTC)


def schedule_of(document: dict[str, Any], *, dst_gap: str, dst_fold: str, default_anchor: datetime) -> Schedule:
    """The stored schedule document of a deployment, as a scheduler value object (cached: the loop asks often)."""
    return _schedule_of(msgspec.json.encode(document, order="sorted"), dst_gap, dst_fold, default_anchor)


def schedule_from_json(document: str, *, dst_gap: str, dst_fold: str, default_anchor: datetime) -> Schedule:
    """A stored schedule document read as JSON text (the loop reads it so: no decoding per row)."""
    return _schedule_of(document.encode(), dst_gap, dst_fold, default_anchor)


@functools.lru_cache(maxsize=65_536)
def _schedule_of(document: bytes, dst_gap: str, dst_fold: str, default_anchor: datetime) -> Schedule:
    spec = msgspec.json.decode(document, type=ScheduleSpec)  # type: ignore[arg-type]
    return to_schedule(spec, dst_gap=dst_gap, dst_fold=dst_fold, default_anchor=default_anchor)
