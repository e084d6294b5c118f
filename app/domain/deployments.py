"""Deployments: a pipeline on a schedule. Create, change, pause, resume, delete, trigger, preview."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

import msgspec
from msgspec import UNSET, UnsetType
from sqlalchemy import Connection, func, select, tuple_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.core import display_text
from app.core.errors import Conflict, InvalidInput, NotFound
from app.core.ids import uuid7
from app.core.patterns import whole
from app.core.states import RunTrigger
from app.db.deployments import Deployment, Occurrence
from app.db.models import Pipeline, Run
from app.db.queries import query
from app.domain.namespaces import DEFAULT_NAMESPACE, namespace_id, visible_namespaces
from app.domain.pagination import decode_cursor
from app.domain.permissions import Permission, Principal
from app.domain.pipelines import resolve_pipeline
from app.domain.run_params import check_params
from app.domain.runs import RunRequest, submit_runs
from app.scheduling import spec as spec_
from app.scheduling.policies import MisfirePolicy, OverlapPolicy
from app.scheduling.timing import MAX_SINGLE_MISSED, fires, next_fire, span, upcoming
from app.settings import Settings

#: The window's times, each checked against spec_.check_time when given.
_TIMES = frozenset({"start_at", "end_at"})
#: The fields whose change moves the loop's cursor to now: fire times are computed afresh from then.
_SCHEDULE_FIELDS = frozenset({"schedule", "start_at", "end_at", "dst_policy"})


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


def _validated(
    document: DeploymentIn, now: datetime, *, new_schedule: bool = True, new_times: frozenset[str] = _TIMES
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
    gap, fold = _validated(document, now)
    schedule = spec_.to_schedule(document.schedule, dst_gap=gap, dst_fold=fold, default_anchor=document.start_at or now)
    return upcoming(schedule, now, count, start_at=document.start_at, end_at=document.end_at)


def create_deployment(
    session: Session, document: DeploymentIn, principal: Principal, settings: Settings, *, now: datetime
) -> Deployment:
    target = namespace_id(session, document.namespace)
    principal.require(Permission.PIPELINES_WRITE, target, resource="namespace")
    gap, fold = _validated(document, now)
    try:
        pipeline = resolve_pipeline(session, document.pipeline, namespace=document.namespace)
        # one in a namespace the caller cannot see answers as an id that names nothing
        principal.require(Permission.PIPELINES_READ, pipeline.namespace_id, resource="pipeline", name=document.pipeline)
    except NotFound as exc:
        raise InvalidInput(exc.detail, code=exc.code, errors=[{"field": "pipeline", "message": exc.detail}]) from None
    if pipeline.namespace_id != target:
        raise InvalidInput(
            "the pipeline is in another namespace",
            code="pipeline_not_found",
            errors=[{"field": "pipeline", "message": "not in this namespace"}],
        )
    check_params(session, pipeline.id, document.pipeline_version or pipeline.latest_version, document.params)
    deployment = Deployment(
        id=uuid7(),
        namespace_id=target,
        name=document.name,
        description=document.description,
        pipeline_id=pipeline.id,
        pipeline_version=document.pipeline_version,
        params=document.params,
        schedule=msgspec.to_builtins(document.schedule),
        start_at=document.start_at,
        end_at=document.end_at,
        misfire_policy=document.misfire_policy,
        misfire_grace_seconds=document.misfire_grace_seconds,
        max_catch_up=document.max_catch_up,
        max_concurrent_runs=document.max_concurrent_runs,
        overlap_policy=document.overlap_policy,
        dst_gap=gap,
        dst_fold=fold,
        max_retries=settings.default_max_retries if document.max_retries is None else document.max_retries,
        retry_backoff_seconds=document.retry_backoff_seconds,
        retry_backoff_max_seconds=document.retry_backoff_max_seconds,
        retry_jitter=document.retry_jitter,
        timeout_seconds=document.timeout_seconds,
        enabled=document.enabled,
        created_by=principal.user_id,
        last_scheduled_for=now,
        paused_at=None if document.enabled else now,
    )
    if isinstance(document.schedule, spec_.IntervalSpec) and document.schedule.anchor is None:
        deployment.schedule = {**deployment.schedule, "anchor": (document.start_at or now).isoformat()}
    deployment.next_run_at = compute_next(deployment, now) if document.enabled else None
    session.add(deployment)
    try:
        session.flush()
    except IntegrityError:
        raise Conflict(
            f"a deployment named {document.name!r} exists in this namespace",
            code="deployment_name_taken",
            errors=[{"field": "name", "message": "taken"}],
        ) from None
    session.refresh(deployment)
    return deployment


def schedule_for(deployment: Deployment):  # type: ignore[no-untyped-def]
    return spec_.schedule_of(
        deployment.schedule,
        dst_gap=deployment.dst_gap,
        dst_fold=deployment.dst_fold,
        default_anchor=spec_.window(deployment.start_at, None)[0] or deployment.created_at,
    )


def compute_next(deployment: Deployment, after: datetime) -> datetime | None:
    start_at, end_at = spec_.window(deployment.start_at, deployment.end_at)
    return next_fire(schedule_for(deployment), after, start_at=start_at, end_at=end_at)


def database_now(session: Session | Connection) -> datetime:
    """The database's clock, which the schedule loop ticks with: the `now` of every change to fire times."""
    return session.execute(query("database_now")).scalar_one().astimezone(UTC)  # in the session's zone


def withdraw_planned(session: Session, deployment: Deployment, *, now: datetime) -> None:
    """Take back the runs planned ahead for fire times after `now`; the loop replans from the deployment as it is.

    Locks the deployment first (and reloads it), so a schedule loop cannot plan it meanwhile.
    """
    session.refresh(deployment, with_for_update=True)
    session.execute(query("withdraw_planned_runs"), {"deployment_id": deployment.id, "now": now})
    if deployment.last_scheduled_for and deployment.last_scheduled_for > now:
        deployment.last_scheduled_for = now


def next_fire_time(deployment: Deployment, now: datetime) -> datetime | None:
    """The next fire time to show: the loop's cursor (`next_run_at`), or an earlier one already planned ahead."""
    if not deployment.enabled or deployment.next_run_at is None:
        return None
    coming = compute_next(deployment, now)
    return deployment.next_run_at if coming is None else min(deployment.next_run_at, coming)


def get_deployment(
    session: Session, deployment_id: uuid.UUID, principal: Principal, *, lock: bool = False
) -> Deployment:
    found = session.get(Deployment, deployment_id, with_for_update=lock)
    if found is None or not principal.may(Permission.PIPELINES_READ, found.namespace_id):
        raise NotFound(f"deployment {deployment_id} does not exist", code="deployment_not_found")
    return found


def list_deployments(
    session: Session, principal: Principal, *, namespace: str | None = None, limit: int, cursor: str | None
) -> list[Deployment]:
    """Deployments the caller may read (in `namespace` only, if named), newest first; `limit + 1` rows."""
    visible = visible_namespaces(session, principal, Permission.PIPELINES_READ, namespace)
    query = select(Deployment).order_by(Deployment.created_at.desc(), Deployment.id.desc()).limit(limit + 1)
    if visible is not None:
        query = query.where(Deployment.namespace_id.in_(visible))
    if cursor:
        position = decode_cursor(cursor)
        query = query.where(tuple_(Deployment.created_at, Deployment.id) < tuple_(position.at, position.id))
    return list(session.scalars(query))


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


def update_deployment(
    session: Session, deployment: Deployment, patch: DeploymentPatch, settings: Settings, *, now: datetime
) -> None:
    """Apply changes, checked as create checks them; a new schedule takes effect at once (fire times recomputed).

    Any other change leaves the loop's cursor where it is (see _reset_next).
    """
    changes = patch.changes()
    if "max_retries" in changes and changes["max_retries"] is None:
        changes["max_retries"] = settings.default_max_retries  # NOT NULL: null means the default
    merged = msgspec.structs.replace(document_of(deployment), **changes)
    gap, fold = _validated(merged, now, new_schedule="schedule" in changes, new_times=_TIMES & changes.keys())
    if "params" in changes or "pipeline_version" in changes:
        latest = session.get_one(Pipeline, deployment.pipeline_id).latest_version
        check_params(session, deployment.pipeline_id, merged.pipeline_version or latest, merged.params)
    withdraw_planned(session, deployment, now=now)  # planned runs carry the old schedule, params and policies
    moves_cursor = bool(changes.keys() & _SCHEDULE_FIELDS)
    if moves_cursor:  # the old schedule's fire times due by now and not handled yet are recorded, not lost
        _record_unhandled(session, deployment, now)
    for key, value in changes.items():
        if key == "schedule":
            value = msgspec.to_builtins(value)
            if value.get("kind") == "interval" and not value.get("anchor"):
                value["anchor"] = now.isoformat()
        if key == "dst_policy":
            deployment.dst_gap, deployment.dst_fold = gap, fold
            continue
        setattr(deployment, key, value)
    deployment.updated_at = func.now()  # type: ignore[assignment]
    if moves_cursor:
        deployment.last_scheduled_for = max(deployment.last_scheduled_for or now, now)
    if deployment.enabled:
        _reset_next(deployment, now, moves_cursor=moves_cursor)
    session.flush()


def _reset_next(deployment: Deployment, now: datetime, *, moves_cursor: bool) -> None:
    """The loop's cursor after a change: a new schedule's first fire time from now; any other change keeps it, but
    never later than the first fire time after the last one handled (withdraw_planned may have moved that back, and
    a deployment held back after a failed plan is replanned at once). Recomputing it from now for every change left a
    loop that was behind waiting for the next fire time to come before it claimed the ones already due."""
    if moves_cursor:
        deployment.next_run_at = compute_next(deployment, max(now, deployment.last_scheduled_for or now))
        return
    due = compute_next(deployment, deployment.last_scheduled_for or now)
    if due is not None and (deployment.next_run_at is None or due < deployment.next_run_at):
        deployment.next_run_at = due


def pause(session: Session, deployment: Deployment, *, now: datetime) -> None:
    if not deployment.enabled:
        raise Conflict("the deployment is already paused", code="deployment_paused")
    withdraw_planned(session, deployment, now=now)
    deployment.enabled, deployment.paused_at, deployment.next_run_at = False, now, None
    session.flush()


def delete_deployment(session: Session, deployment: Deployment, *, now: datetime) -> None:
    """Delete; its runs stay, except those planned ahead for fire times still to come."""
    withdraw_planned(session, deployment, now=now)
    session.delete(deployment)


def pipeline_archived(session: Session, deployment: Deployment) -> bool:
    """Whether the deployment's pipeline is archived (it takes no new runs)."""
    archived = select(Pipeline.archived_at.is_not(None)).where(Pipeline.id == deployment.pipeline_id)
    return bool(session.scalar(archived))


def resume(session: Session, deployment: Deployment, *, now: datetime) -> int:
    """Resume; the fire times missed while paused are recorded as `paused`. Returns how many."""
    if deployment.enabled:
        raise Conflict("the deployment is not paused", code="deployment_not_paused")
    missed = _record_unhandled(session, deployment, now)
    deployment.enabled, deployment.paused_at = True, None
    deployment.last_scheduled_for = now
    deployment.next_run_at = compute_next(deployment, now)
    session.flush()
    return missed


def _record_unhandled(session: Session, deployment: Deployment, now: datetime) -> int:
    """Record the fire times due by `now` that the loop has not handled: `paused` while paused, else missed.

    A change of schedule moves the loop's cursor to `now`, so the old schedule's fire times it had not reached
    (every scheduler down, or behind) would be lost without a word: they are recorded as `misfire_skipped` by the
    change. Up to MAX_SINGLE_MISSED are a row each; more are one row for the range (fire_times, first_scheduled_for),
    as the loop records a long downtime, with any DST-skipped ones among them a row each: a year's pause of a
    per-second schedule is one row, counted without walking it (timing.span). Returns how many were recorded.
    """
    after = deployment.last_scheduled_for or deployment.paused_at or now
    start_at, end_at = spec_.window(deployment.start_at, deployment.end_at)
    schedule = schedule_for(deployment)
    outcome, reason = (
        ("misfire_skipped", "due before the schedule changed, and not handled by then")
        if deployment.enabled
        else ("paused", "the deployment was paused")
    )
    missed = fires(schedule, after, now, start_at=start_at, end_at=end_at, limit=MAX_SINGLE_MISSED + 1)
    if sum(f.skipped is None for f in missed) <= MAX_SINGLE_MISSED:
        for fire in missed:
            session.add(
                Occurrence(
                    deployment_id=deployment.id,
                    scheduled_for=fire.at,
                    outcome="dst_skipped" if fire.skipped else outcome,
                    reason="" if fire.skipped else reason,
                )
            )
        return len(missed)
    found = span(schedule, after, now, start_at=start_at, end_at=end_at)
    for fire in found.skipped:
        session.add(Occurrence(deployment_id=deployment.id, scheduled_for=fire.at, outcome="dst_skipped", reason=""))
    session.add(
        Occurrence(
            deployment_id=deployment.id,
            scheduled_for=found.last,
            first_scheduled_for=found.first,
            fire_times=found.count,
            outcome=outcome,
            reason=f"a range of fire times; {reason}",
        )
    )
    return found.count + len(found.skipped)


class TriggerIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    params: dict[str, Any] = msgspec.field(default_factory=dict)


def trigger(
    session: Session, deployment: Deployment, overrides: dict[str, Any], principal: Principal, settings: Settings
) -> uuid.UUID:
    """A manual run now, with the deployment's parameters overridden; never in the way of scheduled runs."""
    principal.require(Permission.RUNS_OPERATE, deployment.namespace_id, resource="deployment")
    request = RunRequest(
        pipeline=str(deployment.pipeline_id),
        params={**deployment.params, **overrides},
        max_retries=deployment.max_retries,
        retry_backoff_seconds=deployment.retry_backoff_seconds,
        retry_backoff_max_seconds=deployment.retry_backoff_max_seconds,
        retry_jitter=deployment.retry_jitter,
        timeout_seconds=deployment.timeout_seconds,
    )
    [run] = submit_runs(
        session,
        [request],
        trigger=RunTrigger.MANUAL,
        principal=principal,
        settings=settings,
        deployment_id=deployment.id,
        pipeline_version=deployment.pipeline_version,
    )
    return run.id  # type: ignore[no-any-return]


def list_occurrences(
    session: Session, deployment: Deployment, *, limit: int, cursor: str | None, outcome: str | None = None
) -> list[tuple[Occurrence, str | None]]:
    """A page of fire times, newest first, each with the status of its run (None when there is no run)."""
    query = (
        select(Occurrence, Run.status)
        .outerjoin(Run, Run.id == Occurrence.run_id)
        .where(Occurrence.deployment_id == deployment.id)
        .order_by(Occurrence.scheduled_for.desc(), Occurrence.id.desc())
        .limit(limit + 1)
    )
    if outcome is not None:
        query = query.where(Occurrence.outcome == outcome)
    if cursor:
        position = decode_cursor(cursor)
        query = query.where(tuple_(Occurrence.scheduled_for, Occurrence.id) < tuple_(position.at, position.id.int))
    return [(o, status) for o, status in session.execute(query)]


def wake_schedulers(session: Session) -> None:
    """Tell the schedule loops (LISTEN conveyor_deployments) a deployment changed, at commit, so they replan now."""
    session.execute(query("wake_schedulers"))
