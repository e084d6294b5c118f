"""A run's validation report: what it checked, built from what was recorded, never by running anything again.

The parts come from the run row (params, pinned inputs, the validate steps' reports the worker kept, row counts
in `progress`, the error), the pipeline version it ran (declared params and validate steps) and the dataset
version it wrote (output schema, rows, rejects). A part the run never reached says so (`reached: false`).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import msgspec
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.errors import DomainError
from app.core.states import FINAL
from app.db.datasets import Dataset, DatasetVersion
from app.db.models import PipelineVersion, Run
from app.domain.permissions import Principal
from app.domain.runs import get_run
from app.pipeline import params as pipeline_params
from app.pipeline.spec import parse_spec, resolve_steps

#: Error codes of a run that stopped because its parameters were refused.
PARAM_ERRORS = frozenset({"invalid_pipeline_params"})


class ParamCheck(msgspec.Struct, kw_only=True):
    """One declared parameter: its type, the value the run used and where it came from."""

    name: str
    type: str
    #: `given` by the caller, the spec's `default`, `missing` (required, not given) or `undeclared` (ignored).
    source: str
    value: Any = None
    ok: bool
    message: str = ""


class InputCheck(msgspec.Struct, kw_only=True):
    """One pinned input: the dataset version read and its row count."""

    name: str
    dataset_id: uuid.UUID | None
    dataset_name: str | None
    version: int | None
    rows: int | None


class RuleCheck(msgspec.Struct, kw_only=True):
    """One data-quality rule of a validate step: rows breaking it and a few of them."""

    rule: str
    severity: str
    columns: list[str] = msgspec.field(default_factory=list)
    violations: int = 0
    passed: bool = True
    message: str = ""
    sample: list[dict[str, Any]] = msgspec.field(default_factory=list)


class StepCheck(msgspec.Struct, kw_only=True):
    """One validate step of the spec; `reached` is false when the run stopped before it."""

    step: str
    reached: bool
    passed: bool | None = None
    rows: int | None = None
    rules: list[RuleCheck] = msgspec.field(default_factory=list)


class OutputColumn(msgspec.Struct, kw_only=True):
    name: str
    type: str
    nulls: int | None = None


class OutputCheck(msgspec.Struct, kw_only=True):
    """The dataset version the run wrote: its schema and size."""

    dataset_id: uuid.UUID
    dataset_name: str | None
    version: int
    rows: int
    size_bytes: int
    rejected_rows: int
    columns: list[OutputColumn]
    warnings: list[str]


class RunReport(msgspec.Struct, kw_only=True):
    """What a run checked and produced; `passed` is null until the run is final."""

    run_id: uuid.UUID
    status: str
    kind: str
    finished_at: datetime | None
    passed: bool | None
    params_ok: bool | None
    params: list[ParamCheck]
    inputs: list[InputCheck]
    checks: list[StepCheck]
    rows_in: int | None
    rows_out: int | None
    output: OutputCheck | None
    error_code: str | None = None
    error_message: str | None = None


def run_report(session: Session, run_id: uuid.UUID, principal: Principal) -> RunReport:
    """The report of a run the caller may read (404 otherwise)."""
    run = get_run(session, run_id, principal)
    spec = _spec_of(session, run)
    params = _params(spec.get("params") or {}, run.params or {})
    checks = _checks(spec, run.validation or [])
    final = run.status in FINAL
    params_ok = None if not params and not final else run.error_code not in PARAM_ERRORS and all(p.ok for p in params)
    passed = None if not final else run.status == "SUCCEEDED" and all(c.passed is not False for c in checks)
    return RunReport(
        run_id=run.id,
        status=run.status,
        kind=run.kind,
        finished_at=run.finished_at,
        passed=passed,
        params_ok=params_ok,
        params=params,
        inputs=_inputs(session, run.inputs or {}),
        checks=checks,
        rows_in=_count(run.progress, "rows_in"),
        rows_out=_count(run.progress, "rows_out"),
        output=_output(session, run.id),
        error_code=run.error_code,
        error_message=run.error_message,
    )


def _spec_of(session: Session, run: Run) -> dict[str, Any]:
    if run.pipeline_id is None or run.pipeline_version is None:
        return {}
    version = session.get(PipelineVersion, (run.pipeline_id, run.pipeline_version))
    return version.spec if version is not None and isinstance(version.spec, dict) else {}


def _params(declared: dict[str, Any], given: dict[str, Any]) -> list[ParamCheck]:
    """Each declared parameter (by name: JSONB keeps no key order) checked against its type, then any value given
    that the spec does not declare."""
    by_lower = {str(name).lower(): name for name in given}
    found: list[ParamCheck] = []
    for name, decl in sorted(declared.items()):
        kind = str(decl.get("type", "string")) if isinstance(decl, dict) else "string"
        key = by_lower.pop(name.lower(), None)
        if key is not None:
            source, value = "given", given[key]
        elif isinstance(decl, dict) and "default" in decl:
            source, value = "default", decl["default"]
        else:
            found.append(ParamCheck(name=name, type=kind, source="missing", ok=False, message="required, not given"))
            continue
        try:
            pipeline_params.coerce(kind, value)
            ok, message = True, ""
        except (ValueError, TypeError, KeyError) as exc:
            ok, message = False, str(exc)
        found.append(ParamCheck(name=name, type=kind, source=source, value=value, ok=ok, message=message))
    found += [
        ParamCheck(name=key, type="", source="undeclared", value=given[key], ok=not declared, message="not declared")
        for key in by_lower.values()
    ]
    return found


def _checks(spec: dict[str, Any], recorded: list[dict[str, Any]]) -> list[StepCheck]:
    """The spec's validate steps in order, each with its recorded report, or `reached: false`."""
    reports = {str(r.get("step")): r for r in recorded if isinstance(r, dict)}
    try:
        declared = [s.id for s in resolve_steps(parse_spec(spec, prefix="")) if s.type == "validate"] if spec else []
    except DomainError:  # a version written before a rule changed: show what was recorded
        declared = []
    names = declared + [name for name in reports if name not in declared]
    checks = []
    for name in names:
        report = reports.get(name)
        if report is None:
            checks.append(StepCheck(step=name, reached=False))
            continue
        rules = msgspec.convert(report.get("rules") or [], list[RuleCheck], strict=False)
        checks.append(
            StepCheck(step=name, reached=True, passed=bool(report.get("passed")), rows=report.get("rows"), rules=rules)
        )
    return checks


def _inputs(session: Session, pinned: dict[str, Any]) -> list[InputCheck]:
    found = []
    for name, chosen in pinned.items():
        dataset_id = _uuid(chosen.get("dataset_id")) if isinstance(chosen, dict) else None
        version = chosen.get("version") if isinstance(chosen, dict) else None
        row = session.get(DatasetVersion, (dataset_id, version)) if dataset_id and isinstance(version, int) else None
        found.append(
            InputCheck(
                name=name,
                dataset_id=dataset_id,
                dataset_name=chosen.get("name") if isinstance(chosen, dict) else None,
                version=version if isinstance(version, int) else None,
                rows=row.row_count if row is not None else None,
            )
        )
    return found


def _output(session: Session, run_id: uuid.UUID) -> OutputCheck | None:
    row = session.execute(
        select(DatasetVersion, Dataset.name)
        .join(Dataset, Dataset.id == DatasetVersion.dataset_id)
        .where(DatasetVersion.run_id == run_id)
    ).first()
    if row is None:
        return None
    version, name = row
    return OutputCheck(
        dataset_id=version.dataset_id,
        dataset_name=name,
        version=version.version,
        rows=version.row_count,
        size_bytes=version.size_bytes,
        rejected_rows=version.rejected_rows,
        columns=msgspec.convert(version.columns or [], list[OutputColumn], strict=False),
        warnings=list(version.warnings or []),
    )


def _count(progress: dict[str, Any] | None, key: str) -> int | None:
    value = (progress or {}).get(key)
    return value if isinstance(value, int) else None


def _uuid(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None
