"""The outputs a pipeline run retried by hand gave up: still the run's, for removing its attempts' folders there.

A retry by hand starts a pipeline run without an output (`runs.retry_run`: deleting what its failed attempt left must
not cancel it), and its next attempt finds or makes one afresh, maybe another dataset. The attempts before the retry
wrote their folders under the output they had (…/runs/<run>/a<n>/), and those no version row names are removed only by
whoever knows that dataset: so it is kept here, read by the next attempt and by the attempt-folder sweep.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from app.db.models import RunEarlierOutput


def give_up_output(session: Session, run_id: uuid.UUID, dataset_id: uuid.UUID) -> None:
    """`run_id` no longer names `dataset_id` as its output; its attempts' folders there stay its own to remove."""
    session.execute(insert(RunEarlierOutput).values(run_id=run_id, dataset_id=dataset_id).on_conflict_do_nothing())


def earlier_outputs(session: Session, run_id: uuid.UUID) -> list[uuid.UUID]:
    """The outputs the run gave up when it was retried by hand (none for most runs)."""
    found = select(RunEarlierOutput.dataset_id).where(RunEarlierOutput.run_id == run_id)
    return list(session.scalars(found.order_by(RunEarlierOutput.dataset_id)))
