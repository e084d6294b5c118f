"""Checks of a pipeline spec that its types alone cannot make: unique names, step inputs that exist, templates
only where allowed, parameter defaults of the declared type. Pure functions over a parsed spec."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import msgspec
from msgspec import UNSET

from app.pipeline import templates
from app.pipeline.params import coerce
from app.pipeline.steps import (
    Aggregate,
    AggregateStep,
    DedupeStep,
    InvalidPipelineSpec,
    JoinStep,
    LogStep,
    MaskStep,
    RangeRule,
    RelationalStep,
    RenameStep,
    RowCountRule,
    SaltedHash,
    SelectStep,
    ValidateStep,
    is_relational,
    step_tag,
)

if TYPE_CHECKING:
    from app.pipeline.spec import PipelineSpec


@dataclass(frozen=True)
class ResolvedStep:
    """A step with its name settled and (for a transformation) the relation it reads."""

    index: int
    id: str
    step: Any
    relational: bool
    #: The relation a RelationalStep reads; None for `sql` and action steps.
    input: str | None = None
    #: The right-hand relation of a `join`.
    other: str | None = None

    @property
    def field(self) -> str:
        """The step's path in the spec document, e.g. `steps[2]`."""
        return f"steps[{self.index}]"

    @property
    def type(self) -> str:
        return str(step_tag(type(self.step)))


def resolve_steps(spec: PipelineSpec) -> list[ResolvedStep]:
    """Each step with its id and input settled; raise InvalidPipelineSpec when a name is wrong."""
    resolved, errors = _resolve(spec)
    if errors:
        raise InvalidPipelineSpec(
            f"the pipeline spec is not valid: {errors[0]['field']}: {errors[0]['message']}", errors=errors
        )
    return resolved


def output_relation(spec: PipelineSpec, steps: list[ResolvedStep]) -> str | None:
    """The relation written to the output: the last relational step's, else the only input's."""
    relational = [step.id for step in steps if step.relational]
    if relational:
        return relational[-1]
    return next(iter(spec.inputs)) if len(spec.inputs) == 1 else None


def check_spec(spec: PipelineSpec) -> list[dict[str, str]]:
    """Every problem the types cannot express, as `{field, message, code}` entries (empty when the spec is fine)."""
    steps, errors = _resolve(spec)
    errors += _check_params(spec)
    errors += _check_templates(spec)
    for resolved in steps:
        errors += [
            {"field": f"{resolved.field}.{where}" if where else resolved.field, "message": message, "code": code}
            for where, message, code in _check_step(resolved.step, spec)
        ]
    if spec.output is not None and output_relation(spec, steps) is None and not errors:
        errors.append(
            _err("output", "an output needs a relational step (or exactly one input) to write", "nothing_to_output")
        )
    return errors


def _err(field_: str, message: str, code: str) -> dict[str, str]:
    return {"field": field_, "message": message, "code": code}


def _resolve(spec: PipelineSpec) -> tuple[list[ResolvedStep], list[dict[str, str]]]:
    errors: list[dict[str, str]] = []
    names: dict[str, str] = {}  # lower-cased name → what it is ("input" or a step's type)
    for name in spec.inputs:
        if name.lower() in names:
            errors.append(_err(f"inputs.{name}", "two inputs differ only by case", "duplicate_name"))
        names[name.lower()] = "input"
    only_input = next(iter(spec.inputs)) if len(spec.inputs) == 1 else None
    previous: str | None = None
    resolved: list[ResolvedStep] = []
    for index, step in enumerate(spec.steps):
        where = f"steps[{index}]"
        step_id = step.id if step.id is not UNSET else f"step_{index + 1}"
        if step_id.lower() in names:
            errors.append(_err(f"{where}.id", f"{step_id!r} is already the name of an input or step", "duplicate_name"))
        relational = is_relational(step)
        source = other = None
        if isinstance(step, RelationalStep):
            if step.input is not UNSET:
                source = _relation(step.input, names, f"{where}.input", errors)
            elif previous is not None or only_input is not None:
                source = previous or only_input
            else:
                choices = ", ".join(spec.inputs) or "none"
                errors.append(
                    _err(f"{where}.input", f"say which relation to read (inputs: {choices})", "input_required")
                )
        if isinstance(step, JoinStep):
            other = _relation(step.with_, names, f"{where}.with", errors)
        names.setdefault(step_id.lower(), "relation" if relational else str(step_tag(type(step))))
        if relational:
            previous = step_id
        resolved.append(
            ResolvedStep(index=index, id=step_id, step=step, relational=relational, input=source, other=other)
        )
    return resolved, errors


def _relation(name: str, names: dict[str, str], where: str, errors: list[dict[str, str]]) -> str | None:
    kind = names.get(name.lower())
    if kind in ("input", "relation"):
        return name
    if kind is None:
        errors.append(_err(where, f"{name!r} is not an input or an earlier step", "unknown_relation"))
    else:
        errors.append(_err(where, f"{name!r} is an action step ({kind}) and has no rows", "not_a_relation"))
    return None


def _check_params(spec: PipelineSpec) -> list[dict[str, str]]:
    errors, seen = [], set()
    for name, param in spec.params.items():
        if name.lower() in seen:
            errors.append(_err(f"params.{name}", "two parameters differ only by case", "duplicate_name"))
        seen.add(name.lower())
        if param.default is not UNSET:
            try:
                coerce(param.type, param.default)
            except (ValueError, TypeError) as exc:
                errors.append(_err(f"params.{name}.default", f"{exc} (type {param.type})", "invalid_default"))
    return errors


def _check_templates(spec: PipelineSpec) -> list[dict[str, str]]:
    errors = []
    allowed = [(f"steps[{i}].message", s.message) for i, s in enumerate(spec.steps) if isinstance(s, LogStep)]
    if spec.output is not None:
        allowed.append(("output.dataset", spec.output.dataset))
    for where, text in allowed:
        try:
            templates.check(text, spec.params)
        except templates.TemplateError as exc:
            errors.append(_err(where, str(exc), "invalid_template"))
    allowed_paths = {where for where, _ in allowed}
    for where, text in _strings(msgspec.to_builtins(spec), ""):
        if where not in allowed_paths and templates.LOOKS_TEMPLATED.search(text):
            errors.append(
                _err(
                    where,
                    "templates are allowed only in log messages and the output dataset name; "
                    "in SQL, bind a parameter as $name",
                    "template_not_allowed",
                )
            )
    return errors


def _strings(value: Any, path: str) -> Iterable[tuple[str, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, f"{path}[{index}]")


def _check_step(step: Any, spec: PipelineSpec) -> list[tuple[str, str, str]]:
    """(field within the step, message, code) for each problem of one step's own fields."""
    problems: list[tuple[str, str, str]] = []
    if isinstance(step, AggregateStep):
        outputs = [column.lower() for column in step.group_by]
        for i, aggregate in enumerate(step.aggregates):
            if aggregate.column is None and aggregate.function != "count":
                problems.append((f"aggregates[{i}].column", f"{aggregate.function} needs a column", "missing_column"))
            outputs.append(aggregate_name(aggregate).lower())
        if len(outputs) != len(set(outputs)):
            problems.append(("aggregates", "two output columns have the same name; set `as`", "duplicate_column"))
    elif isinstance(step, RenameStep):
        targets = [name.lower() for name in step.columns.values()]
        if len(targets) != len(set(targets)):
            problems.append(("columns", "two columns are renamed to the same name", "duplicate_column"))
    elif isinstance(step, MaskStep) and isinstance(step.method, SaltedHash):
        method = step.method
        if (method.salt is None) == (method.salt_param is None):
            problems.append(("method", "give exactly one of `salt` and `salt_param`", "invalid_salt"))
        elif method.salt_param is not None:
            declared = {name.lower(): param for name, param in spec.params.items()}
            param = declared.get(method.salt_param.lower())
            if param is None or param.type != "string":
                problems.append(("method.salt_param", "must name a declared string parameter", "unknown_param"))
    elif isinstance(step, ValidateStep):
        for i, rule in enumerate(step.rules):
            if isinstance(rule, RangeRule | RowCountRule) and rule.min is None and rule.max is None:
                problems.append((f"rules[{i}]", "give `min`, `max` or both", "missing_bound"))
            if isinstance(rule, RowCountRule) and None not in (rule.min, rule.max) and rule.min > rule.max:
                problems.append((f"rules[{i}]", "`min` is greater than `max`", "invalid_bounds"))
    elif isinstance(step, SelectStep | DedupeStep):
        columns = step.columns if isinstance(step, SelectStep) else step.keys
        if len({column.lower() for column in columns}) != len(columns):
            problems.append(
                ("columns" if isinstance(step, SelectStep) else "keys", "a column is listed twice", "duplicate_column")
            )
    return problems


def aggregate_name(aggregate: Aggregate) -> str:
    """The output column name of an aggregate: `as`, else `<function>_<column>`, else `count`."""
    if aggregate.as_:
        return aggregate.as_
    return f"{aggregate.function}_{aggregate.column}" if aggregate.column else aggregate.function
