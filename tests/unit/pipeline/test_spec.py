"""The spec language: parsing, cross-field checks, parameters, templates and the JSON schema (pure, no I/O)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec
import pytest

from app.pipeline import params as pipeline_params
from app.pipeline import templates as pipeline_templates
from app.pipeline.spec import (
    FilterStep,
    InvalidPipelineSpec,
    JoinStep,
    LogStep,
    PipelineSpec,
    SqlStep,
    parse_spec,
    pipeline_json_schema,
    resolve_steps,
)

FULL = {
    "inputs": {"orders": {"dataset": "orders"}, "customers": {"dataset": "0190-cust", "version": 2}},
    "params": {"day": {"type": "date", "default": "2024-01-01", "description": "first day"}},
    "steps": [
        {"id": "recent", "type": "sql", "sql": "select * from orders where day >= $day"},
        {"type": "filter", "where": "amount > 0"},
        {"type": "join", "with": "customers", "on": ["customer_id"], "how": "left"},
        {"type": "log", "message": "done for {{ params.day }}"},
        {
            "type": "aggregate",
            "group_by": ["region"],
            "aggregates": [{"function": "sum", "column": "amount", "as": "total"}],
        },
    ],
    "output": {"dataset": "daily_{{ run.scheduled_for | date }}", "description": "per region"},
    "defaults": {"timeout_seconds": 600, "max_retries": 2},
}


def errors_of(document: dict[str, Any]) -> list[dict[str, str]]:
    with pytest.raises(InvalidPipelineSpec) as caught:
        parse_spec(document)
    assert caught.value.code == "invalid_pipeline_spec"
    assert caught.value.status == 422
    return caught.value.errors


def test_the_existing_documents_stay_valid_and_encode_as_before() -> None:
    spec = parse_spec({"steps": [{"type": "log", "message": "hi"}]})
    assert isinstance(spec.steps[0], LogStep)
    assert msgspec.to_builtins(spec) == {"steps": [{"type": "log", "message": "hi", "level": "info"}]}


def test_a_full_spec_parses_and_round_trips() -> None:
    spec = parse_spec(FULL)
    assert isinstance(spec, PipelineSpec)
    assert [type(step) for step in spec.steps][:3] == [SqlStep, FilterStep, JoinStep]
    assert parse_spec(msgspec.to_builtins(spec)) == spec
    assert msgspec.to_builtins(spec)["steps"][2]["with"] == "customers"


def test_step_ids_default_to_their_position_and_inputs_to_the_previous_step() -> None:
    steps = resolve_steps(parse_spec(FULL))
    assert [step.id for step in steps] == ["recent", "step_2", "step_3", "step_4", "step_5"]
    assert [step.input for step in steps] == [None, "recent", "step_2", None, "step_3"]
    assert steps[2].other == "customers"
    assert [step.relational for step in steps] == [True, True, True, False, True]


def test_the_first_step_reads_the_only_input() -> None:
    spec = parse_spec({"inputs": {"orders": {"dataset": "o"}}, "steps": [{"type": "limit", "rows": 1}]})
    assert resolve_steps(spec)[0].input == "orders"


@pytest.mark.parametrize(
    ("document", "field", "code"),
    [
        ({"steps": [{"type": "filter", "where": "x"}]}, "spec.steps[0].input", "input_required"),
        (
            {"inputs": {"a": {"dataset": "a"}, "b": {"dataset": "b"}}, "steps": [{"type": "limit", "rows": 1}]},
            "spec.steps[0].input",
            "input_required",
        ),
        ({"inputs": {"a": {"dataset": "a"}, "A": {"dataset": "b"}}}, "spec.inputs.A", "duplicate_name"),
        (
            {"inputs": {"a": {"dataset": "a"}}, "steps": [{"id": "A", "type": "limit", "rows": 1}]},
            "spec.steps[0].id",
            "duplicate_name",
        ),
        (
            {
                "inputs": {"a": {"dataset": "a"}},
                "steps": [{"type": "limit", "input": "later", "rows": 1}, {"id": "later", "type": "limit", "rows": 1}],
            },
            "spec.steps[0].input",
            "unknown_relation",
        ),
        (
            {
                "inputs": {"a": {"dataset": "a"}},
                "steps": [{"id": "say", "type": "log", "message": "x"}, {"type": "limit", "input": "say", "rows": 1}],
            },
            "spec.steps[1].input",
            "not_a_relation",
        ),
        (
            {"inputs": {"a": {"dataset": "a"}}, "steps": [{"type": "join", "with": "b", "on": ["k"]}]},
            "spec.steps[0].with",
            "unknown_relation",
        ),
        ({"params": {"d": {"type": "date", "default": "31/01/2024"}}}, "spec.params.d.default", "invalid_default"),
        ({"steps": [{"type": "log", "message": "{{ params.nope }}"}]}, "spec.steps[0].message", "invalid_template"),
        ({"steps": [{"type": "log", "message": "{{ os.environ }}"}]}, "spec.steps[0].message", "invalid_template"),
        (
            {"steps": [{"type": "sql", "sql": "select '{{ params.day }}'"}], "params": {"day": {"type": "date"}}},
            "spec.steps[0].sql",
            "template_not_allowed",
        ),
        ({"steps": [], "output": {"dataset": "x"}}, "spec.output", "nothing_to_output"),
        (
            {"inputs": {"a": {"dataset": "a"}}, "steps": [{"type": "aggregate", "aggregates": [{"function": "sum"}]}]},
            "spec.steps[0].aggregates[0].column",
            "missing_column",
        ),
        (
            {
                "inputs": {"a": {"dataset": "a"}},
                "steps": [{"type": "mask", "columns": ["e"], "method": {"kind": "salted_hash"}}],
            },
            "spec.steps[0].method",
            "invalid_salt",
        ),
        (
            {
                "inputs": {"a": {"dataset": "a"}},
                "steps": [{"type": "validate", "rules": [{"rule": "range", "column": "x"}]}],
            },
            "spec.steps[0].rules[0]",
            "missing_bound",
        ),
        ({"steps": [{"type": "teleport"}]}, "spec.steps[0]", "invalid_value"),
        ({"inputs": {"bad name": {"dataset": "a"}}}, "spec.inputs", "invalid_value"),
        ({"steps": [{"type": "sql", "id": "1st", "sql": "select 1"}]}, "spec.steps[0].id", "invalid_value"),
        ({"steps": [{"type": "sql", "sql": "select 1", "input": "x"}]}, "spec.steps[0]", "invalid_value"),
        ({"steps": [{"type": "limit", "rows": -1}]}, "spec.steps[0].rows", "invalid_value"),
        ({"params": {"p": {"type": "decimal"}}}, "spec.params", "invalid_value"),
    ],
)
def test_a_bad_spec_names_the_field_and_the_problem(document: dict[str, Any], field: str, code: str) -> None:
    errors = errors_of(document)
    assert any(e["field"].startswith(field) and e["code"] == code for e in errors), errors


def test_every_cross_field_problem_is_reported_at_once() -> None:
    errors = errors_of(
        {
            "inputs": {"a": {"dataset": "a"}},
            "steps": [
                {"id": "a", "type": "log", "message": "{{ params.x }}"},
                {"type": "join", "with": "zz", "on": ["k"]},
            ],
        }
    )
    assert {e["code"] for e in errors} >= {"duplicate_name", "invalid_template", "unknown_relation"}


def test_parameters_are_coerced_from_json_and_checked() -> None:
    declared = parse_spec(
        {
            "params": {
                "day": {"type": "date"},
                "at": {"type": "datetime", "default": "2024-01-01T10:00:00+02:00"},
                "n": {"type": "integer", "default": 3},
                "ratio": {"type": "float", "default": "0.5"},
                "flag": {"type": "boolean", "default": "true"},
                "ids": {"type": "list[integer]", "default": [1, "2"]},
                "note": {"type": "string", "default": None},
            }
        }
    ).params
    values = pipeline_params.resolve(declared, {"DAY": "2024-01-31", "n": "7"})
    assert values == {
        "day": dt.date(2024, 1, 31),
        "n": 7,
        "at": dt.datetime(2024, 1, 1, 8, 0),
        "ratio": 0.5,
        "flag": True,
        "ids": [1, 2],
        "note": None,
    }
    with pytest.raises(pipeline_params.InvalidPipelineParams) as caught:
        pipeline_params.resolve(declared, {"n": True, "zzz": 1, "ids": "1,2"})
    codes = {e["field"]: e["code"] for e in caught.value.errors}
    assert codes == {
        "params.n": "invalid_param",
        "params.zzz": "unknown_param",
        "params.ids": "invalid_param",
        "params.day": "missing_param",
    }
    assert caught.value.code == "invalid_pipeline_params"


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("integer", 2**63),  # past a DuckDB BIGINT: DuckDB refused it and validate answered 500
        ("list[integer]", [10**40]),
        ("float", 10**400),  # float() overflows: 500
        ("datetime", "0001-01-01T00:00:00+14:00"),  # year 0 once in UTC: 500
        ("datetime", "9999-12-31T23:59:59-14:00"),
    ],
)
def test_a_value_past_what_its_type_holds_is_an_invalid_param(kind: str, value: Any) -> None:
    declared = parse_spec({"params": {"p": {"type": kind}}}).params
    with pytest.raises(pipeline_params.InvalidPipelineParams) as caught:
        pipeline_params.resolve(declared, {"p": value})
    assert [(e["field"], e["code"]) for e in caught.value.errors] == [("params.p", "invalid_param")]


def test_templates_render_only_params_and_run_fields() -> None:
    run = {"id": "r1", "scheduled_for": None, "started_at": dt.datetime(2024, 3, 4, 5, 6)}
    params = {"Day": dt.date(2024, 1, 31), "tags": ["a", "b"]}
    text = "{{params.day}} {{ params.day | date }} {{ run.scheduled_for|date }} {{ run.id }} {{ params.tags }}"
    assert pipeline_templates.render(text, params=params, run=run) == "2024-01-31 2024-01-31 2024-03-04 r1 a,b"
    for bad in ("{{ params.day.__class__ }}", "{{ run.secret }}", "{{ params.day | upper }}", "{{ 1 + 1 }}", "x }}"):
        with pytest.raises(pipeline_templates.TemplateError):
            pipeline_templates.render(bad, params=params, run=run)
    with pytest.raises(pipeline_templates.TemplateError, match="no value"):
        pipeline_templates.render("{{ run.scheduled_for }}", params={}, run={"id": "r"})


def test_the_json_schema_describes_every_step_for_an_editor() -> None:
    schema = pipeline_json_schema()
    assert schema["$schema"].endswith("2020-12/schema")
    definitions = schema["$defs"]
    step_union = definitions["PipelineSpec"]["properties"]["steps"]["items"]
    assert set(step_union["discriminator"]["mapping"]) == {
        "sql", "select", "rename", "cast", "filter", "dedupe", "fill_null", "mask", "validate",
        "aggregate", "join", "sort", "limit", "log", "sleep", "fail",
    }  # fmt: skip
    assert sorted(definitions["JoinStep"]["properties"]["how"]["enum"]) == ["full", "inner", "left", "right"]
    assert definitions["SqlStep"]["properties"]["id"]["pattern"] == r"^(?:[A-Za-z_][A-Za-z0-9_]{0,62})$(?!\n)"
    assert definitions["JoinStep"]["required"] == ["type", "with", "on"]
    assert "list[date]" in definitions["ParamSpec"]["properties"]["type"]["enum"]
    templated = [
        (name, field)
        for name, definition in definitions.items()
        for field, prop in definition.get("properties", {}).items()
        if prop.get("x-conveyor-template")
    ]
    assert sorted(templated) == [("LogStep", "message"), ("OutputSpec", "dataset")]
    assert definitions["PipelineSpec"]["additionalProperties"] is False
