"""The pipeline spec document: inputs, typed parameters, ordered typed steps, an output, defaults.

Every step is a Struct tagged by its `type`, so an unknown type or a wrong field is a clear validation error,
and `pipeline_json_schema()` describes the whole language for an editor. Steps come from a registry: the built-in
ones below plus third-party ones from the `conveyor.steps` entry point group (see `app.domain.pipeline_plugins`).
`parse_spec` also checks what the types alone cannot: unique names, step inputs that exist, templates only where
allowed, parameter defaults of the declared type. SQL is checked later, by `workers.pipeline.validate_spec`.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, ClassVar, Literal

import msgspec
from msgspec import UNSET, Meta, UnsetType

from app.domain import pipeline_templates as templates
from app.domain.errors import InvalidInput
from app.domain.pipeline_params import InvalidPipelineParams, ParamType, coerce
from app.domain.pipeline_plugins import PluginError, StepPlugin, load_step_plugins

#: Longest a `sleep` step may ask for, in seconds (a run's timeout still applies).
MAX_SLEEP_SECONDS = 86_400.0
#: Most steps one pipeline may have.
MAX_STEPS = 1000
#: Longest SQL text of one `sql` step or `filter` predicate.
MAX_SQL_CHARS = 100_000
#: Input and step names: SQL identifiers, usable unquoted in `sql` steps.
NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]{0,62}$"
#: The schema keyword that marks the only string fields that may contain `{{ ... }}` templates.
TEMPLATE_KEYWORD = "x-conveyor-template"

_TEMPLATE_HELP = (
    "May use templates: {{ params.<name> }}, {{ run.id }}, {{ run.scheduled_for }} (the fire time, or the start time "
    "of a run started by hand), {{ run.started_at }}, each with an optional `| date` filter (YYYY-MM-DD)."
)

Name = Annotated[
    str,
    Meta(pattern=NAME_PATTERN, description="An SQL identifier: a letter or `_`, then letters, digits or `_` (≤ 63)."),
]
ColumnName = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=255,
        pattern=r"^[^\x00]+$",
        description="A column name; always used as a quoted identifier, so any characters are fine.",
    ),
]
SqlText = Annotated[str, Meta(min_length=1, max_length=MAX_SQL_CHARS)]
Scalar = str | int | float | bool
Severity = Annotated[
    Literal["warn", "fail"], Meta(description="`fail` stops the run when the rule is broken; `warn` only reports it.")
]
ColumnType = Literal["string", "integer", "float", "decimal", "boolean", "date", "datetime", "time"]
AggregateFunction = Literal[
    "count", "count_distinct", "sum", "avg", "min", "max", "median", "stddev", "variance", "any_value"
]


class InvalidPipelineSpec(InvalidInput):
    """A spec that is not a valid pipeline (422); `errors` names each bad field with a message and a code."""

    code = "invalid_pipeline_spec"


# --- inputs, parameters, output, defaults ---------------------------------------------------------------------


class InputRef(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    """A dataset the pipeline reads, by id or by name; a pinned version, or the latest when the run starts."""

    dataset: Annotated[str, Meta(min_length=1, max_length=200, description="Dataset id or name.")]
    version: Annotated[int, Meta(ge=1)] | None = None


class ParamSpec(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    """A typed run parameter; SQL reads it as the bound value `$name` (never by text substitution)."""

    type: ParamType
    #: Used when a run does not give the parameter; without a default the parameter is required.
    default: Any = UNSET
    description: Annotated[str, Meta(max_length=10_000)] = ""


DatasetNameTemplate = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=200,
        pattern=r"^[^\x00-\x1f/\\]+$",
        description="Name of the generated dataset. " + _TEMPLATE_HELP,
        extra_json_schema={TEMPLATE_KEYWORD: True},
    ),
]


class OutputSpec(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    """The generated dataset the last relational step is written to (a new version per run)."""

    dataset: DatasetNameTemplate
    description: Annotated[str, Meta(max_length=10_000)] = ""


class Defaults(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    """Run defaults for this pipeline (a run or deployment may override them)."""

    timeout_seconds: Annotated[int, Meta(ge=1, le=7 * 86_400)] | None = None
    max_retries: Annotated[int, Meta(ge=0, le=100)] | None = None


# --- step bases -------------------------------------------------------------------------------------------------


class StepBase(msgspec.Struct, tag_field="type", kw_only=True, forbid_unknown_fields=True):
    """Fields every step has. Subclass it (with a `tag` and `kw_only=True`) for an action step."""

    #: Unique among inputs and steps; defaults to `step_<n>` (1-based position).
    id: Name | UnsetType = UNSET


class RelationalStep(StepBase, kw_only=True):
    """A step that turns one relation into another. Subclass it for a transformation step."""

    #: An input name or an earlier step's id; defaults to the previous relational step, or the only input.
    input: Name | UnsetType = UNSET


# --- the run engine's action steps -----------------------------------------------------------------------------


class LogStep(StepBase, tag="log", kw_only=True):
    """Write a message to the run's log."""

    message: Annotated[
        str,
        Meta(
            max_length=10_000, description="The message. " + _TEMPLATE_HELP, extra_json_schema={TEMPLATE_KEYWORD: True}
        ),
    ]
    level: Annotated[str, Meta(pattern="^(debug|info|warning|error)$")] = "info"


class SleepStep(StepBase, tag="sleep", kw_only=True):
    """Wait; cancel and timeout interrupt it at once."""

    seconds: Annotated[float, Meta(ge=0, le=MAX_SLEEP_SECONDS)]


class FailStep(StepBase, tag="fail", kw_only=True):
    """Fail the attempt with a message (useful to test retry and alerting paths)."""

    message: Annotated[str, Meta(max_length=10_000)] = "failed by a fail step"


# --- relational steps ------------------------------------------------------------------------------------------


class SqlStep(StepBase, tag="sql", kw_only=True):
    """One DuckDB SELECT over the inputs and earlier steps by name; parameters are bound as `$name`."""

    relational: ClassVar[bool] = True

    sql: SqlText


class SelectStep(RelationalStep, tag="select", kw_only=True):
    """Keep these columns, in this order."""

    columns: Annotated[list[ColumnName], Meta(min_length=1)]


class RenameStep(RelationalStep, tag="rename", kw_only=True):
    """Rename columns (old name → new name); the others are kept."""

    columns: Annotated[dict[ColumnName, ColumnName], Meta(min_length=1)]


class CastStep(RelationalStep, tag="cast", kw_only=True):
    """Convert columns to a type (column → type)."""

    columns: Annotated[dict[ColumnName, ColumnType], Meta(min_length=1)]
    #: When true a value that does not convert becomes null instead of failing the run.
    safe: bool = False


class FilterStep(RelationalStep, tag="filter", kw_only=True):
    """Keep the rows where a SQL predicate is true, e.g. `amount > $min_amount`."""

    where: SqlText


class SortKey(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A column to order by, and how."""

    column: ColumnName
    descending: bool = False
    nulls_first: bool = False


OrderBy = ColumnName | SortKey


class DedupeStep(RelationalStep, tag="dedupe", kw_only=True):
    """Keep one row per key: the first or last by `order_by` (any one when there is no order)."""

    #: The key columns; empty means whole rows (exact duplicates are dropped).
    keys: list[ColumnName] = msgspec.field(default_factory=list)
    keep: Literal["first", "last"] = "first"
    order_by: list[OrderBy] = msgspec.field(default_factory=list)


class FillNullStep(RelationalStep, tag="fill_null", kw_only=True):
    """Replace nulls with a value per column (column → value)."""

    values: Annotated[dict[ColumnName, Scalar], Meta(min_length=1)]


class SaltedHash(msgspec.Struct, tag_field="kind", tag="salted_hash", kw_only=True, forbid_unknown_fields=True):
    """SHA-256 of the salt followed by the value's text: equal values stay equal, originals are hidden."""

    salt: Annotated[str, Meta(min_length=1, max_length=1000)] | None = None
    #: Take the salt from this string parameter instead (so it is not stored in the spec).
    salt_param: Name | None = None


class Redact(msgspec.Struct, tag_field="kind", tag="redact", kw_only=True, forbid_unknown_fields=True):
    """Replace every non-null value with a fixed text."""

    replacement: Annotated[str, Meta(max_length=100)] = "***"


class KeepLast(msgspec.Struct, tag_field="kind", tag="keep_last", kw_only=True, forbid_unknown_fields=True):
    """Mask all but the last `n` characters, e.g. `************4242`."""

    n: Annotated[int, Meta(ge=0, le=1000)]
    mask_char: Annotated[str, Meta(min_length=1, max_length=1)] = "*"


class MaskStep(RelationalStep, tag="mask", kw_only=True):
    """Hide the values of columns (they become text)."""

    columns: Annotated[list[ColumnName], Meta(min_length=1)]
    method: SaltedHash | Redact | KeepLast


class RuleBase(msgspec.Struct, tag_field="rule", kw_only=True, forbid_unknown_fields=True):
    severity: Severity = "fail"


class NotNullRule(RuleBase, tag="not_null", kw_only=True):
    """No nulls in these columns."""

    columns: Annotated[list[ColumnName], Meta(min_length=1)]


class UniqueRule(RuleBase, tag="unique", kw_only=True):
    """No two rows share these columns' values (nulls included); violations count the extra rows."""

    columns: Annotated[list[ColumnName], Meta(min_length=1)]


class InSetRule(RuleBase, tag="in_set", kw_only=True):
    """Every non-null value is one of `values`."""

    column: ColumnName
    values: Annotated[list[Scalar], Meta(min_length=1, max_length=10_000)]


class RangeRule(RuleBase, tag="range", kw_only=True):
    """Every non-null value is within [min, max] (either bound may be left out; dates as ISO text)."""

    column: ColumnName
    min: Scalar | None = None
    max: Scalar | None = None


class RegexRule(RuleBase, tag="regex", kw_only=True):
    """Every non-null value (as text) fully matches a RE2 regular expression."""

    column: ColumnName
    pattern: Annotated[str, Meta(min_length=1, max_length=10_000)]


class RowCountRule(RuleBase, tag="row_count", kw_only=True):
    """The number of rows is within [min, max]."""

    min: Annotated[int, Meta(ge=0)] | None = None
    max: Annotated[int, Meta(ge=0)] | None = None


Rule = NotNullRule | UniqueRule | InSetRule | RangeRule | RegexRule | RowCountRule


class ValidateStep(RelationalStep, tag="validate", kw_only=True):
    """Check data-quality rules; rows pass through unchanged. A broken `fail` rule stops the run."""

    rules: Annotated[list[Rule], Meta(min_length=1, max_length=200)]
    #: How many violating values each rule's report shows.
    sample_size: Annotated[int, Meta(ge=0, le=100)] = 5


class Aggregate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    """One aggregate column: `function(column) AS as` (`count` without a column counts rows)."""

    function: AggregateFunction
    column: ColumnName | None = None
    #: The output column's name; defaults to `<function>_<column>` (or `count`).
    as_: ColumnName | None = msgspec.field(default=None, name="as")


class AggregateStep(RelationalStep, tag="aggregate", kw_only=True):
    """Group rows by columns and compute aggregates (no `group_by`: one row for the whole input)."""

    group_by: list[ColumnName] = msgspec.field(default_factory=list)
    aggregates: Annotated[list[Aggregate], Meta(min_length=1)]


class JoinKey(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Join on columns of different names."""

    left: ColumnName
    right: ColumnName


class JoinStep(RelationalStep, tag="join", kw_only=True):
    """Join the input (left) with another input or earlier step (right) on equal keys."""

    with_: Name = msgspec.field(name="with")
    how: Literal["inner", "left", "right", "full"] = "inner"
    #: Key columns: a name present on both sides, or {left, right}.
    on: Annotated[list[ColumnName | JoinKey], Meta(min_length=1)]
    #: Added to a right-side column whose name the left side already has.
    suffix: Annotated[str, Meta(min_length=1, max_length=50)] = "_right"


class SortStep(RelationalStep, tag="sort", kw_only=True):
    """Order the rows."""

    by: Annotated[list[OrderBy], Meta(min_length=1)]


class LimitStep(RelationalStep, tag="limit", kw_only=True):
    """Keep at most `rows` rows (after skipping `offset`)."""

    rows: Annotated[int, Meta(ge=0)]
    offset: Annotated[int, Meta(ge=0)] = 0


#: The built-in step types, in the order the JSON schema lists them.
BUILTIN_STEPS: tuple[type[StepBase], ...] = (
    SqlStep,
    SelectStep,
    RenameStep,
    CastStep,
    FilterStep,
    DedupeStep,
    FillNullStep,
    MaskStep,
    ValidateStep,
    AggregateStep,
    JoinStep,
    SortStep,
    LimitStep,
    LogStep,
    SleepStep,
    FailStep,
)

# The step union: the built-in steps here; installed plugins are added at the end of this module.
Step = (
    SqlStep
    | SelectStep
    | RenameStep
    | CastStep
    | FilterStep
    | DedupeStep
    | FillNullStep
    | MaskStep
    | ValidateStep
    | AggregateStep
    | JoinStep
    | SortStep
    | LimitStep
    | LogStep
    | SleepStep
    | FailStep
)


class PipelineSpec(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    """A pipeline: the datasets it reads, its parameters, its ordered steps, the dataset it writes."""

    inputs: Annotated[dict[Name, InputRef], Meta(max_length=50)] = msgspec.field(default_factory=dict)
    params: Annotated[dict[Name, ParamSpec], Meta(max_length=100)] = msgspec.field(default_factory=dict)
    steps: Annotated[list[Step], Meta(max_length=MAX_STEPS)] = msgspec.field(default_factory=list)
    output: OutputSpec | None = None
    defaults: Defaults | None = None


def step_tag(kind: type) -> Any:
    """The `type` value of a step Struct type (its msgspec tag)."""
    return kind.__struct_config__.tag  # type: ignore[attr-defined]


def is_relational(step: Any) -> bool:
    """Whether a step produces rows (a transformation), as opposed to an action such as `log`."""
    return isinstance(step, RelationalStep) or getattr(step, "relational", False)


# --- the step catalog: built-ins + plugins ---------------------------------------------------------------------


@dataclass(frozen=True)
class StepCatalog:
    """The step types a spec may use: the spec Struct whose union holds them, and the plugins' executors."""

    spec_type: type[PipelineSpec]
    step_types: tuple[type, ...]
    executors: Mapping[type, Callable[..., Any]] = field(default_factory=dict)


def build_catalog(plugins: Iterable[StepPlugin] = (), *, spec_type: type[PipelineSpec] | None = None) -> StepCatalog:
    """A catalog of the built-in steps plus `plugins`; raise PluginError for a type that cannot join the union."""
    plugins = list(plugins)
    tags = {step_tag(kind): kind.__name__ for kind in BUILTIN_STEPS}
    for plugin in plugins:
        kind = plugin.step_type
        if not (issubclass(kind, StepBase) and kind not in (StepBase, RelationalStep)):
            raise PluginError(f"step plugin {plugin.name!r}: {kind.__name__} must subclass StepBase or RelationalStep")
        tag = step_tag(kind)
        if not isinstance(tag, str):
            raise PluginError(f"step plugin {plugin.name!r}: {kind.__name__} needs a string `tag` (its step type)")
        if tag in tags:
            raise PluginError(f"step plugin {plugin.name!r}: step type {tag!r} is already taken by {tags[tag]}")
        tags[tag] = kind.__name__
    kinds = (*BUILTIN_STEPS, *(plugin.step_type for plugin in plugins))
    if spec_type is None:
        union = functools.reduce(operator.or_, kinds)
        spec_type = msgspec.defstruct(
            "PipelineSpec",
            [("steps", Annotated[list[union], Meta(max_length=MAX_STEPS)], msgspec.field(default_factory=list))],
            bases=(PipelineSpec,),
            kw_only=True,
            forbid_unknown_fields=True,
            omit_defaults=True,
            module=__name__,
        )
    return StepCatalog(
        spec_type=spec_type, step_types=kinds, executors={plugin.step_type: plugin.execute for plugin in plugins}
    )


# --- parsing and cross-field checks ----------------------------------------------------------------------------


def parse_spec(document: Any, *, catalog: StepCatalog | None = None, prefix: str = "spec") -> PipelineSpec:
    """Validate a spec document (already decoded JSON or YAML), or raise InvalidPipelineSpec naming each field."""
    spec_type = (catalog or CATALOG).spec_type
    try:
        spec = msgspec.convert(document, spec_type)
    except msgspec.ValidationError as exc:
        error = {**validation_error(exc, prefix=prefix), "code": "invalid_value"}
        raise InvalidPipelineSpec(
            "the pipeline spec is not valid", code="invalid_pipeline_spec", errors=[error]
        ) from None
    errors = check_spec(spec)
    if errors:
        for error in errors:
            error["field"] = f"{prefix}.{error['field']}" if prefix else error["field"]
        raise InvalidPipelineSpec(
            f"the pipeline spec is not valid: {errors[0]['field']}: {errors[0]['message']}", errors=errors
        )
    return spec


def validation_error(exc: msgspec.ValidationError, *, prefix: str = "") -> dict[str, str]:
    """msgspec's message and path as one per-field error entry."""
    text = str(exc)
    message, sep, path = text.rpartition(" - at `")
    if not sep:
        return {"field": prefix or "$", "message": text}
    path = path.rstrip("`")
    if path.startswith("key` in `"):  # a mapping key is wrong, e.g. an input name that is not an identifier
        path, message = path.removeprefix("key` in `"), f"{message} (a key)"
    path = path.removeprefix("$")
    field = (prefix + path) if prefix else path.lstrip(".") or "$"
    return {"field": field.lstrip("."), "message": message}


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


# --- JSON schema -----------------------------------------------------------------------------------------------


def pipeline_json_schema(catalog: StepCatalog | None = None) -> dict[str, Any]:
    """The JSON Schema (2020-12) of a pipeline spec, built-in and plugin steps included, for editors."""
    schema = msgspec.json.schema((catalog or CATALOG).spec_type)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Conveyor pipeline",
        "description": (PipelineSpec.__doc__ or "").strip(),
        **schema,
    }


# --- the default catalog: built-ins + installed plugins (loaded once, at import) --------------------------------

_INSTALLED = load_step_plugins()
if _INSTALLED:
    Step = functools.reduce(operator.or_, (*BUILTIN_STEPS, *(plugin.step_type for plugin in _INSTALLED)))

#: Built-in steps plus the plugins installed in this environment.
CATALOG = build_catalog(_INSTALLED, spec_type=PipelineSpec)

# msgspec builds a type's decoding info on first use, and doing that in several threads at once has been seen
# to crash the interpreter (msgspec 0.22, a NULL read in `convert`). Build it here, once, at import.
msgspec.convert({"steps": [{"type": "log", "message": ""}]}, PipelineSpec)
msgspec.json.schema(PipelineSpec)

__all__ = [
    "BUILTIN_STEPS",
    "CATALOG",
    "InvalidPipelineParams",
    "InvalidPipelineSpec",
    "PipelineSpec",
    "PluginError",
    "StepCatalog",
    "build_catalog",
    "parse_spec",
    "pipeline_json_schema",
    "resolve_steps",
    "validation_error",
]
