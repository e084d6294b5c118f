"""The building blocks of the pipeline language: names, inputs, params, output, and every built-in step type.

Each step is a msgspec Struct tagged by its `type`; `app.pipeline.spec` assembles them (with plugins)
into the spec document, parses it and checks what the types alone cannot.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

import msgspec
from msgspec import UNSET, Meta, UnsetType

from app.core.errors import InvalidInput
from app.core.ids import MAX_VERSION
from app.core.patterns import whole
from app.pipeline.params import ParamType

#: Longest a `sleep` step may ask for, in seconds (a run's timeout still applies).
MAX_SLEEP_SECONDS = 86_400.0
#: Most steps one pipeline may have.
MAX_STEPS = 1000
#: Longest SQL text of one `sql` step or `filter` predicate.
MAX_SQL_CHARS = 100_000
#: Input and step names: SQL identifiers, usable unquoted in `sql` steps.
NAME_PATTERN = whole(r"[A-Za-z_][A-Za-z0-9_]{0,62}")
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
        pattern=whole(r"[^\x00]+"),
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
    version: Annotated[int, Meta(ge=1, le=MAX_VERSION)] | None = None


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
        pattern=whole(r"[^\x00-\x1f/\\]+"),
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
    level: Annotated[str, Meta(pattern=whole("debug|info|warning|error"))] = "info"


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


def step_tag(kind: type) -> Any:
    """The `type` value of a step Struct type (its msgspec tag)."""
    return kind.__struct_config__.tag  # type: ignore[attr-defined]


def is_relational(step: Any) -> bool:
    """Whether a step produces rows (a transformation), as opposed to an action such as `log`."""
    return isinstance(step, RelationalStep) or getattr(step, "relational", False)
