"""An attempt of a run whose version is already published: the run ends SUCCEEDED from it, nothing run or written.

A run writes one immutable version (`dataset_versions.published_by`). An earlier attempt that committed it and was
then lost or failed before its run was marked SUCCEEDED left a retry that would run again and write the version's
files anew: imports and pipeline runs alike. The version's files are those of the attempt that published it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine

from app.core.notices import note
from app.core.run_notices import ImportVersion, OutputVersion
from app.core.states import RunKind, RunStatus
from app.db.database import database_for
from app.db.datasets import Dataset
from app.db.outage import retry_while_unavailable
from app.domain import files
from app.domain.dataset_versions import published_by, published_progress
from app.settings import Settings
from workers.context import RunContext
from workers.outcomes import Outcome


def already_published(ctx: RunContext, row: Any, *, engine: Engine, settings: Settings) -> Outcome | None:
    """SUCCEEDED, its version logged and its figures the run's progress, if the run's version is published; else
    None (the attempt runs)."""

    def read() -> tuple[Any, str] | None:
        with database_for(engine).read() as session:
            version = published_by(session, ctx.run_id)
            if version is None:
                return None
            dataset = session.get_one(Dataset, version.dataset_id)
            return version, dataset.name

    found = retry_while_unavailable(
        read, what=f"looking for run {ctx.run_id}'s version", give_up_after=settings.database_wait_seconds
    )
    if found is None:
        return None
    version, name = found
    # the attempts before this one were given up on: only the files of the one that published are kept
    files.drop_attempts_quietly(settings, version.dataset_id, ctx.run_id, before=ctx.attempt, keep=version.attempt)
    if row["kind"] == RunKind.INGEST.value:
        written: Any = ImportVersion(
            version=version.version,
            rows=version.row_count,
            columns=len(version.columns),
            rejected=version.rejected_rows,
            parquet_bytes=version.size_bytes,
        )
    else:
        columns = len(version.columns)
        written = OutputVersion(output=name, version=version.version, rows=version.row_count, columns=columns)
    ctx.progress = published_progress(row["kind"], version)
    ctx.log(note(written))
    return Outcome(RunStatus.SUCCEEDED, "succeeded")
