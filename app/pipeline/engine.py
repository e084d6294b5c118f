"""Run a pipeline: inputs as views over Parquet, steps as views or tables, the output as one new Parquet file.

The output is written under a hidden work directory inside `out_dir` and renamed to `out_dir/data.parquet` only
when every step succeeded; on any error nothing is left behind. `should_stop()` is polled between steps and
while a query runs, which it interrupts (DuckDB `interrupt()`), so cancel and timeout take effect at once.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import msgspec

from app.core.notices import note
from app.core.run_notices import InputRead, OutputCopied, OutputWritten, RuleChecked, Sleeping, StepDone
from app.ingest.config import DuckDBSettings
from app.ingest.models import ColumnStats
from app.paths import DATA_FILE
from app.pipeline import params as pipeline_params
from app.pipeline import rules
from app.pipeline import templates as pipeline_templates
from app.pipeline.compile import StepContext
from app.pipeline.errors import (
    DataValidationFailed,
    PipelineCancelled,
    PipelineInputsMismatch,
    PipelineStepFailed,
    PipelineTemplateError,
    step_error,
)
from app.pipeline.models import InputFile, PipelineResult, RunInfo, StepStats, StepValidation
from app.pipeline.plan import How, plan
from app.pipeline.relations import Relations
from app.pipeline.sandbox import open_run_connection
from app.pipeline.spec import (
    CATALOG,
    FailStep,
    LogStep,
    PipelineSpec,
    ResolvedStep,
    SleepStep,
    SortStep,
    SqlStep,
    StepCatalog,
    is_relational,
    output_relation,
    parse_spec,
    resolve_steps,
)

#: The output file's name inside `out_dir`.
#: What a generated dataset's name may contain once its template is rendered (as for any dataset).
DATASET_NAME = re.compile(r"^[^\x00-\x1f/\\]{1,200}$")

Log = Callable[[str, str], None]


def run_pipeline(
    spec: PipelineSpec | Mapping[str, Any],
    *,
    inputs: Mapping[str, InputFile],
    params: Mapping[str, Any],
    run: RunInfo,
    out_dir: str | os.PathLike[str] | None,
    duckdb_settings: DuckDBSettings,
    log: Log,
    should_stop: Callable[[], bool],
    sleep: Callable[[float], None],
    catalog: StepCatalog | None = None,
    on_step: Callable[[int, int], None] | None = None,
) -> PipelineResult:
    """Run every step of `spec` over `inputs` (one Parquet file per declared input); write the output, if the
    spec has one, to `out_dir/data.parquet`. `on_step(number, total)` is called as each step starts. `out_dir`
    may be None for a pipeline that `writes_files` says writes none.

    Raises InvalidPipelineSpec / InvalidPipelineParams / PipelineInputsMismatch / PipelineTemplateError before
    any work, then PipelineStepFailed, SandboxViolation, DataValidationFailed or PipelineCancelled."""
    started = time.monotonic()
    catalog = catalog or CATALOG
    if not isinstance(spec, PipelineSpec):
        spec = parse_spec(spec, catalog=catalog, prefix="")
    steps = resolve_steps(spec)
    values = pipeline_params.resolve(spec.params, params)
    _check_inputs(spec, inputs)
    inputs = {  # plain values whatever the caller passed (a Path, a UUID), so the result encodes as JSON
        name: InputFile(path=os.fspath(given.path), dataset_id=str(given.dataset_id), version=int(given.version))
        for name, given in inputs.items()
    }
    facts = _facts(run)
    output_name = _output_name(spec, values, facts)
    hows = plan(steps, has_output=spec.output is not None)

    duckdb_needed = uses_duckdb(spec)
    # A pipeline of log/sleep/fail steps writes no file: it makes no folder either (most no-op runs are these).
    work: Path | None = None
    out: Path | None = None
    if writes_files(spec):
        if out_dir is None:
            raise ValueError("this pipeline writes files: it needs an out_dir")
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=".pipeline-", dir=out))
    target = str(work / DATA_FILE) if work is not None and spec.output is not None else None
    conn = None
    try:
        if duckdb_needed:
            assert work is not None
            conn = open_run_connection(
                duckdb_settings,
                inputs=[inputs[name].path for name in spec.inputs],
                output_file=target,
                spill_directory=str(work / ".duckdb_tmp"),
                preserve_order=any(_orders_rows(step.step) for step in steps),
            )
        state = _Run(
            relations=Relations(conn, params=values, catalog=catalog, log=log, should_stop=should_stop)
            if conn
            else None,
            conn=conn,
            values=values,
            facts=facts,
            target=target,
            catalog=catalog,
            log=log,
            sleep=sleep,
        )
        rows_in = _open_inputs(state.relations, spec, inputs, log) if state.relations else 0
        for resolved, how in zip(steps, hows, strict=True):
            if should_stop():
                raise PipelineCancelled("pipeline cancelled")
            if on_step is not None:
                on_step(resolved.index + 1, len(steps))
            stats = state.step(resolved, how)
            log(note(_describe(stats, len(steps))), "info")
        if should_stop():
            raise PipelineCancelled("pipeline cancelled")
        rows_out, bytes_out, columns, data_path = _finish(spec, steps, hows, state.relations, target, out, log)
    finally:
        if conn is not None:
            conn.close()
        if work is not None:
            shutil.rmtree(work, ignore_errors=True)
    return PipelineResult(
        rows_in=rows_in,
        rows_out=rows_out,
        bytes_out=bytes_out,
        data_path=data_path,
        output_dataset=output_name,
        columns=columns,
        steps=state.executed,
        validations=state.validations,
        params=pipeline_params.to_json(values),
        inputs={name: inputs[name] for name in spec.inputs},
        duration_ms=round((time.monotonic() - started) * 1000, 1),
    )


def uses_duckdb(spec: PipelineSpec) -> bool:
    """Whether a run of `spec` opens DuckDB (inputs, relational steps): log/sleep/fail-only pipelines do not."""
    return bool(spec.inputs) or any(is_relational(step) for step in spec.steps)


def writes_files(spec: PipelineSpec) -> bool:
    """Whether a run of `spec` needs its out_dir: it opens DuckDB (inputs, relational steps) or has an output."""
    return bool(spec.inputs) or spec.output is not None or any(is_relational(step) for step in spec.steps)


def _check_inputs(spec: PipelineSpec, inputs: Mapping[str, InputFile]) -> None:
    errors = [
        {"field": f"inputs.{name}", "message": "no file given for this input", "code": "missing_input"}
        for name in spec.inputs
        if name not in inputs
    ]
    errors += [
        {"field": f"inputs.{name}", "message": "the spec declares no such input", "code": "unknown_input"}
        for name in inputs
        if name not in spec.inputs
    ]
    if errors:
        raise PipelineInputsMismatch(f"{errors[0]['field']}: {errors[0]['message']}", errors=errors)


def output_dataset_name(spec: PipelineSpec, *, params: Mapping[str, Any], run: RunInfo) -> str | None:
    """The name of the dataset a run of `spec` writes (its template rendered), or None when it writes none; for
    creating the output dataset before the run. Raises InvalidPipelineParams or PipelineTemplateError."""
    return _output_name(spec, pipeline_params.resolve(spec.params, params), _facts(run))


def _facts(run: RunInfo) -> dict[str, Any]:
    return {"id": str(run.id), "scheduled_for": run.scheduled_for, "started_at": run.started_at}


def _output_name(spec: PipelineSpec, values: dict[str, Any], facts: dict[str, Any]) -> str | None:
    if spec.output is None:
        return None
    name = _render(spec.output.dataset, values, facts, "output.dataset")
    if not DATASET_NAME.match(name):
        message = f"renders as {name!r}, which is not a dataset name (1-200 characters, no `/`, `\\` or controls)"
        raise PipelineTemplateError(f"output.dataset {message}", errors=[_field("output.dataset", message)])
    return name


def _render(template: str, values: dict[str, Any], facts: dict[str, Any], field: str) -> str:
    try:
        return pipeline_templates.render(template, params=values, run=facts)
    except pipeline_templates.TemplateError as exc:
        raise PipelineTemplateError(f"{field}: {exc}", errors=[_field(field, str(exc))]) from None


def _field(field: str, message: str, code: str = "template_error") -> dict[str, str]:
    return {"field": field, "message": message, "code": code}


def _open_inputs(relations: Relations, spec: PipelineSpec, inputs: Mapping[str, InputFile], log: Log) -> int:
    total = 0
    for name in spec.inputs:
        given = inputs[name]
        try:
            rows = relations.add_parquet(name, given.path)
        except duckdb.Error as exc:
            raise step_error(exc, field=f"inputs.{name}", step_id=name) from None
        log(note(InputRead(input=name, dataset=str(given.dataset_id), version=given.version, rows=rows)), "info")
        total += rows
    return total


@dataclass
class _Run:
    """What the steps of one run share: the relations, parameter values, run facts, the log, the output path."""

    relations: Relations | None
    conn: duckdb.DuckDBPyConnection | None
    values: dict[str, Any]
    facts: dict[str, Any]
    target: str | None
    catalog: StepCatalog
    log: Log
    sleep: Callable[[float], None]
    executed: list[StepStats] = field(default_factory=list)
    validations: list[StepValidation] = field(default_factory=list)

    def step(self, resolved: ResolvedStep, how: How) -> StepStats:
        """Run one step; its figures (also kept in `executed`)."""
        begin = time.monotonic()
        rows_in = rows_out = None
        if how is How.ACTION:
            self._action(resolved)
        else:
            relations = self.relations
            assert relations is not None  # a relational step always opens a connection
            rows_in = relations.rows.get(resolved.input) if resolved.input else None
            if how is How.OUTPUT:
                assert self.target is not None
                rows_out = relations.write(resolved, self.target)
            elif how is How.VALIDATE:
                rows_out = self._validate(resolved)
            else:
                rows_out, how = relations.create(resolved, how)
        stats = StepStats(
            index=resolved.index,
            id=resolved.id,
            type=resolved.type,
            how=how.value,
            rows_in=rows_in,
            rows_out=rows_out,
            duration_ms=round((time.monotonic() - begin) * 1000, 1),
        )
        self.executed.append(stats)
        return stats

    def _validate(self, resolved: ResolvedStep) -> int:
        assert self.relations is not None
        rows, report = rules.check(self.relations, resolved)
        self.validations.append(report)
        _log_report(rules.checked(resolved.step, report), self.log)
        if not report.passed:
            broken = [rule for rule in report.rules if not rule.passed and rule.severity == "fail"]
            first = broken[0]
            raise DataValidationFailed(
                f"step {resolved.id!r}: {len(broken)} rule(s) failed; first: {first.rule} "
                f"{', '.join(first.columns)}: {first.message}",
                errors=[
                    {"field": f"{resolved.field}.rules", "code": "rule_failed", **msgspec.to_builtins(rule)}
                    for rule in broken
                ],
                validations=self.validations,
            )
        return rows

    def _action(self, resolved: ResolvedStep) -> None:
        step = resolved.step
        if isinstance(step, LogStep):
            self.log(_render(step.message, self.values, self.facts, f"{resolved.field}.message"), step.level)
        elif isinstance(step, SleepStep):
            self.log(note(Sleeping(seconds=step.seconds)), "info")
            self.sleep(step.seconds)
        elif isinstance(step, FailStep):
            raise PipelineStepFailed(step.message, errors=[_field(resolved.field, step.message, "fail_step")])
        else:
            execute = self.catalog.executors.get(type(step))
            if execute is None:
                raise PipelineStepFailed(
                    f"no executor for step type {resolved.type!r}",
                    errors=[_field(resolved.field, "no executor is installed for this step type", "unknown_step")],
                )
            ctx = StepContext(
                conn=self.conn, step_id=resolved.id, source=None, other=None, params=self.values, log=self.log
            )
            execute(step, ctx)


def _finish(
    spec: PipelineSpec,
    steps: list[ResolvedStep],
    hows: list[How],
    relations: Relations | None,
    target: str | None,
    out: Path | None,
    log: Log,
) -> tuple[int, int, list[ColumnStats], str | None]:
    """Write the output if the last step did not stream into it; publish it. (rows, bytes, columns, path)."""
    relation = output_relation(spec, steps)
    if target is None or relations is None or out is None:
        rows = relations.rows.get(relation) if relations is not None and relation is not None else None
        return rows or 0, 0, [], None
    if How.OUTPUT not in hows:
        assert relation is not None  # parse_spec refuses an output with nothing to write
        begin = time.monotonic()
        rows = relations.copy_relation(relation, target)
        elapsed = round((time.monotonic() - begin) * 1000)
        log(note(OutputCopied(rows=rows, relation=relation, duration_ms=elapsed)), "info")
    rows, columns = relations.file_stats(target)
    size = os.path.getsize(target)
    final = out / DATA_FILE
    os.replace(target, final)
    log(note(OutputWritten(rows=rows, bytes=size)), "info")
    return rows, size, columns, str(final)


def _describe(stats: StepStats, total: int) -> StepDone:
    """One log line per step: what ran, rows in → out, and how long it took."""
    return StepDone(
        step=stats.index + 1,
        steps=total,
        id=stats.id,
        type=stats.type,
        how=None if stats.how == How.ACTION else str(stats.how),
        rows_in=stats.rows_in,
        rows_out=stats.rows_out,
        duration_ms=round(stats.duration_ms),
    )


def _log_report(checked: list[RuleChecked], log: Log) -> None:
    """One line per rule, with its notice (a console words it in its language); a broken rule is an error if it
    fails the run, a warning if not."""
    for rule in checked:
        level = "info" if rule.passed else ("error" if rule.severity == "fail" else "warning")
        log(note(rule), level)


def _orders_rows(step: Any) -> bool:
    """Whether a step may define the order of the rows (a sort, an ORDER BY, or a plugin we cannot read)."""
    if isinstance(step, SortStep):
        return True
    if isinstance(step, SqlStep):
        return "order by" in " ".join(step.sql.lower().split())
    return type(step).__module__ != SortStep.__module__
