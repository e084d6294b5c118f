"""State changes outside the hot path: lock the row, check the table, update, write the event."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy.orm import Session

from app.core.states import IllegalTransition, RunStatus, sources
from app.db.models import OutboxMessage, Run, RunEvent
from app.db.queries import query


def transition(
    session: Session,
    run: Run,
    target: RunStatus,
    *,
    reason: str,
    actor: str,
    among: Iterable[RunStatus] | None = None,
    changes: Mapping[str, Any] | None = None,
    details: dict[str, Any] | None = None,
) -> Run:
    """Move a run (already locked by the caller) to `target` and record why.

    Raises IllegalTransition if the table (narrowed to `among`) does not allow
    it: callers check the status first, so this is a bug, never user input.
    """
    source = run.status
    if source not in sources(target, among):
        raise IllegalTransition(f"run {run.id}: {source} → {target} is not allowed here")
    run.status = target.value
    for column, value in (changes or {}).items():
        setattr(run, column, value)
    session.add(
        RunEvent(
            run_id=run.id,
            from_status=source,
            to_status=target.value,
            reason=reason,
            actor=actor,
            attempt=run.attempt,
            details=details or {},
        )
    )
    session.flush()
    session.refresh(run)
    return run


def write_outbox(session: Session, run: Run, *, queue: str) -> None:
    """Ask the relay to send `run` to the broker, when this transaction commits."""
    session.add(OutboxMessage(run_id=run.id, queue=queue, priority=run.priority))
    session.execute(query("wake_relay"))
