"""Each built-in step, run through the engine on a ten-row input: the rows a user gets out."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from app.core.notices import notice_of
from app.core.run_notices import OutputCopied, RuleChecked
from tests.unit.pipeline.conftest import BOTH, ORDERS, Runner, rows_of


def output(run: Runner, *steps: dict[str, Any], inputs: dict = ORDERS, **kwargs: Any) -> list[dict[str, Any]]:
    result = run({"inputs": inputs, "steps": list(steps), "output": {"dataset": "out"}}, **kwargs)
    assert result.data_path is not None
    return rows_of(result.data_path)


def test_params_are_bound_never_substituted(run: Runner) -> None:
    spec = {
        "inputs": ORDERS,
        "params": {"day": {"type": "date"}, "who": {"type": "string"}},
        "steps": [
            {"type": "sql", "sql": "SELECT id FROM orders WHERE day >= $day AND email = $who ORDER BY id;  -- done"}
        ],
        "output": {"dataset": "out"},
    }
    result = run(spec, params={"day": "2024-01-02", "who": "ann@example.org"})
    assert rows_of(result.data_path) == [{"id": 2}, {"id": 7}]
    # a value that would change the query if it were pasted into the SQL text is just a value
    result = run(spec, params={"day": "2024-01-01", "who": "x' OR '1'='1"})
    assert rows_of(result.data_path) == []


def test_a_filter_view_reads_bound_parameters(run: Runner) -> None:
    spec = {
        "inputs": ORDERS,
        "params": {"who": {"type": "string"}, "ids": {"type": "list[integer]"}},
        "steps": [
            {"type": "filter", "where": "email = $who AND id = ANY($IDS) AND email <> '$who' -- $who"},
            {"type": "select", "columns": ["id"]},
            {"type": "sort", "by": ["id"]},
        ],
        "output": {"dataset": "out"},
    }
    result = run(spec, params={"who": "ann@example.org", "ids": [1, 7, 3]})
    assert rows_of(result.data_path) == [{"id": 1}, {"id": 7}]
    assert result.steps[0].how == "counted_view"
    assert result.steps[0].rows_out == 2
    assert rows_of(run(spec, params={"who": "x' OR '1'='1", "ids": [1]}).data_path) == []


def test_select_rename_cast_fill_null(run: Runner) -> None:
    rows = output(
        run,
        {"type": "filter", "where": "id IN (3, 4)"},
        {"type": "select", "columns": ["id", "email", "qty"]},
        {"type": "rename", "columns": {"email": "e mail"}},
        {"type": "cast", "columns": {"qty": "integer", "id": "string"}},
        {"type": "fill_null", "values": {"e mail": "unknown"}},
    )
    assert rows == [{"id": "3", "e mail": "unknown", "qty": 1}, {"id": "4", "e mail": "bob@example.org", "qty": 2}]


def test_a_safe_cast_turns_bad_values_into_nulls(run: Runner) -> None:
    rows = output(
        run, {"type": "cast", "columns": {"qty": "integer"}, "safe": True}, {"type": "filter", "where": "qty IS NULL"}
    )
    assert [row["id"] for row in rows] == [6]


def test_dedupe_keeps_the_first_or_last_row_per_key(run: Runner) -> None:
    first = output(
        run,
        {"type": "dedupe", "keys": ["customer_id"], "order_by": ["day", "id"]},
        {"type": "sort", "by": ["customer_id"]},
    )
    assert [row["id"] for row in first] == [1, 3, 5]
    last = output(
        run,
        {"type": "dedupe", "keys": ["customer_id"], "keep": "last", "order_by": ["day", "id"]},
        {"type": "sort", "by": ["customer_id"]},
    )
    assert [row["id"] for row in last] == [7, 8, 9]
    whole_rows = output(run, {"type": "dedupe"})
    assert len(whole_rows) == 9


def test_mask_methods(run: Runner) -> None:
    rows = output(
        run,
        {"type": "filter", "where": "id IN (1, 3)"},
        {"type": "select", "columns": ["id", "email"]},
        {"id": "hashed", "type": "mask", "columns": ["email"], "method": {"kind": "salted_hash", "salt": "pepper"}},
        {"type": "sort", "by": ["id"]},
    )
    assert rows[0]["email"] == hashlib.sha256(b"pepperann@example.org").hexdigest()
    assert rows[1]["email"] is None
    rows = output(
        run,
        {"type": "filter", "where": "id IN (1, 3)"},
        {"type": "mask", "columns": ["email"], "method": {"kind": "keep_last", "n": 4}},
        {"type": "mask", "columns": ["qty"], "method": {"kind": "redact"}},
        {"type": "sort", "by": ["id"]},
    )
    assert [(row["email"], row["qty"]) for row in rows] == [("***********.org", "***"), (None, "***")]


def test_a_salt_can_come_from_a_parameter(run: Runner) -> None:
    spec = {
        "inputs": ORDERS,
        "params": {"salt": {"type": "string"}},
        "steps": [
            {"type": "filter", "where": "id = 1"},
            {"type": "select", "columns": ["email"]},
            {"type": "mask", "columns": ["email"], "method": {"kind": "salted_hash", "salt_param": "salt"}},
        ],
        "output": {"dataset": "out"},
    }
    result = run(spec, params={"salt": "s3"})
    assert rows_of(result.data_path) == [{"email": hashlib.sha256(b"s3ann@example.org").hexdigest()}]


def test_aggregate_with_and_without_groups(run: Runner) -> None:
    rows = output(
        run,
        {
            "type": "aggregate",
            "group_by": ["customer_id"],
            "aggregates": [
                {"function": "count"},
                {"function": "sum", "column": "amount", "as": "total"},
                {"function": "count_distinct", "column": "day"},
                {"function": "max", "column": "day"},
            ],
        },
        {"type": "sort", "by": [{"column": "total", "descending": True}]},
    )
    assert [(r["customer_id"], r["count"], r["total"], r["count_distinct_day"]) for r in rows] == [
        (3, 4, 105.0, 3),
        (1, 3, 60.0, 3),
        (2, 3, 25.0, 3),
    ]
    assert output(run, {"type": "aggregate", "aggregates": [{"function": "avg", "column": "amount"}]}) == [
        {"avg_amount": pytest.approx(19.0)}
    ]


@pytest.mark.parametrize(
    ("how", "expected"),
    [
        ("inner", [(1, "Ann"), (2, "Bob")]),
        ("left", [(1, "Ann"), (2, "Bob"), (3, None)]),
        ("right", [(1, "Ann"), (2, "Bob"), (4, "Dee")]),
        ("full", [(1, "Ann"), (2, "Bob"), (3, None), (4, "Dee")]),
    ],
)
def test_join_kinds(run: Runner, how: str, expected: list[tuple]) -> None:
    rows = output(
        run,
        {
            "id": "per_customer",
            "type": "aggregate",
            "input": "orders",
            "group_by": ["customer_id"],
            "aggregates": [{"function": "count"}],
        },
        {"type": "join", "with": "customers", "how": how, "on": ["customer_id"]},
        {"type": "sort", "by": ["customer_id"]},
        inputs=BOTH,
    )
    assert [(row["customer_id"], row["name"]) for row in rows] == expected
    assert list(rows[0]) == ["customer_id", "count", "name", "region"]


def test_join_on_different_names_suffixes_clashing_columns(run: Runner) -> None:
    rows = output(
        run,
        {"id": "c", "type": "rename", "input": "customers", "columns": {"customer_id": "cid", "name": "id"}},
        {"type": "join", "input": "orders", "with": "c", "on": [{"left": "customer_id", "right": "cid"}]},
        {"type": "filter", "where": "id = 4"},
        inputs=BOTH,
    )
    assert rows == [
        {
            "id": 4,
            "customer_id": 2,
            "day": rows[0]["day"],
            "amount": 7.5,
            "email": "bob@example.org",
            "qty": "2",
            "cid": 2,
            "id_right": "Bob",
            "region": "south",
        }
    ]


def test_sort_and_limit(run: Runner) -> None:
    rows = output(
        run,
        {"type": "sort", "by": [{"column": "email", "descending": True, "nulls_first": True}, "id"]},
        {"type": "limit", "rows": 3, "offset": 1},
        {"type": "select", "columns": ["id"]},
    )
    assert rows == [{"id": 5}, {"id": 6}, {"id": 9}]


def test_validate_passes_rows_through_and_reports_warnings(run: Runner) -> None:
    result = run(
        {
            "inputs": ORDERS,
            "steps": [
                {
                    "id": "checks",
                    "type": "validate",
                    "rules": [
                        {"rule": "not_null", "columns": ["email"], "severity": "warn"},
                        {"rule": "unique", "columns": ["id"], "severity": "warn"},
                        {"rule": "in_set", "column": "customer_id", "values": [1, 2, 3]},
                        {"rule": "range", "column": "amount", "min": 0, "max": 50, "severity": "warn"},
                        {"rule": "regex", "column": "qty", "pattern": "[0-9]+", "severity": "warn"},
                        {"rule": "row_count", "min": 1, "max": 100},
                    ],
                }
            ],
            "output": {"dataset": "out"},
        }
    )
    assert result.rows_out == 10
    report = result.validations[0]
    assert report.passed
    found = {rule.rule: (rule.violations, rule.passed, rule.sample) for rule in report.rules}
    assert found["not_null"] == (1, False, [{"email": None}])
    assert found["unique"] == (1, False, [{"id": 9, "rows": 2}])
    assert found["in_set"] == (0, True, [])
    assert found["range"] == (1, False, [{"amount": 100.0}])
    assert found["regex"] == (1, False, [{"qty": "x"}])
    assert found["row_count"][:2] == (0, True)
    assert ("warning", "validate checks: not_null(email) [warn]: 1 rows break it") in run.lines


def test_validate_log_lines_carry_their_rule_as_a_notice(run: Runner) -> None:
    """Each rule's line has a `rule_checked` notice beside its English, as the other lines Conveyor writes, so a
    console words it in its language (the zh-CN log showed "validate check_n: not_null(n) [fail]: passed")."""
    rules = [
        {"rule": "not_null", "columns": ["email"], "severity": "warn"},
        {"rule": "unique", "columns": ["id"], "severity": "warn"},
        {"rule": "in_set", "column": "customer_id", "values": [1, 2, 3]},
        {"rule": "row_count", "min": 1},
    ]
    steps = [{"id": "checks", "type": "validate", "rules": rules}]
    run({"inputs": ORDERS, "steps": steps, "output": {"dataset": "out"}})
    lines = {str(message): message for _, message in run.lines if str(message).startswith("validate ")}
    assert [notice_of(message) for message in lines.values()] == [
        RuleChecked(step="checks", rule="not_null", columns=["email"], severity="warn", passed=False, found=1),
        RuleChecked(step="checks", rule="unique", columns=["id"], severity="warn", passed=False, found=1),
        RuleChecked(step="checks", rule="in_set", columns=["customer_id"], severity="fail", passed=True, found=0),
        RuleChecked(step="checks", rule="row_count", columns=[], severity="fail", passed=True, found=10, min=1),
    ]
    assert list(lines) == [
        "validate checks: not_null(email) [warn]: 1 rows break it",
        "validate checks: unique(id) [warn]: 1 duplicate rows",
        "validate checks: in_set(customer_id) [fail]: passed",
        "validate checks: row_count [fail]: 10 rows, expected [1, ]",
    ]


def test_output_copied_from_a_relation_carries_its_notice(run: Runner) -> None:
    """When the last step does not stream into the output (here a `validate`), the line saying the output was copied
    has an `output_copied` notice beside its English, so a console words it in its language: it was plain English
    with no notice ("output: 10 rows from checks written in 3 ms" in the zh-CN log)."""
    steps = [{"id": "checks", "type": "validate", "rules": [{"rule": "row_count", "min": 1}]}]
    run({"inputs": ORDERS, "steps": steps, "output": {"dataset": "out"}})
    copied = [message for _, message in run.lines if str(message).startswith("output: 10 rows from ")]
    assert len(copied) == 1
    notice = notice_of(copied[0])
    assert isinstance(notice, OutputCopied)
    assert (notice.rows, notice.relation, notice.duration_ms >= 0) == (10, "checks", True)
    assert str(copied[0]) == f"output: 10 rows from checks written in {notice.duration_ms} ms"
