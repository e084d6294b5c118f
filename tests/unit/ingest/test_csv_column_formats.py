"""A CSV import reads each date column with its own format: DuckDB's read_csv takes one date format for the whole
file, and a format set on one column (%Y%m%d) was applied to every date column, so an ISO column beside it failed
with "Could not convert string"."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from app.ingest import ImportConfig, ImportLimits
from app.ingest.config import ColumnSpec
from app.ingest.errors import ImportFailed
from app.ingest.preview import preview
from tests.unit.ingest.conftest import rows_of

DIGITS = {"记账日": ColumnSpec(type="date", format="%Y%m%d")}
EXPECTED = [
    {"单号": 1, "记账日": dt.date(2024, 1, 5), "交易日": dt.date(2024, 1, 4)},
    {"单号": 2, "记账日": dt.date(2024, 12, 31), "交易日": dt.date(2024, 12, 30)},
]


def _csv(tmp_path: Path, *extra: str) -> Path:
    path = tmp_path / "dates.csv"
    lines = ["单号,记账日,交易日", "1,20240105,2024-01-04", "2,20241231,2024-12-30", *extra]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("on_error", ["strict", "lenient"])
@pytest.mark.parametrize("spec", [DIGITS, {"记账日": ColumnSpec(type="date", format=["%Y%m%d"])}], ids=["one", "list"])
def test_a_format_on_one_date_column_leaves_the_iso_column_beside_it_as_sniffed(
    tmp_path: Path, run_import, on_error: str, spec: dict[str, ColumnSpec]
) -> None:
    result = run_import(_csv(tmp_path), columns=spec, on_error=on_error)
    assert rows_of(result) == EXPECTED
    assert result.rejected == 0


def test_two_date_columns_each_with_its_own_format(tmp_path: Path, run_import) -> None:
    columns = DIGITS | {"交易日": ColumnSpec(type="date", format="%Y-%m-%d")}
    assert rows_of(run_import(_csv(tmp_path), columns=columns, on_error="strict")) == EXPECTED


def test_a_timestamp_column_keeps_its_sniffed_format_beside_a_formatted_one(tmp_path: Path, run_import) -> None:
    path = tmp_path / "times.csv"
    path.write_text("a,b\n05/01/2024 10:30,2024-01-05 08:00:00\n06/01/2024 11:00,2024-01-06 09:15:00\n")
    columns = {"a": ColumnSpec(type="datetime", format="%d/%m/%Y %H:%M")}
    assert rows_of(run_import(path, columns=columns, on_error="strict")) == [
        {"a": dt.datetime(2024, 1, 5, 10, 30), "b": dt.datetime(2024, 1, 5, 8)},
        {"a": dt.datetime(2024, 1, 6, 11), "b": dt.datetime(2024, 1, 6, 9, 15)},
    ]


def test_a_strict_import_names_the_value_its_columns_format_does_not_read(tmp_path: Path, run_import) -> None:
    path = _csv(tmp_path, "3,2024-02-01,2024-02-01")
    with pytest.raises(ImportFailed) as failed:
        run_import(path, columns=DIGITS, on_error="strict")
    assert failed.value.code == "import_failed"
    assert [(p["row"], p["column"], p["value"]) for p in failed.value.errors] == [(4, "记账日", "2024-02-01")]


def test_a_lenient_import_rejects_the_row_of_a_value_its_columns_format_does_not_read(
    tmp_path: Path, run_import
) -> None:
    """It was imported as NULL, where a value of any other type that does not read is a rejected row."""
    result = run_import(_csv(tmp_path, "3,2024-02-01,2024-02-01"), columns=DIGITS, on_error="lenient")
    assert rows_of(result) == EXPECTED
    assert result.rejected == 1
    assert result.rejects_path is not None
    assert pq.read_table(result.rejects_path).to_pylist() == [
        {
            "row": 4,
            "column": "记账日",
            "message": "cannot read '2024-02-01' as date: does not match the format '%Y%m%d'",
            "value": "2024-02-01",
        }
    ]


def test_a_time_column_is_read_with_its_format(tmp_path: Path, run_import) -> None:
    """read_csv has no time format: the column's format was ignored and every row rejected."""
    path = tmp_path / "times.csv"
    path.write_text("a,b\n10.30.00,x\n11.45.10,y\n")
    result = run_import(path, columns={"a": ColumnSpec(type="time", format="%H.%M.%S")}, on_error="strict")
    assert [r["a"] for r in rows_of(result)] == [dt.time(10, 30), dt.time(11, 45, 10)]


def test_the_preview_reads_each_date_column_with_its_own_format(tmp_path: Path, limits: ImportLimits) -> None:
    shown = preview(_csv(tmp_path), "dates.csv", ImportConfig(columns=DIGITS), limits)
    assert shown.rows == [[1, "2024-01-05", "2024-01-04"], [2, "2024-12-31", "2024-12-30"]]
    assert not [w for w in shown.warnings if "convert" in w]
