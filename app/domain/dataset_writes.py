"""Which run is writing a dataset, and where the dataset stands when that run ends without a version.

One rule for imports and pipeline outputs alike, applied where a run's final state is decided (the end of an
attempt, the reaper, a cancel, the overlap policy), in that transaction: the run that writes a dataset is its
`last_run_id`; a dataset with no version shows as importing while that run lasts, and a run that ends without
writing leaves every version as it was (a dataset with none is marked failed). The dataset's event agrees with the
run's end: an import that ended FAILED or TIMED_OUT records `dataset.import.failed`; one that ended CANCELLED
records none (its run's CANCELLED event, and the `run.cancelled` webhook, say what happened).
"""

from __future__ import annotations

import uuid

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from app.core.states import RunKind, RunStatus
from app.db.datasets import Dataset, DatasetStatus
from app.db.models import Run
from app.domain.events import record_event

#: The ends of a run that make its import a failed one (`dataset.import.failed`); a cancel is not a failure.
IMPORT_FAILURES: frozenset[RunStatus] = frozenset({RunStatus.FAILED, RunStatus.TIMED_OUT})


def begin_write(dataset: Dataset, run_id: uuid.UUID) -> None:
    """`run_id` now writes `dataset`; one with no version yet shows as importing until the run ends."""
    dataset.status = DatasetStatus.IMPORTING if dataset.current_version is None else dataset.status
    dataset.last_run_id = run_id
    dataset.updated_at = func.now()  # type: ignore[assignment]


def write_again(session: Session, run_id: uuid.UUID, dataset_id: uuid.UUID) -> None:
    """An import retried by hand writes its dataset again, as when it started: one with no version shows as importing
    (not failed) while the run lasts. A deleted dataset is left as it is (the import finds it deleted, and ends)."""
    dataset = session.get(Dataset, dataset_id, with_for_update=True)
    if dataset is not None and dataset.deleted_at is None:
        begin_write(dataset, run_id)


def _end_write(
    session: Session,
    *,
    dataset_id: uuid.UUID,
    run_id: uuid.UUID,
    status: RunStatus,
    code: str,
    message: str,
    producer: str,
) -> None:
    """An import (or pipeline output) that ended in `status` without a version leaves every version as it was; a
    dataset with none is marked failed.

    An uploaded dataset's failed import is the `dataset.import.failed` event; a generated one's is its run's own
    event, and so is a cancelled import's."""
    dataset = session.get_one(Dataset, dataset_id, with_for_update=True)
    if dataset.deleted_at is not None:  # deleting it cancelled the run: nothing is written for it any more
        return
    if dataset.last_run_id == run_id:
        dataset.status = DatasetStatus.FAILED if dataset.current_version is None else DatasetStatus.READY
        dataset.last_error = message
        dataset.updated_at = func.now()  # type: ignore[assignment]
    if dataset.source == "uploaded" and status in IMPORT_FAILURES:
        record_event(
            session,
            "dataset.import.failed",
            producer=producer,
            namespace_id=dataset.namespace_id,
            dataset_id=dataset_id,
            run_id=run_id,
            payload={"error_code": code, "message": message[:2000]},
        )
    session.flush()


def end_writes(
    session: Session, *, run_id: uuid.UUID, status: RunStatus, code: str, message: str, producer: str
) -> None:
    """The datasets `run_id` wrote, now that it has ended in `status` (not SUCCEEDED) without a version: each one
    still importing for it, and an import's own dataset (whose versions it leaves as they were), in the caller's
    transaction, which records the run's end."""
    imported = select(Run.dataset_id).where(Run.id == run_id, Run.kind == RunKind.INGEST.value).scalar_subquery()
    writing = select(Dataset.id).where(
        or_(
            (Dataset.last_run_id == run_id) & (Dataset.status == DatasetStatus.IMPORTING),
            Dataset.id == imported,
        ),
        Dataset.deleted_at.is_(None),
    )
    for dataset_id in session.scalars(writing).all():
        _end_write(
            session, dataset_id=dataset_id, run_id=run_id, status=status, code=code, message=message, producer=producer
        )
