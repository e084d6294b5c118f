# ruff: noqa: RUF001, RUF002  (full-width colons and brackets are how these exports write them)
"""Alipay and WeChat Pay bills and bank statements: title blocks, summary footers, amounts with ¥, tab-padded cells."""

from __future__ import annotations

import datetime as dt
import decimal
import re
from pathlib import Path

import msgspec
import pytest

from app.ingest import ImportConfig, ImportLimits, csv_cells
from app.ingest.config import ColumnSpec
from app.ingest.csv_footer import footer_offset, tail_text
from app.ingest.errors import InvalidImportConfig
from app.ingest.preview import PREVIEW_BYTES, preview
from tests.bills import (
    ALIPAY_FOOTER,
    ALIPAY_HEADER,
    ALIPAY_ROWS,
    ALIPAY_TITLE,
    WECHAT_FOOTER,
    WECHAT_HEADER,
    WECHAT_TITLE,
    alipay_bill,
    bank_statement,
    wechat_bill,
)
from tests.unit.ingest.conftest import rows_of, write_xlsx


@pytest.mark.parametrize(
    ("build", "header_row", "first"),
    [
        (wechat_bill, len(WECHAT_TITLE) + 1, WECHAT_HEADER[0]),
        (alipay_bill, len(ALIPAY_TITLE) + 1, ALIPAY_HEADER[0]),
        (bank_statement, 4, "交易日期"),
    ],
)
def test_the_header_below_a_bills_title_block_is_suggested_on_its_own_line(
    tmp_path: Path, limits: ImportLimits, build, header_row: int, first: str
):
    """A WeChat bill's title holds `收入：2笔 1,200.00元` (two fields split at the comma): the rule gave up on
    commas and split at the tabs padding its cells, suggesting the first data row (header_row 9 for 8)."""
    path = build(tmp_path / "bill.csv")
    shown = preview(path, "bill.csv", ImportConfig(), limits)
    assert [(s.field, s.value) for s in shown.suggestions] == [("header_row", header_row)]
    applied = preview(path, "bill.csv", shown.suggested_config, limits)
    assert applied.columns[0].name == first


@pytest.mark.parametrize(("build", "footer"), [(wechat_bill, WECHAT_FOOTER), (alipay_bill, ALIPAY_FOOTER)])
def test_a_bills_summary_lines_are_suggested_as_skip_footer_and_left_out_in_preview_and_import(
    tmp_path: Path, limits: ImportLimits, run_import, build, footer: list[str]
):
    """The summary below the table (共3笔记录, 已收入…, a `#-----` rule) failed a strict import: skip_footer
    was refused for CSV."""
    path = build(tmp_path / "bill.csv", footer=True)
    shown = preview(path, "bill.csv", ImportConfig(), limits)
    assert [(s.field, s.value) for s in shown.suggestions] == [
        ("header_row", shown.suggested_config.header_row),
        ("skip_footer", len(footer)),
    ]
    applied = preview(path, "bill.csv", shown.suggested_config, limits)
    assert len(applied.rows) == 3
    assert [s.field for s in applied.suggestions] == (["columns"] if build is wechat_bill else [])  # ¥35.50: money
    assert any("left out (skip_footer)" in w and "共3笔记录" in w for w in applied.warnings)
    result = run_import(path, **msgspec.structs.asdict(shown.suggested_config))
    assert result.rows == 3
    assert result.rejected == 0
    assert any("left out (skip_footer)" in w for w in result.warnings)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "utf-16", "utf-16-be"])
@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_the_footer_starts_at_the_first_summary_lines_byte_in_any_encoding(tmp_path: Path, encoding: str, newline: str):
    body = newline.join(["日期,金额", *(f"2026-11-{day:02d},{day}.50" for day in range(1, 29)), ""])
    footer = newline.join(["", "#-----", "共28笔记录", "", "已收入：28笔 406.00元", "", ""])
    path = tmp_path / "bank.csv"
    path.write_bytes((body + footer).encode(encoding))
    offset, lines = footer_offset(path, encoding, 3)
    assert lines == ["#-----", "共28笔记录", "已收入：28笔 406.00元"]
    assert offset == len(body.encode(encoding))


def test_a_footer_is_found_from_a_tail_cut_mid_line_and_refused_past_it(tmp_path: Path):
    path = tmp_path / "long.csv"
    path.write_text("a,b\n" + "".join(f"{i},测试{i}\n" for i in range(5000)) + "共5000笔记录\n", "gb18030")
    text, whole = tail_text(path, "gb18030", max_bytes=1001)
    assert not whole
    assert re.fullmatch(r"\d+,测试\d+", text.splitlines()[0])  # from a line start, not mid-character
    assert text.endswith("共5000笔记录\n")
    assert footer_offset(path, "gb18030", 1)[1] == ["共5000笔记录"]
    with pytest.raises(InvalidImportConfig, match="skip_footer"):
        footer_offset(path, "gb18030", 100_000)


def test_skip_footer_is_refused_for_json_and_for_a_file_it_would_empty(tmp_path: Path, limits: ImportLimits):
    data = tmp_path / "data.json"
    data.write_text('[{"a": 1}]')
    with pytest.raises(InvalidImportConfig, match="workbooks and CSV"):
        preview(data, "data.json", ImportConfig(skip_footer=1), limits)
    small = tmp_path / "small.csv"
    small.write_text("a,b\n1,2\n")
    with pytest.raises(InvalidImportConfig, match="nothing is left"):
        preview(small, "small.csv", ImportConfig(skip_footer=2), limits)


def test_a_table_on_line_one_with_tab_padded_cells_gets_no_header_row_suggestion(tmp_path: Path, limits: ImportLimits):
    """Split at the tabs padding its cells, the data rows made a narrower 'table' below the header: the comma
    table found on line 1 must win, and it needs no title block skipped."""
    path = tmp_path / "plain.csv"
    path.write_text("日期,金额,备注\n2026-12-04,1.50,a\t\n2026-12-05,2.50,b\t\n2026-12-06,3.50,c\n")
    assert preview(path, "plain.csv", ImportConfig(), limits).suggestions == []


def test_text_cells_padded_with_a_trailing_tab_are_read_without_it_with_a_warning(
    tmp_path: Path, limits: ImportLimits, run_import
):
    """WeChat Pay writes ids and some text as `4200001<TAB>` so that Excel keeps them text: the tab was kept."""
    path = tmp_path / "bill.csv"
    path.write_text('单号,商户单号,备注\nT4200001\t,M-1\t,"a\tb"\nT4200002\t,/,c\n')
    shown = preview(path, "bill.csv", ImportConfig(), limits)
    assert shown.rows == [["T4200001", "M-1", "a\tb"], ["T4200002", "/", "c"]]
    assert any("'单号', '商户单号' have cells ending in a tab" in w for w in shown.warnings)
    result = run_import(path)
    assert [list(r.values()) for r in rows_of(result)] == shown.rows
    assert any("ending in a tab" in w for w in result.warnings)


def test_chinese_dates_import_with_their_format_in_csv_and_workbooks(tmp_path: Path, limits: ImportLimits, run_import):
    """2026年12月4日 with `%Y年%m月%d日` (already worked: kept as a regression test)."""
    columns = {"日期": ColumnSpec(type="date", format="%Y年%m月%d日")}
    path = tmp_path / "dates.csv"
    path.write_text("日期,金额\n2026年12月4日,1.00\n2026年1月15日,2.00\n")
    expected = [dt.date(2026, 12, 4), dt.date(2026, 1, 15)]
    assert [row[0] for row in preview(path, "dates.csv", ImportConfig(columns=columns), limits).rows] == [
        "2026-12-04",
        "2026-01-15",
    ]
    assert [r["日期"] for r in rows_of(run_import(path, columns=columns))] == expected
    book = write_xlsx(
        tmp_path / "dates.xlsx", {"S": [["日期", "金额"], ["2026年12月4日", 1.0], ["2026年1月15日", 2.0]]}
    )
    assert [r["日期"] for r in rows_of(run_import(book, columns=columns))] == expected


@pytest.mark.parametrize(
    "last",
    ["2026-12-05,,,", "2026-12-05,合计,1.00,b"],  # sparse; a totals word in a cell other than the first
    ids=["sparse", "totals-word-inside"],
)
def test_a_last_data_row_is_not_taken_for_a_footer(tmp_path: Path, limits: ImportLimits, last: str):
    path = tmp_path / "sparse.csv"
    path.write_text(f"日期,金额,备注,对方\n2026-12-04,1.00,a,b\n{last}\n")
    assert preview(path, "sparse.csv", ImportConfig(), limits).suggestions == []


def test_the_preview_suggests_types_for_chinese_dates_and_amounts_together(
    tmp_path: Path, limits: ImportLimits, run_import
):
    path = tmp_path / "bank.csv"
    path.write_text(
        '日期,时间,金额\n2026年12月4日,2026年12月4日 09:05:00,¥12.50\n2026年1月15日,2026年1月15日 23:00:01,"1,000元"\n'
    )
    shown = preview(path, "bank.csv", ImportConfig(), limits)
    assert [(s.field, s.value) for s in shown.suggestions] == [
        (
            "columns",
            {
                "日期": ColumnSpec(type="date", format="%Y年%m月%d日"),
                "时间": ColumnSpec(type="datetime", format="%Y年%m月%d日 %H:%M:%S"),
                "金额": ColumnSpec(type="decimal", scale=2),
            },
        )
    ]
    rows = rows_of(run_import(path, columns=shown.suggested_config.columns))
    assert rows[1] == {
        "日期": dt.date(2026, 1, 15),
        "时间": dt.datetime(2026, 1, 15, 23, 0, 1),
        "金额": decimal.Decimal("1000.00"),
    }


def test_a_chinese_date_format_is_suggested_beside_another_csv_date_column_and_both_import(
    tmp_path: Path, limits: ImportLimits, run_import
):
    """Each CSV date column is read with its own format: 2026年12月4日 no longer takes the ISO column's."""
    path = tmp_path / "bank.csv"
    path.write_text("记账日,交易日\n2026-12-04,2026年12月4日\n2026-12-05,2026年12月5日\n")
    columns = preview(path, "bank.csv", ImportConfig(), limits).suggested_config.columns
    assert {name: (spec.type, spec.format) for name, spec in columns.items()} == {"交易日": ("date", "%Y年%m月%d日")}
    rows = rows_of(run_import(path, columns=columns, on_error="strict"))
    assert rows[1] == {"记账日": dt.date(2026, 12, 5), "交易日": dt.date(2026, 12, 5)}


def test_the_summary_of_a_three_column_statement_is_suggested_from_the_tail_of_a_large_file(
    tmp_path: Path, limits: ImportLimits, run_import
):
    """`已支出：…1,234.56元` splits into two fields, more than half of three: it was not taken for a summary line.
    The file is past the preview's 4 MB head: its last lines are read from its tail."""
    path = tmp_path / "large.csv"
    with open(path, "w", encoding="gb18030") as handle:
        handle.write("日期,摘要,金额\n")
        handle.writelines(f"2026-11-02,消费{i},{i}.50\n" for i in range(200_000))
        handle.write("#-----\n共200000笔记录\n已支出：200000笔 1,234.56元\n")
    assert path.stat().st_size > PREVIEW_BYTES
    shown = preview(path, "large.csv", ImportConfig(), limits)
    assert [(s.field, s.value) for s in shown.suggestions] == [("skip_footer", 3)]
    result = run_import(path, skip_footer=3)
    assert (result.rows, result.rejected) == (200_000, 0)


def test_the_cell_scan_of_a_wide_file_reads_fewer_rows(tmp_path: Path, limits: ImportLimits, monkeypatch):
    """The scan for tab-padded and currency cells read every text column of 20,480 rows: 5,000 columns ran a
    512 MB job out of memory. It reads at most SAMPLE_CELLS cells (here 400: 100 rows, the least)."""
    monkeypatch.setattr(csv_cells, "SAMPLE_CELLS", 400)
    path = tmp_path / "wide.csv"
    rows = [[f"r{r}c{c}" + ("\t" if r == 150 and c == 3 else "") for c in range(20)] for r in range(200)]
    path.write_text("\n".join(",".join(row) for row in [[f"c{c}" for c in range(20)], *rows]) + "\n")
    assert not any("ending in a tab" in w for w in preview(path, "wide.csv", ImportConfig(), limits).warnings)
    monkeypatch.setattr(csv_cells, "SAMPLE_CELLS", 1_000_000)
    assert any(
        "'c3' have cells ending in a tab" in w for w in preview(path, "wide.csv", ImportConfig(), limits).warnings
    )


@pytest.mark.parametrize(
    ("label", "end"),
    [
        ("合计", "\n"),
        ("合 计", "\n"),
        ("合\u3000计", ""),
        ("总计", "\n"),
        ("合计：", ""),
        ("合计:", "\n"),
        ("Total", "\n"),
        ("TOTAL:", ""),
    ],
)
def test_a_totals_row_ending_a_statement_is_suggested_as_skip_footer_and_left_out(
    tmp_path: Path, limits: ImportLimits, run_import, label: str, end: str
):
    """合计,,"5,000.00",150.00,, has the table's width, so it was no summary line: the preview suggested nothing,
    and the import read it as a row (its first cell made 交易日期 text). With no line end after it, too."""
    path = bank_statement(tmp_path / "bank.csv", totals=label, end=end)
    shown = preview(path, "bank.csv", ImportConfig(), limits)
    assert [(s.field, s.value) for s in shown.suggestions] == [("header_row", 4), ("skip_footer", 1)]
    assert repr(label) in shown.suggestions[1].reason
    applied = preview(path, "bank.csv", shown.suggested_config, limits)
    assert (applied.columns[0].type, [row[0] for row in applied.rows]) == (
        "date",
        ["2026-11-02", "2026-11-05", "2026-11-06"],
    )
    result = run_import(path, **msgspec.structs.asdict(shown.suggested_config))
    assert (result.rows, result.rejected) == (3, 0)
    assert [row["交易日期"] for row in rows_of(result)] == [dt.date(2026, 11, d) for d in (2, 5, 6)]


def test_a_totals_row_with_trailing_commas_is_a_footer_too(tmp_path: Path, limits: ImportLimits, run_import):
    path = tmp_path / "bank.csv"
    path.write_text(
        "交易日期,摘要,收入,支出\n2026-11-02,工资,5000.00,\n2026-11-06,超市,,30.00\nTOTAL:,,5000.00,30.00,,,"
    )
    shown = preview(path, "bank.csv", ImportConfig(), limits)
    assert [(s.field, s.value) for s in shown.suggestions] == [("skip_footer", 1)]
    result = run_import(path, skip_footer=1)
    assert [row["交易日期"] for row in rows_of(result)] == [dt.date(2026, 11, 2), dt.date(2026, 11, 6)]


def test_a_totals_row_above_a_bills_summary_lines_is_left_out_with_them(
    tmp_path: Path, limits: ImportLimits, run_import
):
    path = tmp_path / "bill.csv"
    table = [",".join(ALIPAY_HEADER), *(",".join(row) for row in ALIPAY_ROWS), "合计：,,,,23.75,,"]
    path.write_text("\n".join([*table, *ALIPAY_FOOTER]) + "\n")
    shown = preview(path, "bill.csv", ImportConfig(), limits)
    assert [(s.field, s.value) for s in shown.suggestions] == [("skip_footer", len(ALIPAY_FOOTER) + 1)]
    result = run_import(path, skip_footer=len(ALIPAY_FOOTER) + 1)
    assert [row["交易对方"] for row in rows_of(result)] == [row[2] for row in ALIPAY_ROWS]


def test_an_import_that_keeps_a_totals_row_says_so(tmp_path: Path, run_import):
    """As a workbook's import does: a totals row is never left out unasked, nor kept without a word."""
    path = tmp_path / "bank.csv"
    path.write_text("交易日期,摘要,收入,支出\n2026-11-02,工资,5000.00,\n2026-11-06,超市,,30.00\n合计,,5000.00,30.00\n")
    result = run_import(path)
    assert result.rows == 3
    assert any("'合计'" in w and "set skip_footer=1 to leave it out" in w for w in result.warnings), result.warnings
