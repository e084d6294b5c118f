"""Running a pipeline: figures, per-step log, output published only on success, cancel, errors with codes."""

from __future__ import annotations

import datetime as dt
import os
import threading
import time
from pathlib import Path

import pytest

from app.pipeline import (
    DataValidationFailed,
    PipelineCancelled,
    PipelineInputsMismatch,
    PipelineStepFailed,
    PipelineTemplateError,
    RunInfo,
    output_dataset_name,
)
from app.pipeline.params import InvalidPipelineParams
from app.pipeline.spec import InvalidPipelineSpec, parse_spec
from tests.unit.pipeline.conftest import BOTH, ORDERS, Runner, rows_of

DAILY = {
    "inputs": BOTH,
    "params": {"since": {"type": "date", "default": "2024-01-02"}},
    "steps": [
        {"id": "recent", "type": "filter", "input": "orders", "where": "day >= $since"},
        {"type": "dedupe", "keys": ["id"]},
        {"type": "log", "message": "deduplicated orders since {{ params.since }}"},
        {"type": "join", "with": "customers", "on": ["customer_id"]},
        {
            "type": "aggregate",
            "group_by": ["region"],
            "aggregates": [{"function": "sum", "column": "amount", "as": "total"}],
        },
        {"type": "sort", "by": ["region"]},
    ],
    "output": {"dataset": "daily_{{ run.scheduled_for | date }}"},
}


def test_a_run_writes_the_output_and_reports_what_it_did(run: Runner) -> None:
    steps_seen: list[tuple[int, int]] = []
    result = run(DAILY, on_step=lambda number, total: steps_seen.append((number, total)))

    assert rows_of(result.data_path) == [{"region": "north", "total": 50.0}, {"region": "south", "total": 25.0}]
    assert result.data_path == str(run.out / "data.parquet")
    assert os.listdir(run.out) == ["data.parquet"]  # the hidden work directory is gone
    assert result.output_dataset == "daily_2024-02-01"
    assert (result.rows_in, result.rows_out) == (13, 2)
    assert result.bytes_out == os.path.getsize(result.data_path) > 0
    assert [(c.name, c.type, c.nulls, c.min, c.max) for c in result.columns] == [
        ("region", "string", 0, "north", "south"),
        ("total", "float", 0, "25.0", "50.0"),
    ]
    assert [(s.id, s.type, s.how, s.rows_in, s.rows_out) for s in result.steps] == [
        ("recent", "filter", "counted_view", 10, 9),
        ("step_2", "dedupe", "table", 9, 8),
        ("step_3", "log", "action", None, None),
        ("step_4", "join", "table", 8, 5),
        ("step_5", "aggregate", "table", 5, 2),
        ("step_6", "sort", "output", 2, 2),
    ]
    assert all(step.duration_ms >= 0 for step in result.steps)
    assert result.params == {"since": "2024-01-02"}
    assert result.inputs["orders"].dataset_id == "ds-orders"
    assert steps_seen == [(n, 6) for n in range(1, 7)]
    assert ("info", "deduplicated orders since 2024-01-02") in run.lines
    assert "step 2/6 step_2 (dedupe, table): 9 → 8 rows" in " ".join(run.messages)
    assert any(m.startswith("input orders: dataset ds-orders version 3, 10 rows") for m in run.messages)


def test_views_count_rows_without_materialising(run: Runner) -> None:
    result = run(
        {
            "inputs": ORDERS,
            "steps": [
                {"type": "filter", "where": "amount > 5"},
                {"type": "cast", "columns": {"amount": "integer"}},
                {"type": "limit", "rows": 4},
                {"type": "select", "columns": ["id", "amount"]},
            ],
            "output": {"dataset": "x"},
        }
    )
    assert [(s.how, s.rows_in, s.rows_out) for s in result.steps] == [
        ("counted_view", 10, 7),
        ("view", 7, 7),
        ("view", 7, 4),
        ("output", 4, 4),
    ]
    assert result.rows_out == 4


def test_a_spec_without_output_runs_and_writes_nothing(run: Runner) -> None:
    result = run({"inputs": ORDERS, "steps": [{"type": "aggregate", "aggregates": [{"function": "count"}]}]})
    assert result.data_path is None
    assert result.output_dataset is None
    assert result.rows_out == 1
    assert os.listdir(run.out) == []


def test_the_engine_steps_of_the_run_engine_still_work_without_inputs(run: Runner) -> None:
    result = run({"steps": [{"type": "log", "message": "hi", "level": "warning"}, {"type": "sleep", "seconds": 2.5}]})
    assert ("warning", "hi") in run.lines
    assert run.slept == [2.5]
    assert (result.rows_in, result.rows_out, result.data_path) == (0, 0, None)
    assert not run.out.exists()  # a pipeline that writes no file makes no folder either (no-op runs are many)


def test_an_output_that_copies_the_only_input(run: Runner) -> None:
    result = run({"inputs": ORDERS, "steps": [{"type": "log", "message": "copy"}], "output": {"dataset": "copy"}})
    assert result.rows_out == 10
    assert len(rows_of(result.data_path)) == 10


def test_a_failing_step_leaves_no_output(run: Runner) -> None:
    spec = {**DAILY, "steps": [*DAILY["steps"], {"type": "fail", "message": "stop here"}]}
    with pytest.raises(PipelineStepFailed) as caught:
        run(spec)
    assert caught.value.code == "pipeline_step_failed"
    assert caught.value.errors[0]["field"] == "steps[6]"
    assert os.listdir(run.out) == []


def test_a_runtime_sql_error_names_the_step_and_the_views_it_runs(run: Runner) -> None:
    spec = {
        "inputs": ORDERS,
        "steps": [
            {"id": "as_int", "type": "cast", "columns": {"qty": "integer"}},
            {"type": "aggregate", "aggregates": [{"function": "sum", "column": "qty"}]},
        ],
    }
    with pytest.raises(PipelineStepFailed) as caught:
        run(spec)
    error = caught.value.errors[0]
    assert (error["field"], error["code"]) == ("steps[1]", "sql_error")
    assert "Could not convert string 'x'" in error["message"]
    assert "as_int" in error["message"]


def test_a_failed_fail_rule_stops_the_run_with_its_report(run: Runner) -> None:
    spec = {
        "inputs": ORDERS,
        "steps": [
            {
                "type": "validate",
                "rules": [{"rule": "not_null", "columns": ["email"]}, {"rule": "row_count", "max": 100}],
            }
        ],
        "output": {"dataset": "x"},
    }
    with pytest.raises(DataValidationFailed) as caught:
        run(spec)
    assert caught.value.code == "data_validation_failed"
    assert caught.value.errors == [
        {
            "field": "steps[0].rules",
            "code": "rule_failed",
            "rule": "not_null",
            "severity": "fail",
            "columns": ["email"],
            "violations": 1,
            "passed": False,
            "message": "1 rows break it",
            "sample": [{"email": None}],
        }
    ]
    assert caught.value.validations[0].rules[1].passed
    assert os.listdir(run.out) == []


def test_parameters_and_inputs_are_checked_before_any_work(run: Runner) -> None:
    with pytest.raises(InvalidPipelineParams) as caught:
        run(DAILY, params={"since": "yesterday", "until": "2024-01-01"})
    assert {e["field"] for e in caught.value.errors} == {"params.since", "params.until"}
    with pytest.raises(InvalidPipelineParams):
        run({"params": {"day": {"type": "date"}}, "steps": []})
    with pytest.raises(PipelineInputsMismatch) as mismatch:
        run({"inputs": {"orders": {"dataset": "o"}, "gone": {"dataset": "n"}}, "steps": []}, inputs=run.inputs)
    assert {(e["field"], e["code"]) for e in mismatch.value.errors} == {
        ("inputs.gone", "missing_input"),
        ("inputs.customers", "unknown_input"),
    }
    with pytest.raises(InvalidPipelineSpec) as spec_error:
        run({"inputs": ORDERS, "steps": [{"type": "sql", "sql": "SELECT $missing"}]})
    assert spec_error.value.errors[0] == {
        "field": "steps[0].sql",
        "message": "unknown parameter $missing; declare it under `params`",
        "code": "unknown_param",
    }
    assert not run.out.exists() or os.listdir(run.out) == []


def test_the_output_name_template_needs_a_value(run: Runner) -> None:
    manual = RunInfo(id="r2", started_at=dt.datetime(2024, 5, 6, 7, 8))
    assert output_dataset_name(parse_spec(DAILY), params={}, run=manual) == "daily_2024-05-06"
    assert run(DAILY, run=manual).output_dataset == "daily_2024-05-06"
    with pytest.raises(PipelineTemplateError) as caught:
        run(DAILY, run=RunInfo(id="r3"))
    assert caught.value.errors[0]["field"] == "output.dataset"


def test_cancel_interrupts_a_long_query(run: Runner) -> None:
    stop = threading.Event()
    threading.Timer(0.3, stop.set).start()
    spec = {
        "inputs": ORDERS,
        "steps": [{"type": "sql", "sql": "SELECT count(*) AS n FROM range(1000000000000) r, orders"}],
        "output": {"dataset": "x"},
    }
    started = time.monotonic()
    with pytest.raises(PipelineCancelled) as caught:
        run(spec, should_stop=stop.is_set)
    assert caught.value.code == "pipeline_cancelled"
    assert time.monotonic() - started < 5
    assert os.listdir(run.out) == []


def test_cancel_is_seen_between_steps(run: Runner) -> None:
    calls = iter([False, True])
    with pytest.raises(PipelineCancelled):
        run(
            {"steps": [{"type": "log", "message": "one"}, {"type": "log", "message": "two"}]},
            should_stop=lambda: next(calls, True),
        )
    assert run.messages[0] == "one"
    assert "two" not in run.messages


def test_an_earlier_output_is_replaced_only_by_a_successful_run(run: Runner, tmp_path: Path) -> None:
    first = run(DAILY)
    before = Path(first.data_path).read_bytes()
    with pytest.raises(PipelineStepFailed):
        run({**DAILY, "steps": [*DAILY["steps"], {"type": "fail"}]})
    assert Path(first.data_path).read_bytes() == before
