"""Messy workbooks: the preview finds the table (sheet, header below a title, totals row, null placeholders),
suggests a configuration with reasons, and the suggested configuration imports exactly the data rows, typed."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from app.ingest import ColumnSpec, ImportConfig, ImportLimits, preview
from app.ingest.errors import ImportFailed, InvalidImportConfig
from app.ingest.shape import find_footer, find_header, null_tokens
from tests.messy_workbook import DATA_SHEET, TOTALS_ROW, expected_rows, write_messy_workbook
from tests.unit.ingest.conftest import rows_of, write_xlsx


@pytest.fixture
def messy(tmp_path: Path) -> Path:
    return write_messy_workbook(tmp_path / "export.xlsx")


def test_the_preview_shows_the_data_sheet_and_suggests_how_to_read_it(messy: Path, limits: ImportLimits):
    shown = preview(messy, "export.xlsx", ImportConfig(), limits)
    assert [(s.name, s.rows, s.columns) for s in shown.sheets] == [("说明", 1, 1), (DATA_SHEET, TOTALS_ROW, 5)]
    assert shown.config.sheet == DATA_SHEET
    assert shown.header_row == 3
    assert [c.name for c in shown.columns] == ["日期", "产品", "数量", "金额", "含税金额"]
    reasons = {s.field: s.reason for s in shown.suggestions}
    assert set(reasons) == {"sheet", "header_row", "skip_footer", "null_values"}
    assert "largest table" in reasons["sheet"]
    assert "'说明' (1 rows x 1 columns)" in reasons["sheet"]
    assert "merged across A1:E1" in reasons["header_row"]
    assert "合计" in reasons["skip_footer"]
    assert "数量" in reasons["null_values"]
    assert shown.suggested_config == ImportConfig(sheet=DATA_SHEET, header_row=3, skip_footer=1, null_values=["N/A"])
    assert shown.rows[-1][0] == "合计"  # suggested, not silently left out


def test_the_suggested_config_imports_exactly_the_data_rows_typed(messy: Path, limits: ImportLimits, run_import):
    suggested = preview(messy, "export.xlsx", ImportConfig(), limits).suggested_config
    assert suggested is not None
    result = run_import(
        messy, **{f: getattr(suggested, f) for f in ("sheet", "header_row", "skip_footer", "null_values")}
    )
    assert rows_of(result) == expected_rows()
    assert [(c.name, c.type) for c in result.config.columns.values()] == [
        ("日期", "date"),
        ("产品", "string"),
        ("数量", "integer"),
        ("金额", "float"),
        ("含税金额", "float"),
    ]
    assert rows_of(result)[0]["日期"] == dt.date(2024, 1, 5)
    assert result.warnings == []


def test_the_preview_with_the_suggestion_applied_has_nothing_left_to_suggest(messy: Path, limits: ImportLimits):
    config = ImportConfig(sheet=DATA_SHEET, header_row=3, skip_footer=1, null_values=["N/A"])
    shown = preview(messy, "export.xlsx", config, limits)
    assert shown.suggestions == []
    assert shown.suggested_config is None
    assert [c.type for c in shown.columns] == ["date", "string", "integer", "float", "float"]
    assert len(shown.rows) == len(expected_rows())
    assert not any("mixes types" in w for w in shown.warnings)


def test_an_import_without_skip_footer_keeps_the_totals_row_and_says_so(messy: Path, run_import):
    result = run_import(messy)
    assert rows_of(result)[-1]["日期"] == "合计"
    assert any("set skip_footer=1 to leave it out" in warning for warning in result.warnings)


def test_a_given_header_row_stays_authoritative(messy: Path, limits: ImportLimits):
    shown = preview(messy, "export.xlsx", ImportConfig(sheet=DATA_SHEET, header_row=1), limits)
    assert shown.header_row == 1
    assert "header_row" not in {s.field for s in shown.suggestions}


def test_a_bad_cell_is_named_in_words_with_its_row_and_column(messy: Path, run_import):
    with pytest.raises(ImportFailed) as caught:
        run_import(messy, header_row=3, skip_footer=1, columns={"数量": ColumnSpec(type="integer")})
    assert caught.value.detail.endswith("first: cannot read 'N/A' as integer (row 6, column 数量)")
    assert "decimal" not in caught.value.detail
    assert "class" not in caught.value.detail


def test_the_mixes_types_warning_goes_once_the_column_has_a_type(messy: Path, limits: ImportLimits):
    config = ImportConfig(header_row=3, skip_footer=1, columns={"数量": ColumnSpec(type="string")})
    shown = preview(messy, "export.xlsx", config, limits)
    assert not any("数量" in w for w in shown.warnings)


def test_skip_footer_applies_to_workbooks_and_csv_only(tmp_path: Path, run_import):
    path = tmp_path / "a.json"
    path.write_text('[{"a": 1}, {"a": 2}]')
    with pytest.raises(InvalidImportConfig) as caught:
        run_import(path, skip_footer=1)
    assert caught.value.errors[0]["field"] == "skip_footer"


def test_negative_zero_is_shown_and_stored_as_zero(tmp_path: Path, limits: ImportLimits, run_import):
    path = write_xlsx(tmp_path / "z.xlsx", {"S": [["x"], [-0.0], [1.5]]})
    assert preview(path, "z.xlsx", ImportConfig(), limits).rows[0] == [0.0]
    value = pq.read_table(run_import(path).data_path).column("x")[0].as_py()
    assert str(value) == "0.0"


def test_a_lone_text_cell_above_the_header_is_a_title():
    rows = [(1, ["Quarterly report", None, None]), (2, ["id", "name", "qty"]), (3, [1, "a", 2])]
    number, reason = find_header(rows, [], 1, 3)
    assert number == 2
    assert reason is not None
    assert "one text cell A1" in reason


def test_a_note_row_between_the_title_and_the_header_is_passed_over():
    rows = [
        (1, ["Sales", None, None, None, None]),
        (2, ["Printed", dt.date(2024, 3, 31), None, None, None]),
        (3, [None] * 5),
        (4, ["day", "item", "qty", "price", "total"]),
        (5, [dt.date(2024, 1, 1), "a", 1, 2.0, 2.0]),
    ]
    number, reason = find_header(rows, [((0, 0), (0, 4))], 1, 5)
    assert number == 4
    assert reason is not None
    assert "merged across A1:E1" in reason
    assert "row 2 is a note" in reason


def test_a_plain_table_keeps_its_first_row_as_header_and_numbers_mean_no_header():
    assert find_header([(1, ["id", "name"]), (2, [1, "a"])], [], 1, 2) == (1, None)
    assert find_header([(1, [1, "a"]), (2, [2, "b"])], [], 1, 2) == (0, None)


def test_a_last_row_whose_numbers_are_not_the_sums_is_data():
    rows = [(2, ["a", 1, 2.5]), (3, ["b", 2, 2.5]), (4, ["Total", 4, 5.0])]
    assert find_footer(rows) is None
    rows[-1] = (4, ["Total:", 3, 5.0])
    assert find_footer(rows) == (
        4,
        1,
        "row 4 ('Total:') holds the sums of the columns above it: a totals row, not data",
    )


def test_null_tokens_are_suggested_only_when_they_break_a_number_column():
    found, _ = null_tokens(["qty", "note", "day"], [[1, "-", 3], ["N/A", "ok", "fine"], [dt.date(2024, 1, 1), "无"]])
    assert found == ["-", "无"]


def test_a_csv_preview_suggests_the_placeholders_that_make_its_numbers_text(tmp_path: Path, limits: ImportLimits):
    path = tmp_path / "n.csv"
    path.write_text("day,qty,note\n2024-01-01,5,ok\n2024-01-02,N/A,fine\n2024-01-03,7,x\n")
    shown = preview(path, "n.csv", ImportConfig(), limits)
    assert shown.columns[1].type == "string"
    assert shown.suggested_config == ImportConfig(null_values=["N/A"])
    applied = preview(path, "n.csv", shown.suggested_config, limits)
    assert [c.type for c in applied.columns] == ["date", "integer", "string"]
    assert [row[1] for row in applied.rows] == [5, None, 7]
    assert applied.suggestions == []


def test_blank_rows_around_a_totals_row_are_skipped_with_it():
    rows = [(2, ["a", 1.5]), (3, ["b", 2.5]), (4, [None, None]), (5, ["小计", 4.0]), (6, [None, ""])]
    assert find_footer(rows) == (5, 3, "row 5 ('小计') holds the sums of the columns above it: a totals row, not data")


def test_a_totals_row_under_a_long_table_is_found_and_skipped(tmp_path: Path, limits: ImportLimits, run_import):
    data = [[f"item {i}", i, i * 0.5] for i in range(1, 301)]
    total = ["Total", sum(r[1] for r in data), sum(r[2] for r in data)]
    path = write_xlsx(tmp_path / "long.xlsx", {"S": [["item", "qty", "price"], *data, [None, None, None], total]})
    shown = preview(path, "long.xlsx", ImportConfig(), limits)
    assert [(s.field, s.value) for s in shown.suggestions] == [("skip_footer", 2)]
    result = run_import(path, skip_footer=2)
    assert result.rows == 300
    assert rows_of(result)[-1] == {"item": "item 300", "qty": 300, "price": 150.0}
