"""Validating a draft: SQL parses and binds against empty stand-ins of the inputs; the output schema is reported."""

from __future__ import annotations

from pathlib import Path

import msgspec

from app.pipeline import parquet_schema, validate_spec
from app.pipeline.spec import parse_spec

SCHEMAS = {
    "orders": [
        ("id", "BIGINT"),
        ("customer_id", "BIGINT"),
        ("day", "DATE"),
        ("amount", "DOUBLE"),
        ("email", "VARCHAR"),
    ],
    "customers": [("customer_id", "BIGINT"), ("name", "VARCHAR")],
}
INPUTS = {"orders": {"dataset": "orders"}, "customers": {"dataset": "customers"}}


def errors(report) -> list[tuple[str, str]]:
    return [(e.field, e.code) for e in report.errors]


def test_a_valid_draft_reports_each_step_and_the_output_columns() -> None:
    report = validate_spec(
        {
            "inputs": INPUTS,
            "params": {"since": {"type": "date"}},
            "steps": [
                {"id": "recent", "type": "sql", "sql": "SELECT * FROM orders WHERE day >= $since"},
                {"type": "join", "with": "customers", "on": ["customer_id"]},
                {"type": "validate", "rules": [{"rule": "regex", "column": "email", "pattern": ".+@.+"}]},
                {
                    "type": "aggregate",
                    "group_by": ["name"],
                    "aggregates": [{"function": "sum", "column": "amount", "as": "total"}, {"function": "count"}],
                },
            ],
            "output": {"dataset": "by_name"},
        },
        input_schemas=SCHEMAS,
        params={},
    )
    assert report.valid, report.errors
    assert [(c.name, c.type, c.duckdb_type) for c in report.output_columns] == [
        ("name", "string", "VARCHAR"),
        ("total", "float", "DOUBLE"),
        ("count", "integer", "BIGINT"),
    ]
    assert [s.id for s in report.steps] == ["recent", "step_2", "step_3", "step_4"]
    assert [c.name for c in report.steps[1].columns][-1] == "name"
    assert report.warnings == ["parameter 'since' has no value or default; validated with a stand-in date"]
    assert msgspec.json.decode(msgspec.json.encode(report))["valid"] is True


def test_no_data_is_read_the_input_files_need_not_exist(tmp_path: Path) -> None:
    report = validate_spec(
        parse_spec({"inputs": {"orders": {"dataset": "o"}}, "steps": [{"type": "limit", "rows": 1}]}),
        input_schemas={"orders": SCHEMAS["orders"]},
    )
    assert report.valid
    assert next(c.name for c in report.output_columns) == "id"


def test_syntax_sandbox_and_parameter_errors_are_all_reported_by_field() -> None:
    report = validate_spec(
        {
            "inputs": INPUTS,
            "steps": [
                {"type": "sql", "sql": "SELEC * FROM orders"},
                {"type": "sql", "sql": "COPY orders TO '/tmp/x.csv'"},
                {"type": "filter", "input": "orders", "where": "amount > $min"},
                {"type": "filter", "input": "orders", "where": "true); ATTACH 'x.db' AS x; SELECT (1"},
            ],
        },
        input_schemas=SCHEMAS,
    )
    assert not report.valid
    assert errors(report) == [
        ("steps[0].sql", "sql_syntax_error"),
        ("steps[1].sql", "sandbox_violation"),
        ("steps[2].where", "unknown_param"),
        ("steps[3].where", "sandbox_violation"),
    ]


def test_a_bind_error_names_the_step() -> None:
    report = validate_spec(
        {
            "inputs": INPUTS,
            "steps": [
                {"type": "select", "input": "orders", "columns": ["id", "amount"]},
                {"type": "filter", "where": "email LIKE '%@x'"},
            ],
        },
        input_schemas=SCHEMAS,
    )
    assert errors(report) == [("steps[1].where", "sql_bind_error")]
    assert "email" in report.errors[0].message
    assert [s.id for s in report.steps] == ["step_1"]


def test_rules_bind_too() -> None:
    report = validate_spec(
        {
            "inputs": INPUTS,
            "steps": [
                {"type": "validate", "input": "orders", "rules": [{"rule": "regex", "column": "email", "pattern": "("}]}
            ],
        },
        input_schemas=SCHEMAS,
    )
    assert errors(report) == [("steps[0]", "sql_error")]


def test_spec_parameter_and_input_problems() -> None:
    assert errors(validate_spec({"stepz": []}, input_schemas={})) == [("$", "invalid_value")]
    assert errors(validate_spec({"steps": [{"type": "sleep", "seconds": -1}]}, input_schemas={})) == [
        ("steps[0].seconds", "invalid_value")
    ]
    report = validate_spec(
        {"inputs": INPUTS, "params": {"n": {"type": "integer"}}, "steps": []},
        input_schemas={"orders": SCHEMAS["orders"]},
        params={"n": "many"},
    )
    assert errors(report) == [("inputs.customers", "missing_input"), ("params.n", "invalid_param")]
    report = validate_spec(
        {"inputs": {"orders": {"dataset": "o"}}, "steps": []}, input_schemas={"orders": [("id", "NOT A TYPE")]}
    )
    assert errors(report) == [("inputs.orders", "invalid_schema")]


def test_the_schema_of_a_parquet_file_is_read_from_its_footer(data_dir: Path) -> None:
    assert parquet_schema(str(data_dir / "customers.parquet")) == [
        ("customer_id", "INTEGER"),
        ("name", "VARCHAR"),
        ("region", "VARCHAR"),
    ]
