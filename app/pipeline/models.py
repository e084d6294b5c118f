"""Values the pipeline engine takes and hands back: input files, run facts, step and validation reports, results."""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec

from app.ingest.models import ColumnStats


class InputFile(msgspec.Struct, kw_only=True, frozen=True):
    """One input of a run: the Parquet file of the dataset version it reads (for lineage, its id and version).
    A `Path` or a `UUID` is accepted too; the result echoes them as text."""

    path: str
    dataset_id: str
    version: int


class RunInfo(msgspec.Struct, kw_only=True, frozen=True):
    """What templates may say about the run (`{{ run.id }}`, `{{ run.scheduled_for | date }}`, ...)."""

    id: str
    #: The fire time of a scheduled run; templates fall back to `started_at` for a run started by hand.
    scheduled_for: dt.datetime | None = None
    started_at: dt.datetime | None = None


class ColumnInfo(msgspec.Struct, kw_only=True):
    """A column of a relation: its name, our column type and its DuckDB type."""

    name: str
    type: str
    duckdb_type: str


class FieldError(msgspec.Struct, kw_only=True):
    """One problem found by validation, at a path in the spec document (e.g. `steps[2].sql`)."""

    field: str
    message: str
    code: str


class StepSchema(msgspec.Struct, kw_only=True):
    """The columns a relational step produces (as far as validation got)."""

    id: str
    type: str
    columns: list[ColumnInfo]


class ValidationReport(msgspec.Struct, kw_only=True):
    """What `validate_spec` found: errors per field, each step's columns, the output's columns."""

    valid: bool
    errors: list[FieldError]
    #: The columns written to the output (or of the last relational step); None when validation stopped early.
    output_columns: list[ColumnInfo] | None = None
    steps: list[StepSchema] = msgspec.field(default_factory=list)
    #: Things worth knowing that are not errors (e.g. parameters validated with a stand-in value).
    warnings: list[str] = msgspec.field(default_factory=list)


class StepStats(msgspec.Struct, kw_only=True):
    """One executed step: rows read and produced, and how long it took.

    `how` says how the step ran: `view` (inlined into the steps that read it; rows derived exactly without a
    scan), `table` (materialised), `output` (streamed into the output file), `action` (log, sleep, ...)."""

    index: int
    id: str
    type: str
    how: str
    rows_in: int | None = None
    rows_out: int | None = None
    duration_ms: float = 0.0


class RuleReport(msgspec.Struct, kw_only=True):
    """The outcome of one data-quality rule: how many rows break it, and a few of them."""

    rule: str
    severity: str
    columns: list[str]
    violations: int
    passed: bool
    message: str
    sample: list[dict[str, Any]] = msgspec.field(default_factory=list)


class StepValidation(msgspec.Struct, kw_only=True):
    """The report of one `validate` step."""

    step: str
    rows: int
    passed: bool
    rules: list[RuleReport]


class PipelineResult(msgspec.Struct, kw_only=True):
    """What a run produced: rows in and out, the output file and its column stats, per-step figures."""

    #: Rows of all inputs together.
    rows_in: int
    #: Rows written to the output (or produced by the last relational step when there is no output).
    rows_out: int
    bytes_out: int
    #: `out_dir/data.parquet`, or None when the spec has no output.
    data_path: str | None
    #: The output dataset's name, templates rendered; None when the spec has no output.
    output_dataset: str | None
    columns: list[ColumnStats]
    steps: list[StepStats]
    validations: list[StepValidation]
    #: The parameter values the run used (defaults filled in), as JSON builtins.
    params: dict[str, Any]
    #: The inputs read, by name (for lineage).
    inputs: dict[str, InputFile]
    duration_ms: float
