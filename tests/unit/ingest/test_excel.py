"""Workbook imports through calamine: sheets, header, range, temporal values, types, errors, limits."""

from __future__ import annotations

import datetime as dt
import os
import zipfile
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from app.ingest import ColumnSpec, ImportConfig, ImportLimits, preview
from app.ingest.errors import ImportFailed, InvalidImportConfig, LimitExceeded, UnsupportedMediaType
from tests.unit.ingest.conftest import rows_of, write_xlsx

ORDERS = [
    ["order", "placed", "day", "amount", "paid"],
    [1, dt.datetime(2024, 1, 2, 10, 30), dt.date(2024, 1, 2), 10.5, True],
    [2, dt.datetime(2024, 1, 3, 11, 0), dt.date(2024, 1, 3), 7, False],
    [3, dt.datetime(2024, 1, 4, 12, 15), dt.date(2024, 1, 4), None, True],
]


@pytest.fixture
def book(tmp_path: Path) -> Path:
    return write_xlsx(tmp_path / "orders.xlsx", {"Notes": [["nothing here"]], "Orders": ORDERS})


def test_a_sheet_by_name_with_dates_as_temporal_values(book: Path, run_import):
    result = run_import(book, sheet="Orders")
    assert [(c.name, c.type) for c in result.columns] == [
        ("order", "integer"),
        ("placed", "datetime"),
        ("day", "date"),
        ("amount", "float"),
        ("paid", "boolean"),
    ]
    assert rows_of(result)[0] == {
        "order": 1,
        "placed": dt.datetime(2024, 1, 2, 10, 30),
        "day": dt.date(2024, 1, 2),
        "amount": 10.5,
        "paid": True,
    }
    assert result.rows == 3
    assert next(c for c in result.columns if c.name == "amount").nulls == 1


def test_a_sheet_by_index(book: Path, run_import):
    result = run_import(book, sheet=1)
    assert result.config.sheet == 1
    assert result.rows == 3


def test_the_largest_sheet_by_default_and_an_unknown_sheet_is_named(book: Path, run_import):
    assert run_import(book).config.sheet == "Orders"  # not the one-line note before it
    with pytest.raises(InvalidImportConfig) as caught:
        run_import(book, sheet="Missing")
    assert caught.value.errors[0]["field"] == "sheet"
    assert "Orders" in caught.value.detail


def test_a_range_with_a_header_row_inside_it(tmp_path: Path, run_import):
    rows = [["title"], [], ["x", "id", "name", "y"], ["-", 1, "a", "-"], ["-", 2, "b", "-"], ["-", 3, "c", "-"]]
    path = write_xlsx(tmp_path / "a.xlsx", {"S": rows})
    result = run_import(path, range="B3:C5")
    assert rows_of(result) == [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}]
    assert run_import(path, header_row=3, skip_rows=1, limit=1).rows == 1


def test_columns_renamed_typed_dropped_and_limited(book: Path, run_import):
    result = run_import(
        book,
        sheet="Orders",
        limit=2,
        columns={
            "order": ColumnSpec(name="id", type="string"),
            "placed": ColumnSpec(include=False),
            "amount": ColumnSpec(type="decimal", scale=2),
        },
    )
    assert [c.name for c in result.columns] == ["id", "day", "amount", "paid"]
    assert [(row["id"], str(row["amount"])) for row in rows_of(result)] == [("1", "10.50"), ("2", "7.00")]


BAD = [["id", "qty"], [1, 5], [2, "many"], [3, 7], [4, "lots"]]


def test_strict_lists_bad_cells_with_row_and_column(tmp_path: Path, run_import):
    path = write_xlsx(tmp_path / "a.xlsx", {"S": BAD})
    with pytest.raises(ImportFailed) as caught:
        run_import(path, columns={"qty": ColumnSpec(type="integer")})
    assert [(p["row"], p["column"]) for p in caught.value.errors] == [(3, "qty"), (5, "qty")]
    assert os.listdir(tmp_path / "out") == []


def test_lenient_rejects_bad_rows_into_a_file(tmp_path: Path, run_import):
    path = write_xlsx(tmp_path / "a.xlsx", {"S": BAD})
    result = run_import(path, columns={"qty": ColumnSpec(type="integer")}, on_error="lenient")
    assert rows_of(result) == [{"id": 1, "qty": 5}, {"id": 3, "qty": 7}]
    assert result.rejected == 2
    assert [r["row"] for r in pq.read_table(result.rejects_path).to_pylist()] == [3, 5]


def test_mixed_types_read_as_text_with_a_warning(tmp_path: Path, limits: ImportLimits):
    path = write_xlsx(tmp_path / "a.xlsx", {"S": BAD})
    shown = preview(path, "a.xlsx", ImportConfig(), limits, rows=10)
    assert shown.columns[1].type == "string"
    assert shown.rows[1] == [2, "many"]
    assert any("mixes types" in warning for warning in shown.warnings)


def test_duplicate_empty_and_merged_headers(tmp_path: Path, limits: ImportLimits):
    rows = [["group", None, "a", "a", None], [1, 2, 3, 4, 5]]
    path = write_xlsx(tmp_path / "a.xlsx", {"S": rows}, merge="A1:B1")
    shown = preview(path, "a.xlsx", ImportConfig(header_row=1), limits)
    assert [c.name for c in shown.columns] == ["group", "group_2", "a", "a_2", "column_5"]
    text = " ".join(shown.warnings)
    assert "merged header cells A1:B1" in text
    assert "duplicate column name 'a'" in text


def test_the_preview_lists_sheets_with_sizes(book: Path, limits: ImportLimits):
    shown = preview(book, "orders.xlsx", ImportConfig(sheet="Orders"), limits, rows=2)
    assert [(s.name, s.rows, s.columns) for s in shown.sheets] == [("Notes", 1, 1), ("Orders", 4, 5)]
    assert shown.header_row == 1
    assert shown.rows[0] == [1, "2024-01-02T10:30:00", "2024-01-02", 10.5, True]
    assert shown.config.columns is not None
    assert shown.config.columns["day"].type == "date"


def test_a_sheet_over_the_cell_limit_names_the_limit_and_the_way_out(book: Path, run_import):
    with pytest.raises(LimitExceeded) as caught:
        run_import(book, sheet="Orders", job_limits=ImportLimits(max_workbook_cells=10))
    assert "max_workbook_cells" in caught.value.detail
    assert "save the sheet as CSV" in caught.value.detail  # `range` is no way out: calamine loads the whole sheet


def test_a_damaged_workbook_fails_clearly(tmp_path: Path, run_import):
    path = tmp_path / "a.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("[Content_Types].xml", "spreadsheetml.sheet.main+xml")
        archive.writestr("xl/workbook.xml", "<workbook><sheets><sheet name='S' broken")
    with pytest.raises(UnsupportedMediaType) as caught:
        run_import(path)
    assert caught.value.code == "corrupt_file"
    assert os.listdir(tmp_path / "out") == []


ODS_CONTENT = """<?xml version="1.0" encoding="UTF-8"?>
<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"
 xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"
 xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">
<office:body><office:spreadsheet><table:table table:name="Data">
<table:table-row><table:table-cell office:value-type="string"><text:p>id</text:p></table:table-cell>
<table:table-cell office:value-type="string"><text:p>day</text:p></table:table-cell></table:table-row>
<table:table-row><table:table-cell office:value-type="float" office:value="1"><text:p>1</text:p></table:table-cell>
<table:table-cell office:value-type="date" office:date-value="2024-05-06"><text:p>06/05/24</text:p>
</table:table-cell></table:table-row>
</table:table></office:spreadsheet></office:body></office:document-content>"""


def test_an_ods_sheet_is_imported(tmp_path: Path, run_import):
    path = tmp_path / "a.ods"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", ODS_CONTENT.replace("\n", ""))
        archive.writestr(
            "META-INF/manifest.xml",
            '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"/>',
        )
    assert rows_of(run_import(path)) == [{"id": 1, "day": dt.date(2024, 5, 6)}]


def test_an_empty_sheet_says_so(tmp_path: Path, run_import):
    path = write_xlsx(tmp_path / "a.xlsx", {"Blank": []})
    with pytest.raises(ImportFailed, match="empty") as caught:
        run_import(path)
    assert caught.value.code == "empty_sheet"
