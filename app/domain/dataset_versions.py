"""A dataset's versions as they are read: paged, counted, one chosen, and who made each."""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.core.errors import Conflict, NotFound
from app.core.states import RunKind
from app.db.accounts import User
from app.db.datasets import Dataset, DatasetVersion
from app.db.models import Run
from app.domain.pagination import numbered_page


def list_versions(
    session: Session, dataset_id: uuid.UUID, *, limit: int, cursor: str | None = None, run_id: uuid.UUID | None = None
) -> list[DatasetVersion]:
    """Up to `limit + 1` versions, newest first, after the cursor's version (the extra one says more exist); with
    `run_id`, only the version that run wrote (a run writes one at the most)."""
    query = select(DatasetVersion).where(DatasetVersion.dataset_id == dataset_id)
    if run_id is not None:
        query = query.where(DatasetVersion.run_id == run_id)
    return list(session.scalars(numbered_page(query, DatasetVersion.version, limit=limit, cursor=cursor)))


def published_by(session: Session, run_id: uuid.UUID) -> DatasetVersion | None:
    """The version run `run_id` published, if it did. A run writes one immutable version: an attempt that meets its
    run's (an earlier attempt committed it, then failed or was lost before the run was marked) ends the run SUCCEEDED
    from it, writing nothing (workers/published.py, the reaper)."""
    return session.scalar(select(DatasetVersion).where(DatasetVersion.run_id == run_id))


def published_progress(kind: str, version: DatasetVersion) -> dict[str, Any]:
    """The progress of a run that ends SUCCEEDED from the version it published (an import's or a pipeline's), whatever
    its lost attempt last reported: its figures (rows, bytes: what the metrics count) are the version's, 100 %."""
    if kind == RunKind.INGEST.value:
        return {"rows": version.row_count, "bytes": version.source_bytes, "percent": 100.0}
    return {"rows_out": version.row_count, "bytes": version.size_bytes, "percent": 100.0}


def count_versions(session: Session, dataset_id: uuid.UUID) -> int:
    """How many versions the dataset has: counted, not read off the newest number (numbers may have gaps)."""
    counted = select(func.count()).select_from(DatasetVersion).where(DatasetVersion.dataset_id == dataset_id)
    return session.scalar(counted) or 0


class Maker(msgspec.Struct):
    """Who or what made a version: its run's kind and trigger, and the user the run was made by (if any)."""

    run_kind: str
    trigger: str
    user_id: uuid.UUID | None
    username: str | None


def makers(session: Session, run_ids: list[uuid.UUID]) -> dict[uuid.UUID, Maker]:
    """The maker of each run, in one query, so a version list can say who made each version."""
    if not run_ids:
        return {}
    q = (
        select(Run.id, Run.kind, Run.trigger, Run.created_by, User.username)
        .outerjoin(User, User.id == Run.created_by)
        .where(Run.id.in_(run_ids))
    )
    return {row.id: Maker(row.kind, row.trigger, row.created_by, row.username) for row in session.execute(q)}


def get_version(session: Session, dataset: Dataset, version: int | None) -> DatasetVersion:
    """A version of the dataset (the current one by default); 404 `version_not_found`, 409 when none exists yet."""
    if version is None:
        if dataset.current_version is None:
            raise Conflict(
                "the dataset has no imported version yet: start an import first", code="dataset_not_imported"
            )
        version = dataset.current_version
    found = session.get(DatasetVersion, (dataset.id, version))
    if found is None:
        raise NotFound(f"dataset {dataset.id} has no version {version}", code="version_not_found")
    return found
