"""An ingest run: the dataset's raw file becomes a new immutable Parquet version, with progress, cancel and a log.

The output goes to a folder named by the run and the attempt (app.paths.version_dir),
written under a hidden name and renamed only when complete; the version row that
points at it is written in one transaction with the dataset's new state and
the `dataset.ingested` event. A failed import leaves every earlier version as
it was and records `dataset.import.failed` (app.domain.dataset_writes), with
the run's end, in the transaction that decides it: a cancel that overtook the
failure ends the run CANCELLED, and records no import failure.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any

import msgspec
from sqlalchemy import Engine

from app.core.errors import DomainError
from app.core.notices import note
from app.core.run_notices import ImportFailedLine, Importing, ImportVersion
from app.core.states import RunStatus
from app.db.database import database_for
from app.db.datasets import Upload
from app.db.outage import retry_while_unavailable
from app.domain import datasets as dataset_service
from app.domain import files
from app.domain.attempts import AttemptOver, hold_attempt
from app.ingest import import_file
from app.ingest.config import parse_config
from app.ingest.data_sink import SinkSpent
from app.ingest.errors import ImportCancelled
from app.ingest.import_job import held
from app.ingest.limits import duckdb_of, limits_of
from app.ingest.models import ImportResult
from app.logs import bind, log_context
from app.settings import Settings
from app.storage import StoreUnavailable
from app.storage.streamed_output import StreamedOutput
from workers.context import Interrupted, Interruption, RunContext
from workers.outcomes import Outcome, crashed, interrupted
from workers.runtime import WORKER_ID
from workers.version_rows import record_version

logger = logging.getLogger(__name__)
#: How many problems of a failed import its run's progress keeps (the rest are counted in the message).
PROBLEMS_SHOWN = 20


def run_import(ctx: RunContext, row: Any, *, engine: Engine, settings: Settings) -> Outcome:
    """One attempt of an ingest run; never raises. A failure no attempt follows is logged ("import failed") with the
    run's end, as the dataset's is recorded (`after_attempt`'s write): neither when a cancel made the end CANCELLED."""
    dataset_id: uuid.UUID = row["dataset_id"]
    token = bind(run_id=ctx.run_id, dataset_id=dataset_id)
    try:
        outcome = _attempt(ctx, row, engine=engine, settings=settings)
        if outcome.status in (RunStatus.SUCCEEDED, RunStatus.CANCELLED):
            return outcome
        failed = ImportFailedLine(
            error_code=outcome.error_code or outcome.reason, error=outcome.error_message or outcome.reason
        )
        return replace(outcome, given_up_line=note(failed))
    finally:
        log_context.reset(token)


def _attempt(ctx: RunContext, row: Any, *, engine: Engine, settings: Settings) -> Outcome:
    try:
        with files.attempt_files(settings, row["dataset_id"], ctx.run_id, ctx.attempt) as own:
            _import(ctx, row, own, engine=engine, settings=settings)
        return Outcome(RunStatus.SUCCEEDED, "succeeded")
    except (ImportCancelled, Interrupted):
        return interrupted(ctx.interruption) if ctx.interruption else Outcome(RunStatus.CANCELLED, "cancelled")
    except AttemptOver:  # the reaper gave its run away as it was about to publish: its end is not this attempt's
        ctx.interrupt(Interruption.LOST)
        return interrupted(Interruption.LOST)
    except dataset_service.DatasetDeleted:
        # Deleting the dataset cancelled this import (app/domain/datasets.py); it ended before its heartbeat
        # heard so, and its version was refused and its files removed: it ends as the cancel says, not FAILED.
        return interrupted(Interruption.CANCEL)
    except StoreUnavailable as exc:  # the data store will be back: the retry policy applies
        return Outcome(RunStatus.FAILED, "failed", exc.code, exc.detail, retryable=True)
    except DomainError as exc:  # the file or the configuration: another attempt would fail the same way
        if exc.errors:  # a strict import's first problems, with row and column, for the console to list
            ctx.progress = {**ctx.progress, "problems": exc.errors[:PROBLEMS_SHOWN]}
        return Outcome(RunStatus.FAILED, "failed", exc.code, exc.detail, retryable=False)
    except Exception as exc:
        return crashed(exc, f"import run {ctx.run_id} attempt {ctx.attempt}")


def _import(ctx: RunContext, row: Any, own: files.AttemptFiles, *, engine: Engine, settings: Settings) -> None:
    params = row["params"] or {}
    config = parse_config(params.get("config"))
    upload_id = uuid.UUID(params["upload_id"])

    def read_upload() -> tuple[str, int]:
        with database_for(engine).read() as session:
            upload = session.get_one(Upload, upload_id)
            return upload.filename, upload.size

    filename, size = retry_while_unavailable(
        read_upload, what=f"reading upload {upload_id}", give_up_after=settings.database_wait_seconds
    )
    ctx.log(note(Importing(file=filename, bytes=size, config=_describe(config))))

    @held  # an import written again without its sink (SinkSpent) holds where the first one got to
    def progress(rows: int, bytes_read: int, total: int) -> None:
        percent = round(100 * bytes_read / total, 1) if total else None
        ctx.progress = {"rows": rows, "bytes": bytes_read, "total_bytes": total, "percent": percent}

    source = files.upload_file(settings, upload_id)  # this host's copy when the data root is in S3

    def imported(sink: StreamedOutput | None) -> tuple[ImportResult, int]:
        result = import_file(
            source,
            filename=filename,
            config=config,
            limits=limits_of(settings),
            out_dir=own.folder,
            duckdb_settings=duckdb_of(settings),
            progress=progress,
            should_stop=lambda: ctx.interruption is not None,
            data_sink=sink,
        )
        ctx.check()  # cancelled or timed out after the last batch: no version
        for notice in result.notices:  # each warning, with its code
            ctx.log(note(notice), level="warning")
        parquet_bytes = Path(result.data_path).stat().st_size
        # Uploaded before the version row exists: a version is never visible without its files.
        files.publish_version(
            settings,
            row["dataset_id"],
            ctx.run_id,
            ctx.attempt,
            Path(result.data_path).parent,
            data_streamed=bool(sink and sink.streamed),
        )
        return result, parquet_bytes

    # On S3 the Parquet goes to the store while DuckDB writes it; the object is complete when the block ends
    # (after the checks in `imported`), and an error in the block aborts it: no version row points at half a file.
    try:
        with files.data_stream(settings, row["dataset_id"], ctx.run_id, ctx.attempt) as sink:
            result, parquet_bytes = imported(sink)
    except SinkSpent:  # the import writes its data file twice (rare): imported again, the local file uploaded after
        result, parquet_bytes = imported(None)
    columns = [{"name": c.name, "type": c.type, "nulls": c.nulls, "min": c.min, "max": c.max} for c in result.columns]

    def record() -> int:
        with database_for(engine).transaction() as session:
            hold_attempt(session, ctx.run_id, ctx.attempt)
            return dataset_service.record_version(
                session,
                dataset_id=row["dataset_id"],
                run_id=ctx.run_id,
                attempt=ctx.attempt,
                upload_id=upload_id,
                row_count=result.rows,
                size_bytes=parquet_bytes,
                source_bytes=result.bytes_read,
                rejected_rows=result.rejected,
                columns=columns,
                config=_builtins(result.config),
                notices=result.notices,
                producer=WORKER_ID,
            )

    what = f"recording run {ctx.run_id}'s version"
    version = record_version(own, record, what=what, settings=settings, folder=Path(result.data_path).parent)
    ctx.progress = {"rows": result.rows, "bytes": result.bytes_read, "total_bytes": size, "percent": 100.0}
    written = ImportVersion(
        version=version, rows=result.rows, columns=len(columns), rejected=result.rejected, parquet_bytes=parquet_bytes
    )
    ctx.log(note(written))


def _builtins(config: Any) -> dict[str, Any]:
    return msgspec.to_builtins(config)  # type: ignore[no-any-return]


def _describe(config: Any) -> str | None:
    given = {k: v for k, v in _builtins(config).items() if v not in (None, [], {})}
    return str(given) if given else None
