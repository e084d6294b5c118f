"""Domain events (dataset.ingested, dataset.import.failed, ...), written in the transaction of what they report."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session

from app.core.ids import uuid7
from app.db.datasets import Event
from app.logs import current_trace_id


def record_event(
    session: Session,
    type_: str,
    *,
    producer: str,
    namespace_id: uuid.UUID | None = None,
    dataset_id: uuid.UUID | None = None,
    dataset_version: int | None = None,
    run_id: uuid.UUID | None = None,
    payload: dict[str, Any] | None = None,
) -> uuid.UUID:
    """Add one event to the session; returns its id."""
    event_id = uuid7()
    session.add(
        Event(
            id=event_id,
            type=type_,
            trace_id=current_trace_id(),
            producer=producer,
            namespace_id=namespace_id,
            dataset_id=dataset_id,
            dataset_version=dataset_version,
            run_id=run_id,
            payload=payload or {},
        )
    )
    return event_id
