"""Exports as Chinese operators get them (金蝶/用友 reports saved as CSV by Excel or WPS, Excel's "Unicode text"):
title rows above the header, a 合计 footer, amounts with ¥ and thousands, accounting negatives, full-width digits,
percentages and 2024年1月5日 dates import as a person reads them, once the preview's suggestions are applied."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from app.ingest import ImportConfig, ImportLimits, preview
from app.ingest.csv_cells import formula_text_sql
from app.ingest.notices.columns import FormulaText
from tests.unit.ingest.conftest import applied, rows_of

#: As Excel's "Save as CSV" writes a sheet with a title and a company row above the header: padded with commas.
KINGDEE = (
    "金蝶K/3 应收款明细表,,,,,\n"
    "公司\uff1a上海某某贸易有限公司,,,,,\n"
    "日期,单号,客户,金额,折扣率,数量\n"
    '2024年1月5日,XS0001,华为,"¥1,234.50",12.5%,\uff11\uff12\uff13\n'
    '2024年1月6日,XS0002,小米,"(1,234.00)",5%,7\n'
    '2024年1月17日,XS0003,联想,"¥20.00",0%,\uff11\uff10\n'
    '2024年2月2日,XS0004,腾讯,"¥-3.10",100%,3\n'
    '合计,,,"¥17.40",,143\n'
)
EXPECTED = [
    (dt.date(2024, 1, 5), "XS0001", Decimal("1234.50"), Decimal("0.125"), 123),
    (dt.date(2024, 1, 6), "XS0002", Decimal("-1234.00"), Decimal("0.050"), 7),
    (dt.date(2024, 1, 17), "XS0003", Decimal("20.00"), Decimal("0.000"), 10),
    (dt.date(2024, 2, 2), "XS0004", Decimal("-3.10"), Decimal("1.000"), 3),
]


def _rows(result) -> list[tuple]:
    return [(r["日期"], r["单号"], r["金额"], r["折扣率"], int(r["数量"])) for r in rows_of(result)]


def test_a_title_block_padded_with_commas_is_passed_over(tmp_path: Path, limits: ImportLimits):
    """Excel pads each title line to the table's width (`金蝶K/3 应收款明细表,,,,,`): the company line was taken for
    the header (header_row 2), and with the title padded too no title block was found at all."""
    path = tmp_path / "应收款.csv"
    path.write_bytes(KINGDEE.encode("gb18030"))
    shown = preview(path, path.name, ImportConfig(), limits)
    assert ("header_row", 3) in [(s.field, s.value) for s in shown.suggestions]
    assert ("skip_footer", 1) in [(s.field, s.value) for s in shown.suggestions]


def test_a_kingdee_csv_in_gb18030_imports_as_a_person_reads_it(tmp_path: Path, limits: ImportLimits, run_import):
    path = tmp_path / "应收款.csv"
    path.write_bytes(KINGDEE.encode("gb18030"))
    config = applied(path, limits)
    assert (config.header_row, config.skip_footer, config.encoding) == (3, 1, "gb18030")
    assert _rows(run_import(path, **{f: getattr(config, f) for f in config.__struct_fields__})) == EXPECTED


def test_excels_unicode_text_export_imports_as_a_person_reads_it(tmp_path: Path, limits: ImportLimits, run_import):
    """UTF-16LE with a byte order mark, tab-separated, CRLF: Excel's "Unicode text (*.txt)"; dates as 2024/1/5."""
    lines = [
        "日期\t单号\t客户\t金额\t折扣率\t数量",
        "2024/1/5\tXS0001\t华为\t¥1,234.50\t12.5%\t\uff11\uff12\uff13",
        "2024/1/6\tXS0002\t小米\t(1,234.00)\t5%\t7",
        "2024/1/17\tXS0003\t联想\t¥20.00\t0%\t\uff11\uff10",
        "2024/2/2\tXS0004\t腾讯\t-3.10\t100%\t3",
    ]
    path = tmp_path / "unicode.txt"
    path.write_bytes(b"\xff\xfe" + ("\r\n".join(lines) + "\r\n").encode("utf-16-le"))
    config = applied(path, limits)
    assert _rows(run_import(path, **{f: getattr(config, f) for f in config.__struct_fields__})) == EXPECTED


def _ufida_book(path: Path) -> Path:
    """A 用友 bank journal as Excel or WPS saves it: a merged title, a 单位 and 币种 line, the header on row 3, amounts
    and percentages typed as text beside number cells, dates typed three ways beside a date cell, a 合计 row."""
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["用友U8 银行日记账"])
    sheet.merge_cells("A1:F1")
    sheet.append(["单位\uff1a上海某某公司", None, None, None, "币种\uff1a人民币"])
    sheet.append(["日期", "凭证号", "摘要", "借方", "余额", "比例"])
    sheet.append(["2024年1月5日", "记-0001", "期初", "¥1,234.50", 1234.5, "12.5%"])
    sheet.append(["2024/1/6", "记-0002", "收款", "(1,234.00)", 0.5, 0.05])
    sheet.append([dt.date(2024, 1, 17), "记-0003", "付款", 20.125, -1999.5, "5%"])
    sheet.append(["2024-01-18", "记-0004", "付款", "¥20.00", -2019.5, 1])
    sheet.append(["合计", None, None, None, 1234.5 + 0.5 - 1999.5 - 2019.5, None])
    book.save(path)
    return path


def test_a_unit_and_currency_line_above_a_workbooks_header_is_passed_over(tmp_path: Path, limits: ImportLimits):
    """Two text cells on a six-column table (单位 and 币种) were taken for the header."""
    shown = preview(_ufida_book(tmp_path / "日记账.xlsx"), "日记账.xlsx", ImportConfig(), limits)
    assert [c.name for c in shown.columns] == ["日期", "凭证号", "摘要", "借方", "余额", "比例"]


def test_a_workbooks_text_amounts_and_dates_are_suggested_typed_as_a_csvs_are(
    tmp_path: Path, limits: ImportLimits, run_import
):
    """A workbook column of ¥1,234.50, (1,234.00) and 12.5% typed as text, or of dates typed 2024年1月5日 and
    2024/1/6, was read as text with no suggestion (a CSV's got `decimal` and `date`); its number cells count in
    the decimal's scale, so 20.125 is not rounded to 20.13."""
    path = _ufida_book(tmp_path / "日记账.xlsx")
    config = applied(path, limits)
    assert config.skip_footer == 1
    rows = rows_of(run_import(path, **{f: getattr(config, f) for f in config.__struct_fields__}))
    assert [(r["日期"], r["借方"], r["比例"]) for r in rows] == [
        (dt.date(2024, 1, 5), Decimal("1234.500"), Decimal("0.125")),
        (dt.date(2024, 1, 6), Decimal("-1234.000"), Decimal("0.050")),
        (dt.date(2024, 1, 17), Decimal("20.125"), Decimal("0.050")),
        (dt.date(2024, 1, 18), Decimal("20.000"), Decimal("1.000")),
    ]


@pytest.mark.parametrize(
    "ids",
    [
        ['="202311021234567890"', '="002311021234567891"'],  # as the export script writes them
        ['"=""202311021234567890"""', '"=""002311021234567891"""'],  # quoted as a CSV writer quotes them
    ],
)
def test_ids_written_as_excel_text_formulas_read_as_the_text_excel_shows(
    tmp_path: Path, limits: ImportLimits, run_import, ids: list[str]
) -> None:
    """Order exports write an id `="202311021234567890"` so that Excel shows its digits as text: the id was read
    with the `="` and `"` around it."""
    path = tmp_path / "订单.csv"
    path.write_text(f'订单号,买家,实付金额\n{ids[0]},张三,"1,099.00"\n{ids[1]},李四,19.90\n', encoding="utf-8")
    shown = preview(path, path.name, ImportConfig(), limits)
    assert [row[0] for row in shown.rows] == ["202311021234567890", "002311021234567891"]
    said = [n for n in shown.notices if isinstance(n, FormulaText)]
    assert [(n.columns, n.count) for n in said] == [(["订单号"], 1)]
    result = run_import(path, **{"thousands_separator": ","})
    assert [(r["订单号"], r["实付金额"]) for r in rows_of(result)] == [
        ("202311021234567890", 1099.0),
        ("002311021234567891", 19.9),
    ]
    assert any(isinstance(n, FormulaText) for n in result.notices)


def test_a_text_cell_that_only_starts_with_an_equals_sign_is_kept() -> None:
    conn = duckdb.connect()
    values = ["=SUM(A1)", '="a"', '=""', "x", '="', None]
    read = [conn.execute(f"SELECT {formula_text_sql('v')} FROM (SELECT ? AS v)", [v]).fetchone()[0] for v in values]
    assert read == ["=SUM(A1)", "a", "", "x", '="', None]
