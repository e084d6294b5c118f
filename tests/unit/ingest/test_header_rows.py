"""Workbook headers over two rows (merged group cells over a row of names): found, joined, imported, stated."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from app.ingest import ImportConfig, ImportLimits, preview
from app.ingest.errors import InvalidImportConfig
from tests.unit.ingest.conftest import rows_of, write_xlsx

#: A regional report as finance exports it: 地区 merged down over both header rows, each year over two columns.
REPORT = [
    ["地区", "2023年", None, "2024年", None],
    [None, "收入", "成本", "收入", "成本"],
    ["华东", 1200.5, 800, 1500, 950.25],
    ["华北", 900, 610.5, 1010, 700],
]
REPORT_MERGES = ["A1:A2", "B1:C1", "D1:E1"]
JOINED = ["地区", "2023年_收入", "2023年_成本", "2024年_收入", "2024年_成本"]


@pytest.fixture
def report(tmp_path: Path) -> Path:
    return write_xlsx(tmp_path / "report.xlsx", {"汇总": REPORT}, merge=REPORT_MERGES)


def test_a_two_row_header_is_found_and_its_names_joined(report: Path, limits: ImportLimits):
    shown = preview(report, "report.xlsx", ImportConfig(), limits)
    assert [c.name for c in shown.columns] == JOINED
    assert [c.type for c in shown.columns] == ["string", "float", "float", "integer", "float"]  # 收入 | 成本: no data
    assert shown.rows[0] == ["华东", 1200.5, 800.0, 1500.0, 950.25]
    assert (shown.config.header_row, shown.config.header_rows) == (1, 2)
    assert any("rows 1-2 are the header" in warning and "2023年_收入" in warning for warning in shown.warnings)


def test_the_import_reads_the_same_and_its_configuration_imports_it_again(report: Path, run_import):
    result = run_import(report)
    assert [c.name for c in result.columns] == JOINED
    assert rows_of(result)[1] == dict(zip(JOINED, ["华北", 900.0, 610.5, 1010.0, 700.0], strict=True))
    assert result.config.header_rows == 2
    again = run_import(report, **{k: v for k, v in msgspec.structs.asdict(result.config).items() if k != "columns"})
    assert rows_of(again) == rows_of(result)


def test_a_title_above_the_two_row_header_is_passed_over(tmp_path: Path, limits: ImportLimits):
    rows = [["2024年区域收入成本汇总表", None, None, None, None], *REPORT]
    merges = ["A1:E1", "A2:A3", "B2:C2", "D2:E2"]
    shown = preview(write_xlsx(tmp_path / "t.xlsx", {"S": rows}, merge=merges), "t.xlsx", ImportConfig(), limits)
    assert [c.name for c in shown.columns] == JOINED
    assert (shown.config.header_row, shown.config.header_rows) == (2, 2)
    assert shown.rows[0][0] == "华东"


def test_header_rows_1_keeps_the_one_row_header(report: Path, limits: ImportLimits):
    shown = preview(report, "report.xlsx", ImportConfig(header_rows=1), limits)
    assert [c.name for c in shown.columns] == ["地区", "2023年", "2023年_2", "2024年", "2024年_2"]
    assert shown.rows[0] == [None, "收入", "成本", "收入", "成本"]


def test_header_rows_given_joins_rows_without_merged_cells(tmp_path: Path, limits: ImportLimits):
    rows = [["订单", None, "客户", None], ["编号", "日期", "名称", "城市"], [1, "2024-01-02", "甲", "上海"]]
    path = write_xlsx(tmp_path / "o.xlsx", {"S": rows})
    assert [c.name for c in preview(path, "o.xlsx", ImportConfig(), limits).columns] == [
        "订单",
        "column_2",
        "客户",
        "column_4",
    ]
    shown = preview(path, "o.xlsx", ImportConfig(header_rows=2), limits)
    assert [c.name for c in shown.columns] == ["订单_编号", "日期", "客户_名称", "城市"]
    assert shown.rows == [[1, "2024-01-02", "甲", "上海"]]


def test_merged_cells_over_numbers_are_not_a_second_header_row(tmp_path: Path, limits: ImportLimits):
    rows = [["group", None, "b"], [1, 2, 3], [4, 5, 6]]
    shown = preview(write_xlsx(tmp_path / "g.xlsx", {"S": rows}, merge="A1:B1"), "g.xlsx", ImportConfig(), limits)
    assert [c.name for c in shown.columns] == ["group", "group_2", "b"]
    assert shown.config.header_rows is None
    assert shown.rows[0] == [1, 2, 3]


@pytest.mark.parametrize(
    ("config", "field"),
    [
        (ImportConfig(header_rows=0), "header_rows"),
        (ImportConfig(header_rows=4), "header_rows"),
        (ImportConfig(header_rows=2, header_row=0), "header_rows"),
        (ImportConfig(header_rows=2, format="csv"), "header_rows"),
    ],
)
def test_impossible_header_rows_are_refused(config: ImportConfig, field: str):
    with pytest.raises(InvalidImportConfig) as caught:
        config.validate()
    assert caught.value.errors[0]["field"] == field


def test_header_rows_is_refused_for_a_file_found_to_be_csv(tmp_path: Path, limits: ImportLimits):
    path = tmp_path / "a.csv"
    path.write_text("a,b\n1,2\n3,4\n")
    with pytest.raises(InvalidImportConfig) as caught:
        preview(path, "a.csv", ImportConfig(header_rows=2), limits)
    assert caught.value.errors == [{"field": "header_rows", "message": "applies to workbooks only"}]


def test_a_cell_merged_down_over_three_rows_makes_a_three_row_header(tmp_path: Path, limits: ImportLimits, run_import):
    # given a finance report whose 地区 and 备注 cells are merged down over three header rows (groups, names, units)
    rows = [
        ["地区", "2023年", None, "2024年", None, "备注"],
        [None, "收入", "成本", "收入", "成本", None],
        [None, "万元", "万元", "万元", "万元", None],
        ["华东", 1200.5, 800, 1500, 950.25, "a"],
        ["华北", 900, 610.5, 1010, 700, "b"],
    ]
    merges = ["A1:A3", "F1:F3", "B1:C1", "D1:E1"]
    path = write_xlsx(tmp_path / "report.xlsx", {"汇总": rows}, merge=merges)
    # when it is previewed and imported without a header configuration
    shown = preview(path, "report.xlsx", ImportConfig(), limits)
    result = run_import(path)
    # then the units row is part of the names, not the first data row, and the amounts stay numbers
    names = ["地区", "2023年_收入_万元", "2023年_成本_万元", "2024年_收入_万元", "2024年_成本_万元", "备注"]
    assert [c.name for c in shown.columns] == names
    assert (shown.config.header_row, shown.config.header_rows) == (1, 3)
    assert shown.rows[0] == ["华东", 1200.5, 800.0, 1500.0, 950.25, "a"]
    assert rows_of(result)[1] == dict(zip(names, ["华北", 900.0, 610.5, 1010.0, 700.0, "b"], strict=True))
