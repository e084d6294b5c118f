"""One date column written several ways, as Chinese exports do: a column's `format` may list several formats,
tried in order, in preview and import, for CSV, workbooks and JSON; the preview suggests them."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import msgspec
import pyarrow.parquet as pq
import pytest

from app.ingest import ImportConfig, ImportLimits
from app.ingest.config import ColumnSpec
from app.ingest.errors import ImportFailed, InvalidImportConfig
from app.ingest.preview import preview
from tests.unit.ingest.conftest import rows_of, write_xlsx

WRITTEN = ["2026年1月5日", "2026/01/06", "2026-01-07", "2026.1.8", "20260109"]
FORMATS = ["%Y年%m月%d日", "%Y/%m/%d", "%Y-%m-%d", "%Y.%m.%d", "%Y%m%d"]
EXPECTED = [dt.date(2026, 1, day) for day in range(5, 10)]
COLUMNS = {"日期": ColumnSpec(type="date", format=FORMATS)}


def _csv(tmp_path: Path, dates: list[str]) -> Path:
    path = tmp_path / "mixed.csv"
    path.write_text("日期,金额\n" + "".join(f"{d},{i}.00\n" for i, d in enumerate(dates)), encoding="utf-8")
    return path


def test_a_csv_date_column_with_several_formats_previews_and_imports_every_row(
    tmp_path: Path, limits: ImportLimits, run_import
):
    path = _csv(tmp_path, WRITTEN)
    shown = preview(path, "mixed.csv", ImportConfig(columns=COLUMNS), limits)
    assert [row[0] for row in shown.rows] == [d.isoformat() for d in EXPECTED]
    result = run_import(path, columns=COLUMNS)
    assert [r["日期"] for r in rows_of(result)] == EXPECTED
    assert result.rejected == 0


def test_a_csv_date_with_several_formats_leaves_the_one_csv_date_format_to_another_column(tmp_path: Path, run_import):
    path = tmp_path / "two.csv"
    path.write_text("记账日,交易日\n04/12/2026,2026年1月5日\n05/12/2026,20260109\n", encoding="utf-8")
    columns = {"记账日": ColumnSpec(type="date", format="%d/%m/%Y"), "交易日": ColumnSpec(type="date", format=FORMATS)}
    rows = rows_of(run_import(path, columns=columns))
    assert rows == [
        {"记账日": dt.date(2026, 12, 4), "交易日": dt.date(2026, 1, 5)},
        {"记账日": dt.date(2026, 12, 5), "交易日": dt.date(2026, 1, 9)},
    ]


def test_a_strict_csv_import_names_the_date_no_format_reads(tmp_path: Path, run_import):
    path = _csv(tmp_path, [*WRITTEN, "1月10日"])
    with pytest.raises(ImportFailed) as failed:
        run_import(path, columns=COLUMNS)
    assert [(p["row"], p["column"], p["value"]) for p in failed.value.errors] == [(7, "日期", "1月10日")]


def test_a_workbook_date_column_with_several_formats_imports_every_row(
    tmp_path: Path, limits: ImportLimits, run_import
):
    book = write_xlsx(tmp_path / "mixed.xlsx", {"S": [["日期", "金额"], *[[d, 1.0] for d in WRITTEN]]})
    shown = preview(book, "mixed.xlsx", ImportConfig(columns=COLUMNS), limits)
    assert [row[0] for row in shown.rows] == [d.isoformat() for d in EXPECTED]
    assert [r["日期"] for r in rows_of(run_import(book, columns=COLUMNS))] == EXPECTED


def test_a_json_date_field_with_several_formats_imports_every_record(tmp_path: Path, run_import):
    path = tmp_path / "mixed.json"
    path.write_text(json.dumps([{"日期": d, "金额": 1} for d in WRITTEN], ensure_ascii=False), encoding="utf-8")
    assert [r["日期"] for r in rows_of(run_import(path, columns=COLUMNS))] == EXPECTED


def test_the_preview_suggests_every_format_a_mixed_date_column_uses(tmp_path: Path, limits: ImportLimits, run_import):
    path = _csv(tmp_path, WRITTEN)
    shown = preview(path, "mixed.csv", ImportConfig(), limits)
    assert [(s.field, s.value) for s in shown.suggestions] == [("columns", COLUMNS)]
    assert [r["日期"] for r in rows_of(run_import(path, columns=shown.suggested_config.columns))] == EXPECTED


def test_a_format_list_round_trips_and_an_empty_one_is_refused():
    config = msgspec.json.decode(
        json.dumps({"columns": {"d": {"type": "date", "format": FORMATS}}}), type=ImportConfig
    ).validate()
    assert config.columns is not None
    assert config.columns["d"].format == FORMATS
    with pytest.raises(InvalidImportConfig) as refused:
        ImportConfig(columns={"d": ColumnSpec(type="date", format=[])}).validate()
    assert refused.value.errors[0]["field"] == "columns.d.format"


def test_a_lenient_csv_import_rejects_the_row_of_a_date_no_format_reads(tmp_path: Path, run_import):
    """Read as text and converted with try_strptime, such a date was imported empty (a value of any other type
    that does not read is a rejected row)."""
    path = _csv(tmp_path, [*WRITTEN, "1月10日"])
    result = run_import(path, columns=COLUMNS, on_error="lenient")
    assert [r["日期"] for r in rows_of(result)] == EXPECTED
    assert result.rejected == 1
    assert result.rejects_path is not None
    [reject] = pq.read_table(result.rejects_path).to_pylist()
    assert (reject["row"], reject["column"], reject["value"]) == (7, "日期", "1月10日")
    assert "does not match any of the formats" in reject["message"]


def test_a_column_of_several_formats_leaves_the_csv_date_format_free_for_a_suggested_one(
    tmp_path: Path, limits: ImportLimits, run_import
):
    """It counted as the column holding the CSV's one date format, so 2026年12月4日 beside it got no suggestion."""
    path = tmp_path / "two.csv"
    path.write_text("记账日,交易日\n2026/01/05,2026年12月4日\n20260106,2026年12月5日\n", encoding="utf-8")
    mixed = {"记账日": ColumnSpec(type="date", format=["%Y/%m/%d", "%Y%m%d"])}
    shown = preview(path, "two.csv", ImportConfig(columns=mixed), limits)
    suggested = {**mixed, "交易日": ColumnSpec(type="date", format="%Y年%m月%d日")}
    assert [(s.field, s.value) for s in shown.suggestions] == [("columns", suggested)]
    rows = rows_of(run_import(path, columns=shown.suggested_config.columns))
    assert rows[1] == {"记账日": dt.date(2026, 1, 6), "交易日": dt.date(2026, 12, 5)}
