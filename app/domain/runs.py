"""Runs: submit (one or a batch), read, list with keyset pagination, cancel, retry."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any

import msgspec
from sqlalchemy import Row, func, select, tuple_
from sqlalchemy.orm import Session

from app.core.errors import Conflict, InvalidInput, NotFound
from app.core.states import CANCEL_AT_ONCE, FAILURES, RunKind, RunStatus, RunTrigger, sources
from app.db.models import Run, RunEvent
from app.domain import audit
from app.domain.dataset_writes import end_writes, write_again
from app.domain.earlier_outputs import give_up_output
from app.domain.namespaces import DEFAULT_NAMESPACE, visible_namespaces
from app.domain.pagination import decode_cursor, decode_row_cursor
from app.domain.permissions import Permission, Principal
from app.domain.pipelines import SubmitTarget, resolve_pipeline, resolve_submit_target
from app.domain.run_names import subject_named
from app.domain.run_params import check_params
from app.domain.run_rows import insert_run_rows, insert_run_rows_and_commit, insert_runs, run_row
from app.domain.transitions import transition, write_outbox
from app.scheduling import policies
from app.settings import Settings

#: A run as the API answers with it: the ORM object, or the row `insert_run_rows` returned (same attribute names).
RunRecord = Run | Row[Any]


class RunRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """What a client asks to run."""

    pipeline: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    params: dict[str, Any] = msgspec.field(default_factory=dict)
    namespace: str = DEFAULT_NAMESPACE
    max_retries: policies.MaxRetries | None = None
    retry_backoff_seconds: policies.RetryBackoffSeconds | None = None
    retry_backoff_max_seconds: policies.RetryBackoffMaxSeconds | None = None
    retry_jitter: policies.RetryJitter | None = None
    timeout_seconds: policies.TimeoutSeconds | None = None
    priority: Annotated[int, msgspec.Meta(ge=-100, le=100)] = 0


class RunFilters(msgspec.Struct, kw_only=True):
    """Filters of the run list; every one is served by an index."""

    namespace: str | None = None
    status: list[RunStatus] | None = None
    kind: RunKind | None = None
    pipeline: str | None = None
    deployment_id: uuid.UUID | None = None
    dataset_id: uuid.UUID | None = None
    trigger: RunTrigger | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    #: Part of the name of the run's pipeline, deployment or dataset (any case): the only filter no index serves.
    search: str | None = None


def submit_runs(
    session: Session,
    requests: Sequence[RunRequest],
    *,
    trigger: RunTrigger,
    principal: Principal,
    settings: Settings,
    deployment_id: uuid.UUID | None = None,
    pipeline_version: int | None = None,
    audit_as: audit.AuditContext | None = None,
    dispatch_actor: str | None = None,
    commit: bool = False,
) -> list[Any]:
    """Create runs with their first event and outbox rows, in the caller's transaction; their rows as inserted.

    With `audit_as` (a submit by the API or the CLI) the submit is audited (runs.submit); a deployment's
    trigger is audited as the deployment's. `dispatch_actor`: see run_rows.insert_run_rows (eager send).
    `commit`: the insert is the transaction's last statement, and commits it in the same round trip
    (run_rows.insert_run_rows_and_commit); the caller writes nothing after it.
    """
    pipelines: dict[tuple[str, str], SubmitTarget] = {}
    rows: list[dict[str, Any]] = []
    for index, request in enumerate(requests):
        key = (request.namespace, request.pipeline)
        if key not in pipelines:
            try:
                pipelines[key] = resolve_submit_target(session, request.pipeline, namespace=request.namespace)
                principal.require(
                    Permission.RUNS_OPERATE, pipelines[key].namespace_id, resource="pipeline", name=request.pipeline
                )
            except NotFound as exc:
                field = f"runs[{index}].pipeline" if trigger is RunTrigger.BATCH else "pipeline"
                raise InvalidInput(
                    exc.detail, code=exc.code, errors=[{"field": field, "message": exc.detail}]
                ) from None
        pipeline = pipelines[key]
        version = pipeline_version or pipeline.latest_version
        field = f"runs[{index}]." if trigger is RunTrigger.BATCH else ""
        check_params(session, pipeline.id, version, request.params, field=field)
        rows.append(
            run_row(
                settings,
                namespace_id=pipeline.namespace_id,
                kind=RunKind.PIPELINE,
                trigger=trigger,
                actor=actor_of(principal),
                created_by=principal.user_id,
                params=request.params,
                priority=request.priority,
                max_retries=request.max_retries,
                retry_backoff_seconds=request.retry_backoff_seconds,
                retry_backoff_max_seconds=request.retry_backoff_max_seconds,
                retry_jitter=request.retry_jitter,
                timeout_seconds=request.timeout_seconds,
                pipeline_id=pipeline.id,
                pipeline_version=version,
                deployment_id=deployment_id,
            )
        )
    # The submit's audit entry is written by the insert itself (one round trip less in the transaction), so it
    # is built from the rows sent: a submit's runs carry no fire time, so none is skipped as already run (the
    # only rows insert_runs leaves out), and without `commit` the check below makes sure the entry names the runs
    # written.
    ids = [row["id"] for row in rows]
    entry = (
        audit.entry(
            audit_as,
            action="runs.submit",
            resource_type="run",
            resource_id=ids[0] if len(ids) == 1 else None,
            namespace_id=rows[0]["namespace_id"] if rows else None,
            details={"count": len(ids), "run_ids": [str(i) for i in ids[:20]], "trigger": trigger.value},
        )
        if audit_as is not None
        else None
    )
    if commit:
        return insert_run_rows_and_commit(session, rows, dispatch_actor=dispatch_actor, audit=entry)
    created = insert_run_rows(session, rows, dispatch_actor=dispatch_actor, audit=entry)
    if len(created) != len(rows):  # rolls the transaction back: an entry naming runs not written is never kept
        raise RuntimeError(f"{len(rows) - len(created)} of {len(rows)} submitted runs were not inserted")
    return created


def insert_run(
    session: Session,
    *,
    settings: Settings,
    principal: Principal,
    namespace_id: uuid.UUID,
    kind: RunKind,
    params: dict[str, Any],
    max_retries: int | None,
    timeout_seconds: int | None,
    priority: int = 0,
    **columns: Any,
) -> uuid.UUID:
    """One run (API trigger) with its first event and outbox row; unset retry and timeout fields take the defaults.

    `columns` are the row's other fields (pipeline_id, pipeline_version, dataset_id, inputs).
    """
    row = run_row(
        settings,
        namespace_id=namespace_id,
        kind=kind,
        trigger=RunTrigger.API,
        actor=actor_of(principal),
        created_by=principal.user_id,
        params=params,
        priority=priority,
        max_retries=max_retries,
        timeout_seconds=timeout_seconds,
        **columns,
    )
    insert_runs(session, [row])
    return row["id"]


def actor_of(principal: Principal) -> str:
    """How a caller appears in run events."""
    return f"{'token' if principal.token_kind == 'api' else 'user'}:{principal.username}"


def get_run(session: Session, run_id: uuid.UUID, principal: Principal, *, lock: bool = False) -> Run:
    """A run the caller may read; 404 for one that does not exist or that the caller cannot see."""
    run = session.get(Run, run_id, with_for_update=lock)
    if run is None or not principal.may(Permission.RUNS_READ, run.namespace_id):
        raise NotFound(f"run {run_id} does not exist", code="run_not_found")
    return run


def recent_failures(
    session: Session, principal: Principal, *, namespace: str | None, start: datetime, end: datetime, limit: int
) -> list[Run]:
    """The latest failed or timed-out runs created in [start, end) that the caller may read, newest first."""
    query_ = (
        select(Run)
        .where(Run.status.in_([s.value for s in FAILURES]), Run.created_at >= start, Run.created_at < end)
        .order_by(Run.created_at.desc(), Run.id.desc())
        .limit(limit)
    )
    visible = visible_namespaces(session, principal, Permission.RUNS_READ, namespace)
    if visible is not None:
        query_ = query_.where(Run.namespace_id.in_(visible))
    return list(session.scalars(query_))


def get_runs(session: Session, run_ids: Sequence[uuid.UUID]) -> list[Run]:
    """Runs in the order of `run_ids`."""
    found = {run.id: run for run in session.scalars(select(Run).where(Run.id.in_(run_ids)))}
    return [found[run_id] for run_id in run_ids if run_id in found]


def list_runs(
    session: Session, principal: Principal, filters: RunFilters, *, limit: int, cursor: str | None
) -> list[Run]:
    """Runs the caller may read, newest first; `limit + 1` rows, so the caller can tell whether more exist."""
    query_ = select(Run).order_by(Run.created_at.desc(), Run.id.desc()).limit(limit + 1)
    visible = visible_namespaces(session, principal, Permission.RUNS_READ, filters.namespace)
    if visible is not None:
        query_ = query_.where(Run.namespace_id.in_(visible))
    if filters.status:
        query_ = query_.where(Run.status.in_([s.value for s in filters.status]))
    if filters.kind is not None:
        query_ = query_.where(Run.kind == filters.kind.value)
    if filters.trigger is not None:
        query_ = query_.where(Run.trigger == filters.trigger.value)
    if filters.deployment_id is not None:
        query_ = query_.where(Run.deployment_id == filters.deployment_id)
    if filters.dataset_id is not None:
        query_ = query_.where(Run.dataset_id == filters.dataset_id)
    if filters.pipeline is not None:
        pipeline = resolve_pipeline(session, filters.pipeline, namespace=filters.namespace or DEFAULT_NAMESPACE)
        query_ = query_.where(Run.pipeline_id == pipeline.id)
    if filters.search:
        query_ = query_.where(subject_named(session, filters.search))
    if filters.created_after is not None:
        query_ = query_.where(Run.created_at >= filters.created_after)
    if filters.created_before is not None:
        query_ = query_.where(Run.created_at < filters.created_before)
    if cursor:
        position = decode_cursor(cursor)
        # a row comparison, so the index scan starts at the cursor instead of filtering up to it
        query_ = query_.where(tuple_(Run.created_at, Run.id) < tuple_(position.at, position.id))
    return list(session.scalars(query_))


def list_events(
    session: Session, run_id: uuid.UUID, principal: Principal, *, limit: int, cursor: str | None = None
) -> list[RunEvent]:
    """A run's events, oldest first: `limit + 1` after the cursor's (whose UUID carries the event's integer id)."""
    get_run(session, run_id, principal)
    query = select(RunEvent).where(RunEvent.run_id == run_id)
    if cursor:
        query = query.where(RunEvent.id > decode_row_cursor(cursor)[1])
    return list(session.scalars(query.order_by(RunEvent.id).limit(limit + 1)))


def cancel_run(
    session: Session,
    run_id: uuid.UUID,
    principal: Principal,
    *,
    reason: str = "cancel_requested",
    audit_as: audit.AuditContext | None = None,
) -> Run:
    """Cancel at once if the run has not started; otherwise ask its worker to stop.

    With `audit_as` (the API, the CLI) the cancel is audited in the same transaction, with the status after.
    """
    run = _cancel(session, run_id, principal, reason=reason)
    if audit_as is not None:
        audit.record(
            session,
            audit_as,
            action="runs.cancel",
            resource_type="run",
            resource_id=run.id,
            namespace_id=run.namespace_id,
            details={"after": {"status": run.status}},
        )
    return run


def _cancel(session: Session, run_id: uuid.UUID, principal: Principal, *, reason: str) -> Run:
    run = get_run(session, run_id, principal, lock=True)
    principal.require(Permission.RUNS_OPERATE, run.namespace_id, resource="run")
    actor = actor_of(principal)
    status = RunStatus(run.status)
    if status in CANCEL_AT_ONCE:
        cancelled = transition(
            session,
            run,
            RunStatus.CANCELLED,
            reason=reason,
            actor=actor,
            among=CANCEL_AT_ONCE,
            changes={
                "finished_at": func.now(),
                "error_code": "cancelled",
                "error_message": f"cancelled by {actor}",
                "next_retry_at": None,
            },
        )
        # A run waiting to retry may have made its output dataset: it is not left importing.
        end_writes(
            session,
            run_id=run.id,
            status=RunStatus.CANCELLED,
            code="cancelled",
            message=f"cancelled by {actor}",
            producer=actor,
        )
        return cancelled
    if status is RunStatus.RUNNING:
        if run.cancel_requested_at is None:
            run.cancel_requested_at = func.now()
            session.add(
                RunEvent(
                    run_id=run.id,
                    from_status=status.value,
                    to_status=status.value,
                    reason="cancel_requested",
                    actor=actor,
                    attempt=run.attempt,
                    details={} if reason == "cancel_requested" else {"cause": reason},
                )
            )
            session.flush()
            session.refresh(run)
        return run
    raise Conflict(f"run {run_id} is {status.value} and cannot be cancelled", code="run_not_cancellable")


def retry_run(
    session: Session, run_id: uuid.UUID, principal: Principal, *, settings: Settings, audit_as: audit.AuditContext
) -> Run:
    """Run a failed, cancelled or timed-out run again, as a new attempt with a fresh retry budget (audited here).

    A pipeline run starts over without an output: its earlier attempts' write ended when it gave up, and the next
    attempt finds (or makes) its output afresh, as a new run would; so deleting the dataset an earlier attempt
    made does not cancel the retried run, and deleting the one the new attempt writes does. The output it gives up
    stays recorded as the run's (`earlier_outputs`): its attempts' folders there are still removed, by the next
    attempt and by the attempt-folder sweep.
    """
    run = get_run(session, run_id, principal, lock=True)
    principal.require(Permission.RUNS_OPERATE, run.namespace_id, resource="run")
    actor = actor_of(principal)
    retryable = sources(RunStatus.PENDING)
    if run.status not in retryable:
        raise Conflict(
            f"run {run_id} is {run.status}; only {', '.join(retryable)} runs can be retried",
            code="run_not_retryable",
        )
    if run.kind == RunKind.PIPELINE and run.dataset_id is not None:
        give_up_output(session, run.id, run.dataset_id)
    transition(
        session,
        run,
        RunStatus.PENDING,
        reason="manual_retry",
        actor=actor,
        changes={
            "attempt_base": run.attempt,
            "finished_at": None,
            "cancel_requested_at": None,
            "error_code": None,
            "error_message": None,
            "next_retry_at": None,
            "queued_at": None,
            "started_at": None,
            "heartbeat_at": None,
            "progress": {},  # the earlier attempt's figures (an import's problems) are not the retry's
            **({"dataset_id": None} if run.kind == RunKind.PIPELINE else {}),
        },
    )
    if run.kind == RunKind.INGEST and run.dataset_id is not None:  # the run's row is locked before the dataset's
        write_again(session, run.id, run.dataset_id)
    write_outbox(session, run, queue=settings.queue)
    audit.record(
        session,
        audit_as,
        action="runs.retry",
        resource_type="run",
        resource_id=run.id,
        namespace_id=run.namespace_id,
        details={"attempt": run.attempt},
    )
    return run
