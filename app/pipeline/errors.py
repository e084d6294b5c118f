"""Pipeline run errors: domain errors with stable codes, and how a DuckDB error maps onto them."""

from __future__ import annotations

from typing import Any

import duckdb

from app.core.errors import DomainError, InvalidInput
from app.ingest.duck import duckdb_reason


class PipelineError(DomainError):
    """A run of a pipeline failed (422); `errors` names the step (`steps[2]...`) when one is to blame."""

    status, code, title = 422, "pipeline_failed", "Pipeline failed"
    #: Whether another attempt may succeed (a retry policy should skip errors that would only repeat).
    retryable: bool = False


class PipelineStepFailed(PipelineError):
    """A step failed: a `fail` step, or SQL that failed on the data (a conversion, a limit, ...)."""

    code = "pipeline_step_failed"
    retryable = True


class SandboxViolation(PipelineError):
    """A step tried to leave the sandbox: read a file that is not an input, write, attach, install, configure."""

    status, code, title = 403, "sandbox_violation", "Sandbox violation"


class DataValidationFailed(PipelineError):
    """A `validate` step's `fail` rule is broken; `errors` holds the rule reports, `validations` every report."""

    code = "data_validation_failed"

    def __init__(self, detail: str, *, errors: list[dict[str, Any]], validations: list[Any]) -> None:
        super().__init__(detail, errors=errors)
        self.validations = validations


class MemoryLimitExceeded(PipelineError):
    """The run's process grew past its memory budget (work DuckDB does not count against its limit) and was
    stopped; the same SQL would only do it again."""

    code = "memory_limit_exceeded"


class PipelineProcessDied(PipelineError):
    """The run's process ended without a result (a crash, the kernel's OOM killer); another attempt may work."""

    code = "pipeline_process_died"
    retryable = True


class PipelineCancelled(DomainError):
    """The caller asked the run to stop (cancel, timeout, shutdown); a running query was interrupted."""

    status, code, title = 409, "pipeline_cancelled", "Pipeline cancelled"


class PipelineInputsMismatch(InvalidInput):
    """The run was not given exactly the inputs the spec declares (422)."""

    code = "pipeline_inputs_mismatch"


class PipelineTemplateError(InvalidInput):
    """A templated field (the output dataset name, a log message) cannot be rendered for this run (422)."""

    code = "pipeline_template_error"


def sql_error_code(exc: BaseException) -> str:
    """A stable code for a DuckDB error: what kind of problem the SQL has."""
    if isinstance(exc, duckdb.PermissionException) or "configuration has been locked" in str(exc):
        return "sandbox_violation"
    if isinstance(exc, duckdb.ParserException):
        return "sql_syntax_error"
    if isinstance(exc, duckdb.BinderException | duckdb.CatalogException):
        return "sql_bind_error"
    if isinstance(exc, duckdb.OutOfMemoryException):
        return "out_of_memory"
    if isinstance(exc, duckdb.InterruptException):
        return "interrupted"
    return "sql_error"


def step_error(exc: BaseException, *, field: str, step_id: str, note: str = "") -> DomainError:
    """The domain error for a DuckDB error raised while running step `step_id` (`field` is its spec path)."""
    code = sql_error_code(exc)
    reason = duckdb_reason(exc)
    if code == "interrupted":
        return PipelineCancelled("pipeline cancelled")
    detail = f"step {step_id!r}: {reason}{note}"
    errors = [{"field": field, "message": reason + note, "code": code}]
    if code == "sandbox_violation":
        return SandboxViolation(detail, errors=errors)
    return PipelineStepFailed(detail, errors=errors)
