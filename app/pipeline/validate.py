"""Validate a draft without running it: every step well-formed, every SQL statement parses and binds, and the
output's columns reported. Inputs are EMPTY in-memory stand-in tables built from their schemas, so no data is
read and no file is opened; steps are compiled and bound exactly as a run does, and each becomes an empty table
with the columns it binds to: no step's query is run (a query over `range(10^12)` costs nothing here).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import duckdb

from app.core.errors import DomainError
from app.ingest.config import DuckDBSettings
from app.ingest.duck import duckdb_reason
from app.pipeline import params as pipeline_params
from app.pipeline import rules
from app.pipeline.errors import sql_error_code
from app.pipeline.models import FieldError, StepSchema, ValidationReport
from app.pipeline.relations import Relations, sql_field
from app.pipeline.sandbox import STAND_IN_DUCKDB, QueryProblem, open_stand_in_connection, query_parameters
from app.pipeline.spec import (
    CATALOG,
    FilterStep,
    InvalidPipelineSpec,
    PipelineSpec,
    ResolvedStep,
    SqlStep,
    StepCatalog,
    ValidateStep,
    check_spec,
    output_relation,
    parse_spec,
    resolve_steps,
)

#: (column name, DuckDB type) of each column of an input, e.g. [("id", "BIGINT"), ("day", "DATE")].
Schema = list[tuple[str, str]]


def validate_spec(
    spec: PipelineSpec | Mapping[str, Any],
    *,
    input_schemas: Mapping[str, Schema],
    params: Mapping[str, Any] | None = None,
    catalog: StepCatalog | None = None,
    duckdb_settings: DuckDBSettings = STAND_IN_DUCKDB,
) -> ValidationReport:
    """Check `spec` against the schemas of its inputs; `params` are optional (a parameter with no value is bound
    to a stand-in of its type). Field paths are relative to the spec document (`steps[2].sql`). The DuckDB
    connection uses `duckdb_settings` and is watched by the enclosing `bounded` block, if any."""
    catalog = catalog or CATALOG
    try:
        parsed = spec if isinstance(spec, PipelineSpec) else parse_spec(spec, catalog=catalog, prefix="")
        problems = check_spec(parsed) if isinstance(spec, PipelineSpec) else []
        if problems:
            raise InvalidPipelineSpec("the pipeline spec is not valid", errors=problems)
        steps = resolve_steps(parsed)
    except InvalidPipelineSpec as exc:
        return _invalid(exc.errors)

    warnings: list[str] = []
    errors = _input_errors(parsed, input_schemas)
    values, param_errors = _params(parsed, params or {}, warnings)
    errors += param_errors
    errors += _static_sql_errors(steps, values)
    if errors:
        return _invalid(errors, warnings)
    return _bind(parsed, steps, input_schemas, values, catalog, warnings, duckdb_settings)


def _invalid(errors: list[dict[str, Any]], warnings: list[str] | None = None) -> ValidationReport:
    return ValidationReport(
        valid=False,
        errors=[
            FieldError(field=e["field"], message=e["message"], code=e.get("code", "invalid_value")) for e in errors
        ],
        warnings=warnings or [],
    )


def _input_errors(spec: PipelineSpec, schemas: Mapping[str, Schema]) -> list[dict[str, str]]:
    errors = []
    for name in spec.inputs:
        if name not in schemas:
            errors.append(
                {"field": f"inputs.{name}", "message": "no schema given for this input", "code": "missing_input"}
            )
        elif not schemas[name]:
            errors.append({"field": f"inputs.{name}", "message": "the input has no columns", "code": "empty_schema"})
    return errors


def _params(spec: PipelineSpec, given: Mapping[str, Any], warnings: list[str]) -> tuple[dict[str, Any], list]:
    try:
        values = pipeline_params.resolve(spec.params, given, require_all=False)
    except pipeline_params.InvalidPipelineParams as exc:
        return {}, exc.errors
    for name, param in spec.params.items():
        if name not in values:
            values[name] = pipeline_params.stand_in(param.type)
            warnings.append(f"parameter {name!r} has no value or default; validated with a stand-in {param.type}")
    return values, []


def _static_sql_errors(steps: list[ResolvedStep], values: dict[str, Any]) -> list[dict[str, str]]:
    """Parse every user-written SQL text up front, so all syntax and sandbox errors are reported at once."""
    declared = {name.lower() for name in values}
    errors = []
    for resolved in steps:
        step = resolved.step
        if isinstance(step, SqlStep):
            sql = step.sql
        elif isinstance(step, FilterStep):
            sql = f"SELECT * FROM t WHERE (\n{step.where}\n)"
        else:
            continue
        try:
            names = query_parameters(sql)
        except QueryProblem as exc:
            errors.append({"field": sql_field(resolved), "message": str(exc), "code": exc.code})
            continue
        for name in sorted(names):
            if name.lower() not in declared:
                errors.append(
                    {
                        "field": sql_field(resolved),
                        "message": f"unknown parameter ${name}; declare it under `params`",
                        "code": "unknown_param",
                    }
                )
    return errors


def _bind(
    spec: PipelineSpec,
    steps: list[ResolvedStep],
    schemas: Mapping[str, Schema],
    values: dict[str, Any],
    catalog: StepCatalog,
    warnings: list[str],
    duckdb_settings: DuckDBSettings,
) -> ValidationReport:
    conn = open_stand_in_connection(duckdb_settings)
    shapes: list[StepSchema] = []
    try:
        relations = Relations(conn, params=values, catalog=catalog, log=lambda message, level: None)
        for name in spec.inputs:
            try:
                relations.add_stand_in(name, schemas[name])
            except duckdb.Error as exc:
                return _invalid(
                    [{"field": f"inputs.{name}", "message": duckdb_reason(exc), "code": "invalid_schema"}], warnings
                )
        for resolved in steps:
            if not resolved.relational:
                continue
            try:
                if isinstance(resolved.step, ValidateStep):
                    rules.check(relations, resolved)
                else:
                    relations.stand_in(resolved)
            except DomainError as exc:
                return ValidationReport(
                    valid=False, errors=_field_errors(exc, resolved), steps=shapes, warnings=warnings
                )
            except duckdb.Error as exc:  # e.g. while a plugin looked at columns
                error = FieldError(field=sql_field(resolved), message=duckdb_reason(exc), code=sql_error_code(exc))
                return ValidationReport(valid=False, errors=[error], steps=shapes, warnings=warnings)
            shapes.append(StepSchema(id=resolved.id, type=resolved.type, columns=relations.columns(resolved.id)))
        relation = output_relation(spec, steps)
        output = relations.columns(relation) if relation is not None else None
    finally:
        conn.close()
    return ValidationReport(valid=True, errors=[], output_columns=output, steps=shapes, warnings=warnings)


def _field_errors(exc: DomainError, resolved: ResolvedStep) -> list[FieldError]:
    if not exc.errors:
        return [FieldError(field=resolved.field, message=exc.detail, code=exc.code)]
    return [
        FieldError(
            field=e.get("field", resolved.field),
            message=str(e.get("message", exc.detail)),
            code=e.get("code", exc.code),
        )
        for e in exc.errors
    ]
