"""Validation binds every step and runs none: a query however costly is checked in no time, with its columns."""

from __future__ import annotations

import pytest

from app.ingest.bounded import QueryTooExpensive, bounded
from app.ingest.config import DuckDBSettings
from app.pipeline import validate_spec
from app.pipeline.isolated import validate_in_child
from app.pipeline.spec import parse_spec
from app.settings import Settings

#: A scan of 10^12 rows: hours of CPU if anything ran it.
HUGE = "SELECT count(*) AS n FROM range(1000000000000) t(i) WHERE i % 7 = $k"


@pytest.mark.timeout(60)
def test_a_huge_scan_is_validated_without_running_it() -> None:
    spec = {
        "inputs": {"orders": {"dataset": "orders"}},
        "params": {"k": {"type": "integer", "default": 3}},
        "steps": [
            {"id": "huge", "type": "sql", "sql": HUGE},
            {"type": "validate", "rules": [{"rule": "row_count", "min": 1, "severity": "fail"}]},
            {"id": "more", "type": "sql", "sql": "SELECT n, n * 2 AS twice, n AS n FROM huge, orders"},
        ],
    }
    report = validate_spec(spec, input_schemas={"orders": [("id", "BIGINT")]})
    assert report.valid, report.errors
    assert [(c.name, c.duckdb_type) for c in report.output_columns] == [
        ("n", "BIGINT"),
        ("twice", "BIGINT"),
        ("n_1", "BIGINT"),
    ]


@pytest.mark.timeout(60)
def test_validation_inside_a_bounded_block_obeys_its_time_limit() -> None:
    limits = DuckDBSettings(memory_limit="128MB", threads=1, time_limit_seconds=0.001)
    spec = {"steps": [{"type": "sql", "sql": "SELECT 1 AS one"}]}
    with pytest.raises(QueryTooExpensive), bounded(limits):
        validate_spec(spec, input_schemas={}, duckdb_settings=limits)


@pytest.mark.timeout(120)
def test_in_a_child_a_constant_too_big_to_fold_is_the_memory_limit() -> None:
    """Binding evaluates a table function's arguments, which no interrupt stops and DuckDB's memory limit does
    not count: the child's address-space cap does."""
    spec = parse_spec({"steps": [{"type": "sql", "sql": "SELECT * FROM range(length(repeat('x', 1000000000)))"}]})
    with pytest.raises(QueryTooExpensive) as caught:
        validate_in_child(spec, input_schemas={}, params={}, settings=Settings(request_query_memory_mb=64))
    assert "memory limit" in caught.value.detail


@pytest.mark.timeout(120)
def test_in_a_child_the_report_is_the_same() -> None:
    spec = parse_spec(
        {
            "inputs": {"orders": {"dataset": "orders"}},
            "params": {"k": {"type": "integer"}},
            "steps": [{"type": "sql", "sql": HUGE}, {"type": "sql", "sql": "SELECT nope FROM orders"}],
        }
    )
    schemas = {"orders": [("id", "BIGINT")]}
    report = validate_in_child(spec, input_schemas=schemas, params={"k": 1}, settings=Settings())
    assert [(e.field, e.code) for e in report.errors] == [("steps[1].sql", "sql_bind_error")]
    assert report == validate_spec(spec, input_schemas=schemas, params={"k": 1})
