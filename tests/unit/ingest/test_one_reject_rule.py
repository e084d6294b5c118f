"""One rule for a value that does not read as its column's type or format, whatever the type and the file format: a
lenient import rejects its row (row, column and value in rejects.parquet), a strict one fails with import_failed
listing them, and a preview leaves the row out and names it. A CSV date column read with its own format, an amount
or a 是/否 column (read as text, converted by the SELECT) imported such a value as NULL instead."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from app.ingest import ImportConfig, ImportLimits
from app.ingest.config import ColumnSpec
from app.ingest.errors import ImportFailed
from app.ingest.preview import preview
from tests.unit.ingest.conftest import rows_of, write_xlsx
from tests.workbook_files import ods_workbook, xls_workbook, xlsb_workbook

HEADER = ["单号", "记账日", "金额", "已付"]
#: Row 2 (the second data row) holds a date its column's format does not read, row 3 an amount that is no number,
#: row 4 a flag that is no boolean; rows 1 and 5 are good.
RECORDS = [
    [1, "20240105", "1.50", "true"],
    [2, "2024-02-01", "2.00", "false"],
    [3, "20240107", "abc", "true"],
    [4, "20240108", "3.00", "maybe"],
    [5, "20240109", "4.25", "false"],
]
COLUMNS = {
    "记账日": ColumnSpec(type="date", format=["%Y%m%d", "%Y/%m/%d"]),
    "金额": ColumnSpec(type="decimal", scale=2),
    "已付": ColumnSpec(type="boolean"),
}
GOOD = [
    {"单号": 1, "记账日": dt.date(2024, 1, 5), "金额": Decimal("1.50"), "已付": True},
    {"单号": 5, "记账日": dt.date(2024, 1, 9), "金额": Decimal("4.25"), "已付": False},
]
#: (column, value) of each bad cell, in row order.
BAD = [("记账日", "2024-02-01"), ("金额", "abc"), ("已付", "maybe")]


def _csv(path: Path) -> Path:
    lines = [",".join(HEADER), *(",".join(str(v) for v in record) for record in RECORDS)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _json(path: Path) -> Path:
    path.write_text(json.dumps([dict(zip(HEADER, r, strict=True)) for r in RECORDS], ensure_ascii=False))
    return path


WRITERS: dict[str, Callable[[Path], Path]] = {
    "csv": _csv,
    "json": _json,
    "xlsx": lambda path: write_xlsx(path, {"Data": [HEADER, *RECORDS]}),
    "ods": lambda path: ods_workbook(path, {"Data": [HEADER, *RECORDS]}),
    "xls": lambda path: xls_workbook(path, [HEADER, *RECORDS]),
    "xlsb": lambda path: xlsb_workbook(path, [HEADER, *RECORDS]),
}
#: The row a reject names for the n-th data record (from 0): a file's line or a sheet's row, a JSON record's number.
FIRST_ROW = {"csv": 2, "json": 1, "xlsx": 2, "ods": 2, "xls": 2, "xlsb": 2}


@pytest.fixture(params=sorted(WRITERS))
def source(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, Path]:
    kind = request.param
    return kind, WRITERS[kind](tmp_path / f"bills.{kind}")


def _bad(kind: str) -> list[tuple[int, str, str]]:
    return [(FIRST_ROW[kind] + 1 + n, column, value) for n, (column, value) in enumerate(BAD)]


def test_a_lenient_import_rejects_each_row_with_a_value_its_column_does_not_read(
    source: tuple[str, Path], run_import
) -> None:
    kind, path = source
    result = run_import(path, columns=COLUMNS, on_error="lenient")
    assert rows_of(result) == GOOD
    assert result.rejected == len(BAD)
    assert result.rejects_path is not None
    rejects = pq.read_table(result.rejects_path).to_pylist()
    assert [(r["row"], r["column"], r["value"]) for r in rejects] == _bad(kind)
    assert "does not match any of the formats '%Y%m%d', '%Y/%m/%d'" in rejects[0]["message"]


def test_a_lenient_csv_import_rejects_a_date_its_only_format_does_not_read_naming_the_value_and_format(
    tmp_path: Path, run_import
) -> None:
    """A date column's one format is read_csv's own: DuckDB rejects the row, its value was the whole line."""
    columns = COLUMNS | {"记账日": ColumnSpec(type="date", format="%Y%m%d")}
    result = run_import(_csv(tmp_path / "bills.csv"), columns=columns, on_error="lenient")
    assert rows_of(result) == GOOD
    assert result.rejects_path is not None
    rejects = pq.read_table(result.rejects_path).to_pylist()
    assert [(r["row"], r["column"], r["value"]) for r in rejects] == _bad("csv")
    assert rejects[0]["message"].endswith("does not match the format '%Y%m%d'")


def test_a_strict_import_fails_naming_each_value_its_column_does_not_read(source: tuple[str, Path], run_import) -> None:
    kind, path = source
    with pytest.raises(ImportFailed) as failed:
        run_import(path, columns=COLUMNS, on_error="strict")
    assert failed.value.code == "import_failed"
    assert sorted((p["row"], p["column"], p["value"]) for p in failed.value.errors) == _bad(kind)


@pytest.mark.parametrize("on_error", ["strict", "lenient"])
def test_a_preview_leaves_out_and_names_each_row_with_a_value_its_column_does_not_read(
    source: tuple[str, Path], limits: ImportLimits, on_error: str
) -> None:
    """A CSV preview failed (strict) with DuckDB's words or showed NULL (lenient); a JSON one showed NULL."""
    kind, path = source
    shown = preview(path, path.name, ImportConfig(columns=COLUMNS, on_error=on_error), limits)  # type: ignore[arg-type]
    assert [row[0] for row in shown.rows] == [1, 5]
    for row, column, value in _bad(kind):
        assert any(w.startswith(f"row {row}, column {column}:") and value in w for w in shown.warnings), shown.warnings
