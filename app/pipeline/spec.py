"""The pipeline spec document: inputs, typed parameters, ordered typed steps, an output, defaults.

Every step is a Struct tagged by its `type`, so an unknown type or a wrong field is a clear validation error,
and `pipeline_json_schema()` describes the whole language for an editor. Steps come from a registry: the built-in
ones below plus third-party ones from the `conveyor.steps` entry point group (see `app.pipeline.plugins`).
`parse_spec` also checks what the types alone cannot: unique names, step inputs that exist, templates only where
allowed, parameter defaults of the declared type. SQL is checked later, by `app.pipeline.validate_spec`.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any

import msgspec
from msgspec import Meta

from app.pipeline.checks import (
    ResolvedStep,
    aggregate_name,
    check_spec,
    output_relation,
    resolve_steps,
)
from app.pipeline.params import InvalidPipelineParams
from app.pipeline.plugins import PluginError, StepPlugin, load_step_plugins
from app.pipeline.steps import (  # the step types are part of this module's interface
    _TEMPLATE_HELP,  # noqa: F401
    BUILTIN_STEPS,
    MAX_SLEEP_SECONDS,
    MAX_SQL_CHARS,
    MAX_STEPS,
    NAME_PATTERN,
    TEMPLATE_KEYWORD,
    Aggregate,
    AggregateFunction,
    AggregateStep,
    CastStep,
    ColumnName,
    ColumnType,
    DatasetNameTemplate,
    DedupeStep,
    Defaults,
    FailStep,
    FillNullStep,
    FilterStep,
    InputRef,
    InSetRule,
    InvalidPipelineSpec,
    JoinKey,
    JoinStep,
    KeepLast,
    LimitStep,
    LogStep,
    MaskStep,
    Name,
    NotNullRule,
    OrderBy,
    OutputSpec,
    ParamSpec,
    RangeRule,
    Redact,
    RegexRule,
    RelationalStep,
    RenameStep,
    RowCountRule,
    Rule,
    RuleBase,
    SaltedHash,
    Scalar,
    SelectStep,
    Severity,
    SleepStep,
    SortKey,
    SortStep,
    SqlStep,
    SqlText,
    Step,
    StepBase,
    UniqueRule,
    ValidateStep,
    is_relational,
    step_tag,
)


class PipelineSpec(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    """A pipeline: the datasets it reads, its parameters, its ordered steps, the dataset it writes."""

    inputs: Annotated[dict[Name, InputRef], Meta(max_length=50)] = msgspec.field(default_factory=dict)
    params: Annotated[dict[Name, ParamSpec], Meta(max_length=100)] = msgspec.field(default_factory=dict)
    steps: Annotated[list[Step], Meta(max_length=MAX_STEPS)] = msgspec.field(default_factory=list)
    output: OutputSpec | None = None
    defaults: Defaults | None = None


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


# --- parsing (the cross-field checks are in app.pipeline.checks) ---------------------------------------


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
    "MAX_SLEEP_SECONDS",
    "MAX_SQL_CHARS",
    "MAX_STEPS",
    "NAME_PATTERN",
    "TEMPLATE_KEYWORD",
    "Aggregate",
    "AggregateFunction",
    "AggregateStep",
    "CastStep",
    "ColumnName",
    "ColumnType",
    "DatasetNameTemplate",
    "DedupeStep",
    "Defaults",
    "FailStep",
    "FillNullStep",
    "FilterStep",
    "InSetRule",
    "InputRef",
    "InvalidPipelineParams",
    "InvalidPipelineSpec",
    "JoinKey",
    "JoinStep",
    "KeepLast",
    "LimitStep",
    "LogStep",
    "MaskStep",
    "Name",
    "NotNullRule",
    "OrderBy",
    "OutputSpec",
    "ParamSpec",
    "PipelineSpec",
    "PluginError",
    "RangeRule",
    "Redact",
    "RegexRule",
    "RelationalStep",
    "RenameStep",
    "ResolvedStep",
    "RowCountRule",
    "Rule",
    "RuleBase",
    "SaltedHash",
    "Scalar",
    "SelectStep",
    "Severity",
    "SleepStep",
    "SortKey",
    "SortStep",
    "SqlStep",
    "SqlText",
    "Step",
    "StepBase",
    "StepCatalog",
    "UniqueRule",
    "ValidateStep",
    "aggregate_name",
    "build_catalog",
    "check_spec",
    "is_relational",
    "output_relation",
    "parse_spec",
    "pipeline_json_schema",
    "resolve_steps",
    "step_tag",
    "validation_error",
]
