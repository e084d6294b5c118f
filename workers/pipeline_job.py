"""A pipeline run: Parquet inputs → sandboxed DuckDB steps → a generated dataset version, any part optional.

Every pipeline goes through this one engine, so template rendering and error
codes are the same everywhere; a pipeline of log/sleep/fail steps only never
opens DuckDB.

Inputs are the dataset versions pinned when the run was submitted (a scheduled
run, which has none pinned, takes each input's current version when it
starts). The output is written to a folder named by the run; the version row,
its lineage (run, pipeline version, each input version) and the
`dataset.generated` event are written in one transaction, and the run names
its output dataset.
"""

from __future__ import annotations

import logging
import shutil
import uuid
from pathlib import Path
from typing import Any

import msgspec
from sqlalchemy import Engine, update

from app.core.errors import DomainError
from app.core.notices import note
from app.core.run_notices import InputPinned, OutputVersion, ParamsIgnored
from app.core.states import RunStatus
from app.db.database import database_for
from app.db.datasets import DatasetVersion
from app.db.models import Run
from app.domain import datasets as dataset_service
from app.domain import files as data_files
from app.domain import pipeline_io
from app.domain.attempts import AttemptOver, hold_attempt
from app.domain.earlier_outputs import earlier_outputs
from app.ingest.limits import duckdb_of
from app.pipeline import (
    DATA_FILE,
    InputFile,
    PipelineCancelled,
    RunInfo,
    output_dataset_name,
    run_pipeline,
    uses_duckdb,
    writes_files,
)
from app.pipeline import params as pipeline_params
from app.pipeline.contained import run_contained
from app.pipeline.spec import PipelineSpec, parse_spec
from app.settings import Settings
from workers.context import Interrupted, Interruption, RunContext
from workers.outcomes import Outcome, crashed, interrupted
from workers.runtime import WORKER_ID
from workers.version_rows import record_version

logger = logging.getLogger(__name__)


def run_pipeline_job(ctx: RunContext, row: Any, *, engine: Engine, settings: Settings) -> Outcome:
    """One attempt of a pipeline run, whatever its steps (log/sleep/fail only, or data); never raises. When no
    attempt follows, the output dataset is left as a failed import would leave it, with the run's end (see
    `dataset_writes`).

    The executor has bound the run's ids to every log line already.
    """
    return _attempt(ctx, row, engine=engine, settings=settings)


def _attempt(ctx: RunContext, row: Any, *, engine: Engine, settings: Settings) -> Outcome:
    try:
        spec = _spec(row)
        if ctx.attempt > 1:  # an earlier attempt's report is not this one's
            _set_validation(engine, ctx, None)
        _run(ctx, row, spec, engine=engine, settings=settings)
        return Outcome(RunStatus.SUCCEEDED, "succeeded")
    except (Interrupted, PipelineCancelled):
        return interrupted(ctx.interruption) if ctx.interruption else Outcome(RunStatus.CANCELLED, "cancelled")
    except AttemptOver:  # the reaper gave its run away as it was about to publish: its end is not this attempt's
        ctx.interrupt(Interruption.LOST)
        return interrupted(Interruption.LOST)
    except dataset_service.DatasetDeleted:
        # Deleting its output dataset cancelled this run (app/domain/datasets.py); it ended before its heartbeat
        # heard so (a retry finding the output its run had deleted, which it does not make again, or a version
        # refused and its files removed): it ends as the cancel says, not FAILED.
        return interrupted(Interruption.CANCEL)
    except DomainError as exc:
        if ctx.interruption is not None:
            return interrupted(ctx.interruption)
        _record_validations(engine, ctx, getattr(exc, "validations", None))
        retryable = bool(getattr(exc, "retryable", False))
        return Outcome(RunStatus.FAILED, "failed", exc.code, exc.detail, retryable=retryable)
    except Exception as exc:
        return crashed(exc, f"pipeline run {ctx.run_id} attempt {ctx.attempt}")


#: Parsed specs by (pipeline, version): a version's spec never changes, so each worker checks it once.
_SPECS: dict[tuple[uuid.UUID, int], PipelineSpec] = {}
_SPECS_KEPT = 256


def _spec(row: Any) -> PipelineSpec:
    """The run's pipeline spec, parsed and checked (once per pipeline version in this process)."""
    key = (row["pipeline_id"], row["pipeline_version"])
    spec = _SPECS.get(key) if key[1] is not None else None
    if spec is None:
        spec = parse_spec(row["spec"] or {"steps": []})
        if key[1] is not None:
            if len(_SPECS) >= _SPECS_KEPT:
                _SPECS.clear()
            _SPECS[key] = spec
    return spec


def _run(ctx: RunContext, row: Any, spec: PipelineSpec, *, engine: Engine, settings: Settings) -> None:
    chosen_versions: dict[str, tuple[uuid.UUID, uuid.UUID, int | None, int]] = {}
    if row["inputs"] or spec.inputs:  # a pipeline without inputs has nothing to read here
        with database_for(engine).transaction() as session:
            pinned = row["inputs"] or pipeline_io.resolve_inputs(
                session, msgspec.to_builtins(spec), {}, namespace_id=row["namespace_id"], principal=None
            )
            for name, chosen in pinned.items():
                version = session.get_one(DatasetVersion, (uuid.UUID(chosen["dataset_id"]), chosen["version"]))
                chosen_versions[name] = (version.dataset_id, version.run_id, version.attempt, version.version)
                shown = str(chosen.get("name", chosen["dataset_id"]))
                ctx.log(note(InputPinned(input=name, dataset=shown, version=version.version)))
    files: dict[str, InputFile] = {}
    for name, (dataset_id, run_id, attempt, number) in chosen_versions.items():
        # in place on a local data root; through this host's LRU cache (keyed by version) on S3
        path = data_files.version_file(settings, dataset_id, run_id, DATA_FILE, attempt=attempt)
        files[name] = InputFile(path=str(path), dataset_id=str(dataset_id), version=number)
    info = RunInfo(id=str(ctx.run_id), scheduled_for=row["scheduled_for"], started_at=row["started_at"])
    params = row["params"] or {}
    if params and pipeline_params.ignored(spec.params):
        ctx.log(note(ParamsIgnored(params=sorted(params))), level="warning")
        params = {}
    # Without an output there is no name to render (run_pipeline checks the parameters all the same, before any work)
    name = output_dataset_name(spec, params=params, run=info) if spec.output is not None else None
    output_id: uuid.UUID | None = None
    earlier: list[uuid.UUID] = []
    if name is not None:
        with database_for(engine).transaction() as session:
            # a retry goes on writing the output its run already has (its name rendered now may differ)
            output = pipeline_io.bind_output(session, namespace_id=row["namespace_id"], name=name, run_id=ctx.run_id)
            output_id, name = output.id, output.name
            # a run retried by hand may have written another output before: its earlier attempts' folders there
            earlier = earlier_outputs(session, ctx.run_id) if ctx.attempt > 1 else []
    # the attempt's own folder: files an earlier attempt (or a late one given up on) writes are never these
    with data_files.attempt_files(settings, output_id, ctx.run_id, ctx.attempt, earlier) as own:
        out_dir: Path | None = None  # a pipeline of log/sleep/fail steps writes no file, so it needs no folder
        if output_id is not None:
            out_dir = own.folder
        elif writes_files(spec):
            out_dir = settings.data_path / "tmp" / f"run-{ctx.run_id}-a{ctx.attempt}"

        def on_step(index: int, total: int) -> None:
            ctx.step = index
            ctx.progress = {"step": index, "steps": total, "percent": round(100 * (index - 1) / max(total, 1), 1)}

        def log(message: str, level: str = "info") -> None:
            ctx.log(message, level=level)

        def should_stop() -> bool:
            ctx.note_deadline()
            return ctx.interruption is not None

        try:
            if uses_duckdb(spec):  # in a child this thread watches: DuckDB does not bound all of its own memory
                result = run_contained(
                    spec,
                    inputs=files,
                    params=params,
                    run=info,
                    out_dir=None if out_dir is None else str(out_dir),
                    duckdb_settings=duckdb_of(settings),
                    memory_limit_mb=settings.job_memory_limit_mb,
                    log=log,
                    should_stop=should_stop,
                    on_step=on_step,
                )
            else:  # log/sleep/fail steps only: no child, the no-op runs stay cheap
                result = run_pipeline(
                    spec,
                    inputs=files,
                    params=params,
                    run=info,
                    out_dir=out_dir,
                    duckdb_settings=duckdb_of(settings),
                    log=log,
                    should_stop=should_stop,
                    sleep=ctx.wait,
                    on_step=on_step,
                )
        finally:
            if output_id is None and out_dir is not None:  # a run that writes no dataset leaves no scratch behind
                shutil.rmtree(out_dir, ignore_errors=True)
        ctx.check()
        ctx.step = None
        done = {"rows_in": result.rows_in, "rows_out": result.rows_out, "bytes": result.bytes_out, "percent": 100.0}
        ctx.progress = done
        _record_validations(engine, ctx, result.validations)
        if output_id is None or result.data_path is None:
            return
        # Uploaded before the version row exists: a version is never visible without its files.
        data_files.publish_version(settings, output_id, ctx.run_id, ctx.attempt, Path(result.data_path).parent)
        lineage = {
            "run_id": str(ctx.run_id),
            "pipeline_id": str(row["pipeline_id"]),
            "pipeline_version": row["pipeline_version"],
            "inputs": [{"name": n, "dataset_id": f.dataset_id, "version": f.version} for n, f in files.items()],
        }
        columns = [
            {"name": c.name, "type": c.type, "nulls": c.nulls, "min": c.min, "max": c.max} for c in result.columns
        ]

        def record() -> int:
            with database_for(engine).transaction() as session:
                hold_attempt(session, ctx.run_id, ctx.attempt)
                return dataset_service.record_version(
                    session,
                    dataset_id=output_id,
                    run_id=ctx.run_id,
                    attempt=ctx.attempt,
                    upload_id=None,
                    row_count=result.rows_out or 0,
                    size_bytes=result.bytes_out or 0,
                    source_bytes=0,
                    rejected_rows=0,
                    columns=columns,
                    config={},
                    notices=[],
                    producer=WORKER_ID,
                    lineage=lineage,
                )

        what = f"recording run {ctx.run_id}'s output"
        number = record_version(own, record, what=what, settings=settings, folder=Path(result.data_path).parent)
        ctx.log(note(OutputVersion(output=name, version=number, rows=result.rows_out, columns=len(columns))))


def _record_validations(engine: Engine, ctx: RunContext, validations: Any) -> None:
    """Keep the validate steps' reports (counts, sample violations) with the run, while the attempt still runs it: an
    attempt given up on (its lease lapsed, its run retried) that gets here late leaves the report of the attempt that
    replaced it as it is."""
    if validations:
        _set_validation(engine, ctx, msgspec.to_builtins(validations))


def _set_validation(engine: Engine, ctx: RunContext, report: Any) -> None:
    """The run's validation report is `report` (None: none yet), if the attempt still runs the run."""
    running = (Run.id == ctx.run_id) & (Run.attempt == ctx.attempt) & (Run.status == RunStatus.RUNNING.value)
    if report is None:
        running &= Run.validation.is_not(None)
    with database_for(engine).transaction() as session:
        session.execute(update(Run).where(running).values(validation=report))
