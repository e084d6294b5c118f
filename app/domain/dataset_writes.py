"""Which run is writing a dataset, and where the dataset stands when that run ends without a version.

One rule for imports and pipeline outputs alike, used by the workers, the reaper and a cancel: the run that
writes a dataset is its `last_run_id`; a dataset with no version shows as importing while that run lasts, and a
run that ends without writing leaves every version as it was (a dataset with none is marked failed).
"""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.db.datasets import Dataset, DatasetStatus
from app.domain.events import record_event


def begin_write(dataset: Dataset, run_id: uuid.UUID) -> None:
    """`run_id` now writes `dataset`; one with no version yet shows as importing until the run ends."""
    dataset.status = DatasetStatus.IMPORTING if dataset.current_version is None else dataset.status
    dataset.last_run_id = run_id
    dataset.updated_at = func.now()  # type: ignore[assignment]


def record_import_failure(
    session: Session, *, dataset_id: uuid.UUID, run_id: uuid.UUID, code: str, message: str, producer: str
) -> None:
    """A failed import (or pipeline output) leaves every version as it was; a dataset with none is marked failed.

    An uploaded dataset's failure is the `dataset.import.failed` event; a generated one's is its run's own event."""
    dataset = session.get_one(Dataset, dataset_id, with_for_update=True)
    if dataset.deleted_at is not None:  # deleting it cancelled the run: nothing is written for it any more
        return
    if dataset.last_run_id == run_id:
        dataset.status = DatasetStatus.FAILED if dataset.current_version is None else DatasetStatus.READY
        dataset.last_error = message
        dataset.updated_at = func.now()  # type: ignore[assignment]
    if dataset.source == "uploaded":
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


def end_writes(session: Session, *, run_id: uuid.UUID, code: str, message: str, producer: str) -> None:
    """Each dataset still importing for `run_id`, which has ended without a version, ended as a failed import."""
    importing = select(Dataset.id).where(
        Dataset.last_run_id == run_id, Dataset.status == DatasetStatus.IMPORTING, Dataset.deleted_at.is_(None)
    )
    for dataset_id in session.scalars(importing).all():
        record_import_failure(
            session, dataset_id=dataset_id, run_id=run_id, code=code, message=message, producer=producer
        )
