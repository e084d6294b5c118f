"""The one builder of new run rows: API submits, batches, pipeline and ingest runs, backfill and the schedule loop.

Every new run is one `insert_runs` row (sql/queries/runs.sql), except the schedule loop's: it sends only
(id, deployment, fire time, hold) to `insert_scheduled_runs` (sql/queries/schedule.sql), which fills in the
rest from the deployment, building ten thousand rows a minute in SQL rather than in Python. Either way the
instance defaults (retry backoff, jitter, timeout, queue) come from `run_defaults` and the timeout bound from
`checked_timeout`, here and nowhere else, so a run made by any path carries the same settings for the same
request (tests/integration/test_run_rows.py compares them).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import msgspec
import psycopg
from psycopg.rows import namedtuple_row
from psycopg.types.json import set_json_loads
from sqlalchemy import Connection, Row
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from app.core.errors import InvalidInput
from app.core.ids import uuid7
from app.core.states import RunKind, RunTrigger
from app.db import unit_of_work
from app.db.queries import psycopg_query, query
from app.domain.lanes import queue_for
from app.settings import Settings


def run_defaults(settings: Settings) -> dict[str, Any]:
    """The instance defaults a run's unset fields take: the one definition for `run_row` and `insert_scheduled_runs`.

    `timeout_seconds` here is the default only; a run's own timeout goes through `checked_timeout`.
    """
    return {
        "max_retries": settings.default_max_retries,
        "retry_backoff_seconds": settings.retry_backoff_seconds,
        "retry_backoff_max_seconds": settings.retry_backoff_max_seconds,
        "retry_jitter": settings.retry_jitter,
        "timeout_seconds": settings.default_timeout_seconds,
        "queue": settings.queue,
    }


def checked_timeout(settings: Settings, timeout_seconds: int | None) -> int:
    """The run's timeout (unset or 0: the instance default), refused (422 `timeout_too_long`) past the bound."""
    timeout = timeout_seconds or settings.default_timeout_seconds
    if timeout > settings.max_timeout_seconds:
        raise InvalidInput(
            f"timeout_seconds may be at most {settings.max_timeout_seconds}",
            code="timeout_too_long",
            errors=[{"field": "timeout_seconds", "message": f"at most {settings.max_timeout_seconds}"}],
        )
    return timeout


def run_row(
    settings: Settings,
    *,
    namespace_id: uuid.UUID | str,
    kind: RunKind,
    trigger: RunTrigger,
    actor: str,
    created_by: uuid.UUID | str | None,
    params: Mapping[str, Any] | None = None,
    priority: int = 0,
    max_retries: int | None = None,
    retry_backoff_seconds: float | None = None,
    retry_backoff_max_seconds: float | None = None,
    retry_jitter: float | None = None,
    timeout_seconds: int | None = None,
    pipeline_id: uuid.UUID | str | None = None,
    pipeline_version: int | None = None,
    deployment_id: uuid.UUID | str | None = None,
    scheduled_for: datetime | None = None,
    held: bool = False,
    dataset_id: uuid.UUID | str | None = None,
    inputs: Any = None,
    run_id: uuid.UUID | None = None,
) -> dict[str, Any]:
    """One `insert_runs` row; a field left as None takes the instance default from `settings`.

    A timeout past `settings.max_timeout_seconds` is refused (422 `timeout_too_long`) whichever path asks for it.
    """
    timeout = checked_timeout(settings, timeout_seconds)
    defaults = run_defaults(settings)
    return {
        "id": run_id or uuid7(),
        "namespace_id": namespace_id,
        "kind": kind,
        "trigger": trigger,
        "pipeline_id": pipeline_id,
        "pipeline_version": pipeline_version,
        "deployment_id": deployment_id,
        "scheduled_for": scheduled_for,
        "params": dict(params or {}),
        "priority": priority,
        "max_retries": defaults["max_retries"] if max_retries is None else max_retries,
        "retry_backoff_seconds": defaults["retry_backoff_seconds"]
        if retry_backoff_seconds is None
        else retry_backoff_seconds,
        "retry_backoff_max_seconds": defaults["retry_backoff_max_seconds"]
        if retry_backoff_max_seconds is None
        else retry_backoff_max_seconds,
        "retry_jitter": defaults["retry_jitter"] if retry_jitter is None else retry_jitter,
        "timeout_seconds": timeout,
        "queue": queue_for(defaults["queue"], trigger),
        "actor": actor,
        "held": held,
        "dataset_id": dataset_id,
        "inputs": inputs,
        "created_by": created_by,
    }


def scheduled_run_rows(
    deployment: Mapping[str, Any],
    settings: Settings,
    fires: Iterable[tuple[datetime, bool]],
    *,
    actor: str,
    trigger: RunTrigger = RunTrigger.SCHEDULE,
    created_by: uuid.UUID | str | None = None,
) -> list[dict[str, Any]]:
    """The rows of a deployment's fire times, `fires` being (scheduled_for, held) pairs, each with a new id.

    `deployment` is a row mapping with `latest_version` of its pipeline. The first row is built by `run_row`;
    the others copy it and change only the id, the time and the hold.
    """
    fires = list(fires)
    if not fires:
        return []
    (first_at, first_held), *others = fires
    first = run_row(
        settings,
        namespace_id=deployment["namespace_id"],
        kind=RunKind.PIPELINE,
        trigger=trigger,
        actor=actor,
        created_by=deployment.get("created_by") if created_by is None else created_by,
        params=deployment["params"],
        max_retries=deployment["max_retries"],
        retry_backoff_seconds=deployment.get("retry_backoff_seconds"),
        retry_backoff_max_seconds=deployment.get("retry_backoff_max_seconds"),
        retry_jitter=deployment.get("retry_jitter"),
        timeout_seconds=deployment.get("timeout_seconds"),
        pipeline_id=deployment["pipeline_id"],
        pipeline_version=deployment["pipeline_version"] or deployment["latest_version"],
        deployment_id=deployment["id"],
        scheduled_for=first_at,
        held=first_held,
    )
    return [first, *({**first, "id": uuid7(), "scheduled_for": at, "held": held} for at, held in others)]


def insert_runs(
    connection: Session | Connection, rows: Sequence[Mapping[str, Any]], *, dispatch_actor: str | None = None
) -> list[uuid.UUID]:
    """`insert_run_rows`, answering only the ids inserted, in the rows' order."""
    return [row.id for row in insert_run_rows(connection, rows, dispatch_actor=dispatch_actor)]


def insert_run_rows(
    connection: Session | Connection,
    rows: Sequence[Mapping[str, Any]],
    *,
    dispatch_actor: str | None = None,
    audit: Mapping[str, Any] | None = None,
) -> list[Row[Any]]:
    """Insert the rows with their first events and outbox rows; the runs' rows as inserted, in the rows' order.

    A (deployment, fire time) that already has a run is skipped, so it has no row in the answer. With
    `dispatch_actor` the caller sends the runs itself after its commit (app/domain/dispatch.py): the runs due
    now are inserted QUEUED, dispatched by that actor, with no outbox row (the reaper re-sends a QUEUED run
    whose message never reached the broker). The answer rows carry every column of `runs`, so a submit can
    answer from them without reading the runs back. `audit`: an audit entry (app.domain.audit.entry) the same
    statement writes, one round trip instead of two.
    """
    if not rows:
        return []
    result = connection.execute(query("insert_runs"), _insert_params(rows, dispatch_actor, audit))
    return _in_order(rows, result)


def insert_run_rows_and_commit(
    session: Session,
    rows: Sequence[Mapping[str, Any]],
    *,
    dispatch_actor: str | None = None,
    audit: Mapping[str, Any] | None = None,
) -> list[Any]:
    """`insert_run_rows` as the last statement of the session's transaction, sent with its COMMIT in one round trip.

    For a submit, whose runs wait for that commit before anything can start them: psycopg's pipeline mode
    sends the insert and the COMMIT together, where SQLAlchemy waits for the insert's answer before it
    sends the COMMIT. A failed insert aborts the pipeline, so the COMMIT is not run and the session's
    transaction rolls back as usual (its own commit afterwards finds nothing to commit). The answer rows
    have the same attribute names as `insert_run_rows`'; errors are SQLAlchemy's, as the API maps them.
    """
    if not rows:
        return []  # nothing to send: the caller's transaction commits as usual
    sql, params = psycopg_query("insert_runs"), _insert_params(rows, dispatch_actor, audit)
    raw: psycopg.Connection[Any] = session.connection().connection.driver_connection  # type: ignore[assignment]
    try:
        with raw.pipeline():
            # A batch's answer is every column of up to a thousand runs: in binary, with jsonb (params, progress)
            # parsed by msgspec rather than json.loads, reading it costs about 40 % less CPU (6.1 -> 3.7 ms a
            # thousand). A single run keeps the plain cursor: its single submits' latency did not gain from it.
            many = len(rows) > 1
            cursor = raw.cursor(row_factory=namedtuple_row, binary=many)
            if many:
                set_json_loads(msgspec.json.decode, cursor)
            cursor.execute(sql, params)
            unit_of_work.commit_sent()  # this COMMIT bypasses SQLAlchemy's commit event
            raw.commit()
            result = cursor.fetchall()
    except psycopg.Error as exc:
        # a lost connection is flagged as SQLAlchemy flags one (its dialect's is_disconnect test)
        dropped = raw.closed or raw.broken
        raise DBAPIError.instance(sql, params, exc, psycopg.Error, connection_invalidated=dropped) from exc
    return _in_order(rows, result)


def _in_order(rows: Sequence[Mapping[str, Any]], result: Iterable[Any]) -> list[Any]:
    """The inserted rows in the order of `rows` (a run the statement did not insert is left out)."""
    inserted = {row.id: row for row in result}
    return [inserted[row["id"]] for row in rows if row["id"] in inserted]


def _insert_params(
    rows: Sequence[Mapping[str, Any]], dispatch_actor: str | None, audit: Mapping[str, Any] | None
) -> dict[str, Any]:
    return {
        "runs": msgspec.json.encode(rows).decode(),
        "dispatch_actor": dispatch_actor,
        "audit": msgspec.json.encode(audit).decode() if audit is not None else None,
    }


class ScheduledRun(msgspec.Struct):
    """One run of the schedule loop: the rest of its row comes from its deployment (`insert_scheduled_runs`)."""

    id: uuid.UUID
    deployment_id: uuid.UUID
    scheduled_for: datetime
    held: bool


def insert_scheduled_runs(
    connection: Connection, settings: Settings, runs: Sequence[ScheduledRun], *, actor: str
) -> None:
    """Insert the schedule loop's runs with their first events and outbox rows; a fire time already run is skipped.

    The loop's callers have checked each deployment's timeout with `checked_timeout`, as `run_row` would; the
    other fields are filled in SQL from the deployment, its pipeline and `run_defaults`, so the rows are the
    ones `scheduled_run_rows` would build, for a fraction of the CPU (ten thousand a minute).
    """
    if not runs:
        return
    connection.execute(
        query("insert_scheduled_runs"),
        {
            "rows": msgspec.json.encode(runs).decode(),
            "kind": RunKind.PIPELINE.value,
            "trigger": RunTrigger.SCHEDULE.value,
            "actor": actor,
            **run_defaults(settings),
        },
    ).close()
