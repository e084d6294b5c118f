"""Hostile files an analyst's exports turn up: each gives a dataset or a clear error with a stable code, never an
internal error, a runaway process or a worker stuck on one file."""

from __future__ import annotations

import io
import resource
from pathlib import Path

import pytest

from app.ingest import ImportConfig, ImportLimits, preview
from app.ingest.errors import ContentMismatch, ImportFailed, LimitExceeded, UnsupportedMediaType
from app.ingest.json_depth import DepthGuard, TooDeep
from app.ingest.models import ColumnStats
from app.ingest.ole import stream_names
from app.ingest.preview import PREVIEW_BYTES, PREVIEW_CELL_CHARS
from app.ingest.preview_columns import MAX_FIELDS
from app.ingest.sniff import detect_encoding, sniff
from tests.hostile_files import DOC_REL, NS, bare_workbook, compound_file, sheet_without_dimension
from tests.unit.ingest.conftest import rows_of, write_xlsx


def test_a_workbook_without_sheets_is_a_clear_error(tmp_path: Path, limits: ImportLimits, run_import):
    path = bare_workbook(tmp_path / "none.xlsx", "", "", {})
    with pytest.raises(ImportFailed) as shown:
        preview(path, "none.xlsx", ImportConfig(), limits)
    assert shown.value.code == "empty_workbook"
    with pytest.raises(ImportFailed) as imported:
        run_import(path)
    assert (imported.value.code, imported.value.detail) == (
        "empty_workbook",
        "the workbook has no sheets: there is nothing to import",
    )


def test_a_chart_sheet_is_named_as_one(tmp_path: Path, limits: ImportLimits):
    path = bare_workbook(
        tmp_path / "chart.xlsx",
        '<sheet name="图表1" sheetId="1" r:id="rId1"/>',
        f'<Relationship Id="rId1" Type="{DOC_REL}/chartsheet" Target="chartsheets/sheet1.xml"/>',
        {"xl/chartsheets/sheet1.xml": f"<chartsheet {NS}/>"},
    )
    with pytest.raises(ImportFailed) as caught:
        preview(path, "chart.xlsx", ImportConfig(), limits)
    assert caught.value.code == "empty_sheet"
    assert "'图表1' is a chart sheet" in caught.value.detail


def test_a_password_protected_xlsx_is_refused_as_encrypted(tmp_path: Path, limits: ImportLimits):
    path = compound_file(tmp_path / "报表.xlsx", ["EncryptionInfo", "EncryptedPackage"])
    assert stream_names(path) == {"Root Entry", "EncryptionInfo", "EncryptedPackage"}
    with pytest.raises(ImportFailed) as caught:
        sniff(path, "报表.xlsx", ImportConfig(), limits)
    assert caught.value.code == "encrypted"
    assert "password" in caught.value.detail


def test_an_ole2_file_without_a_workbook_is_not_taken_for_xls(tmp_path: Path, limits: ImportLimits):
    path = compound_file(tmp_path / "memo.xls", ["WordDocument"])
    with pytest.raises(ContentMismatch, match="without a workbook"):
        sniff(path, "memo.xls", ImportConfig(), limits)
    assert sniff(compound_file(tmp_path / "a.xls", ["Workbook"]), "a.xls", ImportConfig(), limits).kind == "xls"
    assert stream_names(tmp_path / "missing.xls") is None


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_without_a_byte_order_mark_is_read(tmp_path: Path, limits: ImportLimits, run_import, encoding: str):
    path = tmp_path / "bank.csv"
    path.write_bytes("日期,客户名称,金额\n2024-01-01,北京科技有限公司,1234.5\n".encode(encoding))
    assert sniff(path, "bank.csv", ImportConfig(), limits).encoding == encoding
    assert rows_of(run_import(path)) == [
        {"日期": __import__("datetime").date(2024, 1, 1), "客户名称": "北京科技有限公司", "金额": 1234.5}
    ]


def test_a_deeply_nested_json_document_is_refused_before_it_is_built(tmp_path: Path, limits: ImportLimits):
    path = tmp_path / "deep.json"
    path.write_bytes(b"[" * 100_000 + b"]" * 100_000)  # 200 KB; ijson took 17 GB for it
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(TooDeep) as caught:
        preview(path, "deep.json", ImportConfig(), limits)
    assert caught.value.code == "too_deep"
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 200 * 1024  # KiB


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 1 << 16])
def test_the_depth_guard_counts_brackets_outside_strings_only(chunk: int):
    def depth_ok(document: bytes) -> bool:
        guard = DepthGuard(io.BytesIO(document), 3)
        try:
            while guard.read(chunk):
                pass
        except TooDeep:
            return False
        return True

    assert depth_ok(b'[[[1]], {"a": [2]}]')
    assert not depth_ok(b"[[[[1]]]]")
    assert depth_ok(b'["[[[[[[", {"k": "{{{{"}]')
    assert depth_ok(b'["\\"[[[[[", 1]')
    assert not depth_ok(b'["\\\\", [[[1]]]]')  # an escaped backslash does not escape the closing quote
    assert not depth_ok(b'[{"a": "]]]]"}, [[[1]]]]')
    assert depth_ok(b'[1, [2], [3], [4, [5]], "", ""]')


def test_a_nul_in_a_cell_leaves_figures_postgres_can_store():
    stats = ColumnStats(name="a\x00b", type="string", nulls=0, min="\x00x", max="y")
    assert (stats.name, stats.min, stats.max) == ("a\u2400b", "\u2400x", "y")


def test_a_big_sheet_of_undeclared_size_is_not_loaded_just_to_be_measured(
    tmp_path: Path, limits: ImportLimits, monkeypatch: pytest.MonkeyPatch
):
    sheet = f"{DOC_REL}/worksheet"
    path = bare_workbook(
        tmp_path / "two.xlsx",
        '<sheet name="说明" sheetId="1" r:id="rId1"/><sheet name="数据" sheetId="2" r:id="rId2"/>',
        f'<Relationship Id="rId1" Type="{sheet}" Target="worksheets/sheet1.xml"/>'
        f'<Relationship Id="rId2" Type="{sheet}" Target="worksheets/sheet2.xml"/>',
        {
            "xl/worksheets/sheet1.xml": sheet_without_dimension(3),
            "xl/worksheets/sheet2.xml": sheet_without_dimension(50),
        },
    )
    measured = preview(path, "two.xlsx", ImportConfig(), limits)
    assert [(s.name, s.rows) for s in measured.sheets] == [("说明", 2), ("数据", 49)]
    assert measured.config.sheet == "数据"

    big = len(sheet_without_dimension(50))  # as if the second sheet were past the bound: never loaded to measure
    monkeypatch.setattr("app.ingest.excel_reader.MEASURE_MAX_BYTES", big - 1)
    shown = preview(path, "two.xlsx", ImportConfig(), limits)
    assert [(s.name, s.rows) for s in shown.sheets] == [("说明", 2), ("数据", None)]


@pytest.mark.parametrize("document", ["42", "null", '"hello"', "true\n"])
def test_a_json_scalar_is_named_as_one_not_as_not_json(tmp_path: Path, limits: ImportLimits, document: str):
    path = tmp_path / "value.json"
    path.write_text(document)
    with pytest.raises(UnsupportedMediaType) as caught:
        sniff(path, "value.json", ImportConfig(), limits)
    assert caught.value.code == "no_records"
    assert f"holds a single JSON value ({document.strip()})" in caught.value.detail


def test_a_huge_cell_is_cut_short_in_the_preview_and_kept_whole_by_the_import(
    tmp_path: Path, limits: ImportLimits, run_import
):
    path = tmp_path / "long.csv"
    path.write_text("id,note\n1," + "说" * 50_000 + "\n2,short\n")
    shown = preview(path, "long.csv", ImportConfig(), limits)
    assert shown.rows[0][1] == "说" * PREVIEW_CELL_CHARS + "…"
    assert shown.rows[1] == [2, "short"]
    assert f"1 cell(s) longer than {PREVIEW_CELL_CHARS} characters are cut short" in shown.warnings[-1]
    assert len(rows_of(run_import(path))[0]["note"]) == 50_000


def test_a_text_file_without_line_breaks_or_with_a_million_fields_is_refused_by_the_preview(
    tmp_path: Path, limits: ImportLimits
):
    endless = tmp_path / "endless.csv"
    endless.write_bytes(b"x," * (PREVIEW_BYTES // 2 + 1))
    with pytest.raises(LimitExceeded, match="no line break in the first 4 MB"):
        preview(endless, "endless.csv", ImportConfig(), limits)
    wide = tmp_path / "wide.csv"
    wide.write_text(";".join("c" for _ in range(MAX_FIELDS + 1)) + "\n")
    with pytest.raises(LimitExceeded, match=f"splits into {MAX_FIELDS + 1} fields"):
        preview(wide, "wide.csv", ImportConfig(), limits)


def test_an_import_refuses_a_first_line_of_too_many_fields_as_its_preview_does(tmp_path: Path, run_import):
    wide = tmp_path / "wide.csv"  # 100,000 columns: accepted, then its worker ran out of memory after minutes
    wide.write_text("\n".join(",".join(str(i) for i in range(MAX_FIELDS * 5)) for _ in range(3)) + "\n")
    with pytest.raises(LimitExceeded, match=f"splits into {MAX_FIELDS * 5} fields, over {MAX_FIELDS}"):
        run_import(wide)
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_a_csv_too_wide_for_the_job_memory_fails_as_a_limit_not_an_internal_error(tmp_path: Path, run_import):
    wide = tmp_path / "wide.csv"  # 5,000 columns need more than the 256 MB the tests' DuckDB may use
    wide.write_text("\n".join(",".join(f"v{i}" for i in range(5_000)) for _ in range(3)) + "\n")
    with pytest.raises(LimitExceeded, match="more memory than an import may use"):
        run_import(wide)


def test_a_sheet_over_the_cell_limit_says_what_helps_and_range_is_not_it(tmp_path: Path, run_import):
    path = bare_workbook(
        tmp_path / "claims.xlsx",
        '<sheet name="S" sheetId="1" r:id="rId1"/>',
        f'<Relationship Id="rId1" Type="{DOC_REL}/worksheet" Target="worksheets/sheet1.xml"/>',
        {
            "xl/worksheets/sheet1.xml": sheet_without_dimension(3).replace(
                "<sheetData>", '<dimension ref="A1:XFD1048576"/><sheetData>'
            )
        },
    )
    for config in ({}, {"range": "A1:B3"}):
        with pytest.raises(LimitExceeded) as caught:
            run_import(path, **config)
        assert "1048576 rows x 16384 columns (as the file's <dimension> declares)" in caught.value.detail
        assert "save the sheet as CSV" in caught.value.detail
        assert "range" not in caught.value.detail


@pytest.mark.parametrize("content", [b"\xef\xbb\xbf", b"\xff\xfe", b"\r\n\r\n", b"\xef\xbb\xbf \n\t\n"])
def test_a_file_of_only_a_bom_or_blanks_is_empty_like_a_zero_byte_one(tmp_path: Path, limits: ImportLimits, content):
    path = tmp_path / "blank.csv"
    path.write_bytes(content)  # imported before as one phantom column `column_1` with no rows
    with pytest.raises(UnsupportedMediaType) as caught:
        sniff(path, "blank.csv", ImportConfig(), limits)
    assert caught.value.code == "empty_file"


def test_amounts_written_as_text_with_thousands_separators_are_suggested_and_import_as_numbers(
    tmp_path: Path, limits: ImportLimits, run_import
):
    # full-width digits, as Chinese input methods type them
    rows = [
        ["金额", "数量", "备注"],
        ["1,234.50", "\uff11\uff12\uff13", "a"],
        ["12,345,678.00", "\uff14\uff15\uff16", "b"],
        ["-1,000", "\uff17", "c"],
    ]
    path = write_xlsx(tmp_path / "kingdee.xlsx", {"凭证": rows})
    shown = preview(path, "kingdee.xlsx", ImportConfig(), limits)
    assert [c.type for c in shown.columns] == ["string", "string", "string"]
    # the full-width column is also suggested decimal, as a CSV's is (app.ingest.suggest.column_types)
    assert [s.field for s in shown.suggestions] == ["thousands_separator", "columns"]
    assert "'金额' (such as '1,234.50')" in shown.suggestions[0].reason
    assert shown.suggested_config.thousands_separator == ","
    assert shown.suggested_config.columns["数量"].type == "decimal"

    applied = preview(path, "kingdee.xlsx", ImportConfig(thousands_separator=","), limits)
    assert [c.type for c in applied.columns] == ["float", "integer", "string"]
    assert applied.suggestions == []
    whole = preview(path, "kingdee.xlsx", shown.suggested_config, limits)
    assert (whole.rows[0], whole.suggestions) == ([1234.5, "123", "a"], [])
    imported = rows_of(run_import(path, thousands_separator=","))
    assert [(r["金额"], r["数量"]) for r in imported] == [(1234.5, 123), (12345678.0, 456), (-1000.0, 7)]

    csv_path = tmp_path / "bank.csv"
    csv_path.write_text('金额,备注\n"1,234.50",a\n"99",b\n')
    assert preview(csv_path, "bank.csv", ImportConfig(), limits).suggested_config == ImportConfig(
        thousands_separator=","
    )


GBK_ROWS = "日期,客户名称,金额,备注\n" + "".join(
    f"2024-01-{i % 28 + 1:02d},北京科技有限公司{i},{i}.5,已付款\n" for i in range(60)
)


@pytest.mark.parametrize(
    "content",
    [
        GBK_ROWS.encode("gbk") + b"\x80\xff,1,2,3\n",  # guessed cp1252 before: every character garbled
        "名称,值\n".encode("gbk") + "中文,1\n".encode("gbk") * 50 + b"\x80\xff,2\n",  # guessed cp932 before
    ],
)
def test_chinese_text_with_a_damaged_byte_is_still_read_as_gbk(
    tmp_path: Path, limits: ImportLimits, content, run_import
):
    path = tmp_path / "export.csv"
    path.write_bytes(content)
    assert sniff(path, "export.csv", ImportConfig(), limits).encoding == "gb18030"
    with pytest.raises(ImportFailed, match="not valid gb18030"):  # strict: the damaged row is named
        run_import(path)
    result = run_import(path, on_error="lenient")
    assert "2 byte sequence(s) were not valid gb18030 and became U+FFFD" in result.warnings[-1]
    assert result.rows == content.count(b"\n") - 1  # every row kept, the damaged cell as U+FFFD


@pytest.mark.parametrize("encoding", ["koi8-r", "cp1251"])
def test_single_byte_cyrillic_is_not_taken_for_damaged_gbk(encoding: str):
    content = ("имя,город\n" + "".join(f"Ольга Петрова,Курск {i}\n" for i in range(60))).encode(encoding)
    assert detect_encoding(content, at_eof=True)[0] != "gb18030"


BANK_STATEMENT = (
    "交易明细查询\n账号\uff1a6222 0000 1111\n起止日期\uff1a2024-01-01 至 2024-01-31\n\n"
    "交易日期,摘要,收入金额,支出金额,余额\n"
    '2024-01-02,工资,"8,000.00",,"18,000.00"\n2024-01-03,消费,,"120.50","17,879.50"\n'
)


def test_a_title_block_above_a_csv_table_is_found_and_its_header_row_suggested(
    tmp_path: Path, limits: ImportLimits, run_import
):
    path = tmp_path / "statement.csv"
    path.write_bytes(BANK_STATEMENT.encode("gbk"))
    shown = preview(path, "statement.csv", ImportConfig(), limits)
    assert [(s.field, s.value) for s in shown.suggestions] == [("header_row", 5)]
    assert "rows 1-4 are a title block ('交易明细查询', '账号\uff1a6222 0000 1111'" in shown.suggestions[0].reason

    applied = preview(path, "statement.csv", shown.suggested_config, limits)
    assert [c.name for c in applied.columns] == ["交易日期", "摘要", "收入金额", "支出金额", "余额"]
    assert [(s.field, s.value) for s in applied.suggestions] == [("thousands_separator", ",")]
    rows = rows_of(run_import(path, header_row=5, thousands_separator=","))
    assert [(r["摘要"], r["收入金额"], r["余额"]) for r in rows] == [("工资", 8000.0, 18000.0), ("消费", None, 17879.5)]


@pytest.mark.parametrize(
    "text",
    [
        "a,b\n1,2\n3,4\n",
        "only\none\ncolumn\n",
        "title, with a comma\n\na,b\n1,2\n",
        "t\n\na,b\n1," + "x" * 200_000 + "\n",
    ],
)
def test_no_title_block_is_suggested_for_a_plain_or_unclear_csv(tmp_path: Path, limits: ImportLimits, text: str):
    path = tmp_path / "plain.csv"
    path.write_text(text)
    assert "header_row" not in {s.field for s in preview(path, "plain.csv", ImportConfig(), limits).suggestions}


def test_an_integer_past_64_bits_previews_and_imports_as_the_array_import_reads_it(
    tmp_path: Path, limits: ImportLimits, run_import
):
    array = tmp_path / "ids.json"
    array.write_text('[{"v": 1}, {"v": 123456789012345678901234567890}]')  # the preview failed: "integer overflow"
    shown = preview(array, "ids.json", ImportConfig(), limits)
    assert ([c.type for c in shown.columns], shown.rows) == (["decimal"], [["1"], ["123456789012345678901234567890"]])
    wrapped = tmp_path / "wrapped.json"
    wrapped.write_text('{"data": [{"v": 1}, {"v": 123456789012345678901234567890}]}')  # the import failed too
    assert [r["v"] for r in rows_of(run_import(wrapped))] == [r["v"] for r in rows_of(run_import(array))]
