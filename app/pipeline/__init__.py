"""Pipelines as a library: the language (steps, spec, checks, params, plugins, templates) and the engine that
validates a spec over empty stand-ins or runs it over Parquet inputs in a sandboxed DuckDB (engine.py).

No HTTP, no database, no broker: the API (parse, validate) and the worker's pipeline job (run) call these."""

from app.pipeline.engine import DATA_FILE, output_dataset_name, run_pipeline, uses_duckdb, writes_files
from app.pipeline.errors import (
    DataValidationFailed,
    PipelineCancelled,
    PipelineError,
    PipelineInputsMismatch,
    PipelineStepFailed,
    PipelineTemplateError,
    SandboxViolation,
)
from app.pipeline.models import (
    ColumnInfo,
    FieldError,
    InputFile,
    PipelineResult,
    RuleReport,
    RunInfo,
    StepStats,
    StepValidation,
    ValidationReport,
)
from app.pipeline.sandbox import parquet_schema
from app.pipeline.validate import validate_spec

__all__ = [
    "DATA_FILE",
    "ColumnInfo",
    "DataValidationFailed",
    "FieldError",
    "InputFile",
    "PipelineCancelled",
    "PipelineError",
    "PipelineInputsMismatch",
    "PipelineResult",
    "PipelineStepFailed",
    "PipelineTemplateError",
    "RuleReport",
    "RunInfo",
    "SandboxViolation",
    "StepStats",
    "StepValidation",
    "ValidationReport",
    "output_dataset_name",
    "parquet_schema",
    "run_pipeline",
    "uses_duckdb",
    "validate_spec",
    "writes_files",
]
