"""The deployment document: schedule and policies, validated into scheduler value objects."""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec

from app.domain.errors import InvalidInput
from scheduler import cron
from scheduler.timing import CronSchedule, IntervalSchedule, OnceSchedule, Schedule


class CronSpec(msgspec.Struct, tag_field="kind", tag="cron", kw_only=True, forbid_unknown_fields=True):
    cron: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    timezone: str = "UTC"


class IntervalSpec(msgspec.Struct, tag_field="kind", tag="interval", kw_only=True, forbid_unknown_fields=True):
    seconds: float
    #: Fire times are anchor + k * seconds; default: when the deployment was created (or start_at).
    anchor: datetime | None = None


class OnceSpec(msgspec.Struct, tag_field="kind", tag="once", kw_only=True, forbid_unknown_fields=True):
    at: datetime


ScheduleSpec = CronSpec | IntervalSpec | OnceSpec
MisfirePolicy = Literal["skip", "run_once", "catch_up"]
OverlapPolicy = Literal["skip", "buffer_one", "buffer_all", "cancel_running", "allow"]


class Policies(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    misfire_policy: MisfirePolicy = "run_once"
    misfire_grace_seconds: Annotated[int, msgspec.Meta(ge=0, le=86_400 * 7)] = 60
    max_catch_up: Annotated[int, msgspec.Meta(ge=1, le=10_000)] = 10
    max_concurrent_runs: Annotated[int, msgspec.Meta(ge=1, le=1000)] = 1
    overlap_policy: OverlapPolicy = "skip"
    dst_policy: dict[str, str] | None = None


def field_error(field: str, message: str, code: str = "invalid_schedule") -> InvalidInput:
    return InvalidInput(f"{field}: {message}", code=code, errors=[{"field": field, "message": message}])


def dst_policy(raw: dict[str, str] | None) -> tuple[str, str]:
    """(gap, fold) from `{"nonexistent": "shift"|"skip", "ambiguous": "first"|"last"|"both"}`."""
    raw = raw or {}
    unknown = set(raw) - {"nonexistent", "ambiguous"}
    if unknown:
        raise field_error("dst_policy", f"unknown key(s) {sorted(unknown)}; use nonexistent and ambiguous")
    gap, fold = raw.get("nonexistent", "shift"), raw.get("ambiguous", "first")
    if gap not in ("shift", "skip"):
        raise field_error("dst_policy.nonexistent", "must be shift or skip")
    if fold not in ("first", "last", "both"):
        raise field_error("dst_policy.ambiguous", "must be first, last or both")
    return gap, fold


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
        return CronSchedule(expression=expression, timezone=zone, dst_gap=dst_gap, dst_fold=dst_fold)  # type: ignore[arg-type]
    if isinstance(spec, IntervalSpec):
        if spec.seconds <= 0:
            raise field_error("schedule.seconds", "must be greater than 0", "invalid_interval")
        return IntervalSchedule(seconds=spec.seconds, anchor=_utc(spec.anchor or default_anchor))
    return OnceSchedule(at=_utc(spec.at))


def check_window(spec: ScheduleSpec, start_at: datetime | None, end_at: datetime | None, now: datetime) -> None:
    if start_at and end_at and end_at <= start_at:
        raise field_error("end_at", "must be after start_at", "invalid_window")
    if isinstance(spec, OnceSpec) and _utc(spec.at) <= now:
        raise field_error("schedule.at", "is in the past", "once_in_the_past")


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
