"""Exports as Chinese operators get them (金蝶/用友 reports saved as CSV by Excel or WPS, Excel's "Unicode text"):
title rows above the header, a 合计 footer, amounts with ¥ and thousands, accounting negatives, full-width digits,
percentages and 2024年1月5日 dates import as a person reads them, once the preview's suggestions are applied."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from app.ingest import ImportConfig, ImportLimits, preview
from tests.unit.ingest.conftest import rows_of

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


def _applied(path: Path, limits: ImportLimits) -> ImportConfig:
    """The configuration a person ends with clicking every suggestion until none is left."""
    config = ImportConfig()
    for _ in range(3):
        shown = preview(path, path.name, config, limits)
        if not shown.suggestions:
            return shown.config
        config = shown.suggested_config
    raise AssertionError(f"still suggesting {shown.suggestions}")


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
    config = _applied(path, limits)
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
    config = _applied(path, limits)
    assert _rows(run_import(path, **{f: getattr(config, f) for f in config.__struct_fields__})) == EXPECTED
