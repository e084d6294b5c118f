"""Deployment documents: what create, change and trigger accept, the checks they share, and a draft's preview."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from msgspec import UNSET, UnsetType

from app.core import display_text
from app.core.patterns import whole
from app.db.deployments import Deployment
from app.domain.namespaces import DEFAULT_NAMESPACE
from app.scheduling import spec as spec_
from app.scheduling.policies import MisfirePolicy, OverlapPolicy
from app.scheduling.timing import upcoming

#: The window's times, each checked against spec_.check_time when given.
TIMES = frozenset({"start_at", "end_at"})


class DeploymentIn(display_text.Normalised, kw_only=True, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=whole(r"[A-Za-z0-9][A-Za-z0-9_.\-]*"))]
    pipeline: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    schedule: spec_.ScheduleSpec
    namespace: str = DEFAULT_NAMESPACE
    description: spec_.Description = ""
    pipeline_version: spec_.PipelineVersion | None = None
    params: dict[str, Any] = msgspec.field(default_factory=dict)
    start_at: spec_.Time | None = None
    end_at: spec_.Time | None = None
    misfire_policy: MisfirePolicy = MisfirePolicy.RUN_ONCE
    misfire_grace_seconds: spec_.MisfireGraceSeconds = 60
    max_catch_up: spec_.MaxCatchUp = 10
    max_concurrent_runs: spec_.MaxConcurrentRuns = 1
    overlap_policy: OverlapPolicy = OverlapPolicy.SKIP
    dst_policy: dict[str, str] | None = None
    max_retries: spec_.MaxRetries | None = None
    retry_backoff_seconds: spec_.RetryBackoffSeconds | None = None
    retry_backoff_max_seconds: spec_.RetryBackoffMaxSeconds | None = None
    retry_jitter: spec_.RetryJitter | None = None
    timeout_seconds: spec_.TimeoutSeconds | None = None
    enabled: bool = True


class DeploymentPatch(display_text.Normalised, kw_only=True, forbid_unknown_fields=True):
    """Fields to change, with the bounds of create; anything left out stays as it is, `null` resets where allowed.

    `null` means: pipeline_version the latest, start_at/end_at no bound, dst_policy the defaults, the retry and
    timeout fields the instance defaults. Enabling and disabling go through pause and resume.
    """

    description: spec_.Description | UnsetType = UNSET
    pipeline_version: spec_.PipelineVersion | UnsetType | None = UNSET
    params: dict[str, Any] | UnsetType = UNSET
    schedule: spec_.ScheduleSpec | UnsetType = UNSET
    start_at: spec_.Time | UnsetType | None = UNSET
    end_at: spec_.Time | UnsetType | None = UNSET
    misfire_policy: MisfirePolicy | UnsetType = UNSET
    misfire_grace_seconds: spec_.MisfireGraceSeconds | UnsetType = UNSET
    max_catch_up: spec_.MaxCatchUp | UnsetType = UNSET
    max_concurrent_runs: spec_.MaxConcurrentRuns | UnsetType = UNSET
    overlap_policy: OverlapPolicy | UnsetType = UNSET
    dst_policy: dict[str, str] | UnsetType | None = UNSET
    max_retries: spec_.MaxRetries | UnsetType | None = UNSET
    retry_backoff_seconds: spec_.RetryBackoffSeconds | UnsetType | None = UNSET
    retry_backoff_max_seconds: spec_.RetryBackoffMaxSeconds | UnsetType | None = UNSET
    retry_jitter: spec_.RetryJitter | UnsetType | None = UNSET
    timeout_seconds: spec_.TimeoutSeconds | UnsetType | None = UNSET

    def changes(self) -> dict[str, Any]:
        """The fields given (a `null` included), by name."""
        return {f: v for f in self.__struct_fields__ if (v := getattr(self, f)) is not UNSET}


def validated(
    document: DeploymentIn, now: datetime, *, new_schedule: bool = True, new_times: frozenset[str] = TIMES
) -> tuple[str, str]:
    """What create and change both check beyond the field bounds; returns the DST policy (gap, fold).

    A change checks the schedule and times it gives, not those stored (which may predate today's rules).
    """
    gap, fold = spec_.dst_policy(document.dst_policy)
    spec_.check_window(
        document.schedule, document.start_at, document.end_at, now, new_schedule=new_schedule, new_times=new_times
    )
    if new_schedule:
        schedule = spec_.to_schedule(document.schedule, dst_gap=gap, dst_fold=fold, default_anchor=now)
        spec_.check_fires(schedule, now, start_at=document.start_at, end_at=document.end_at)
    return gap, fold


def preview(document: DeploymentIn, *, now: datetime, count: int) -> list[datetime]:
    """The next `count` fire times of a draft (nothing is saved)."""
    gap, fold = validated(document, now)
    schedule = spec_.to_schedule(document.schedule, dst_gap=gap, dst_fold=fold, default_anchor=document.start_at or now)
    return upcoming(schedule, now, count, start_at=document.start_at, end_at=document.end_at)


def document_of(deployment: Deployment) -> DeploymentIn:
    """A stored deployment as the document that would create it (what a change is merged into and checked as)."""
    return DeploymentIn(
        name=deployment.name,
        pipeline=str(deployment.pipeline_id),
        schedule=msgspec.convert(deployment.schedule, spec_.ScheduleSpec),  # type: ignore[arg-type]
        description=deployment.description,
        pipeline_version=deployment.pipeline_version,
        params=deployment.params,
        start_at=deployment.start_at,
        end_at=deployment.end_at,
        misfire_policy=MisfirePolicy(deployment.misfire_policy),
        misfire_grace_seconds=deployment.misfire_grace_seconds,
        max_catch_up=deployment.max_catch_up,
        max_concurrent_runs=deployment.max_concurrent_runs,
        overlap_policy=OverlapPolicy(deployment.overlap_policy),
        dst_policy={"nonexistent": deployment.dst_gap, "ambiguous": deployment.dst_fold},
        max_retries=deployment.max_retries,
        retry_backoff_seconds=deployment.retry_backoff_seconds,
        retry_backoff_max_seconds=deployment.retry_backoff_max_seconds,
        retry_jitter=deployment.retry_jitter,
        timeout_seconds=deployment.timeout_seconds,
        enabled=deployment.enabled,
    )


class TriggerIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    params: dict[str, Any] = msgspec.field(default_factory=dict)
