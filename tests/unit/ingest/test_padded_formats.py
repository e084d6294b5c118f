"""Numbers an xlsx shows zero-padded by their number format (000000, "0"00000): read as the text Excel shows."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from typing import Any

import pytest

from app.ingest import ColumnSpec, ImportConfig, ImportLimits, preview
from app.ingest.notices.columns import ZeroPadded
from app.ingest.padding_format import padding
from app.ingest.xlsx_copy import CHUNK
from app.ingest.xlsx_padded import padded_cells
from tests.unit.ingest.conftest import rows_of, write_xlsx
from tests.workbook_files import xls_workbook, xlsb_workbook

openpyxl = pytest.importorskip("openpyxl")


def _book(path: Path, rows: list[list[Any]], formats: dict[str, str]) -> Path:
    """An xlsx of `rows` from A1 whose cells named in `formats` (A2, B3 ...) have those number formats."""
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    for cell, code in formats.items():
        book.active[cell].number_format = code
    book.save(path)
    return path


def test_numbers_formatted_000000_import_and_preview_as_the_padded_text_excel_shows(
    tmp_path: Path, limits: ImportLimits, run_import
):
    """Postal and stock codes stored as numbers with the format 000000 show as 000123 in Excel, and imported as
    123 (the column typed integer from a sample of such numbers) with nothing said."""
    rows = [["code", "prefixed", "qty"], [123, 5, 7], [600519, 12345, 8], [1, 123456, 9]]
    formats = {f"A{r}": "000000" for r in (2, 3, 4)} | {"B2": '"0"00000', "B3": '"0"00000'}
    path = _book(tmp_path / "codes.xlsx", rows, formats)

    shown = preview(path, "codes.xlsx", ImportConfig(), limits)
    assert [c.type for c in shown.columns] == ["string", "string", "integer"]
    # B4 is a General cell in a padded column: shown as it is, as Excel shows it
    assert shown.rows == [["000123", "000005", 7], ["600519", "012345", 8], ["000001", "123456", 9]]
    assert any("'code'" in w and "number format 000000" in w for w in shown.warnings)
    assert shown.config.columns["code"].type == "string"

    result = run_import(path)
    assert [[r["code"], r["prefixed"], r["qty"]] for r in rows_of(result)] == shown.rows
    assert any("'code'" in w and "zero-padded" in w for w in result.warnings)

    # a column the configuration types as a number keeps the numbers
    typed = run_import(path, columns={"code": ColumnSpec(type="integer")})
    assert [r["code"] for r in rows_of(typed)] == [123, 600519, 1]


def test_padded_cells_past_the_type_sample_make_the_column_text_too(tmp_path: Path, limits: ImportLimits, run_import):
    """The styles are read for the whole sheet, not the sampled rows: a column padded from row 1,500 on is text."""
    rows = [["code"]] + [[100000 + i] for i in range(1500)] + [[123]]
    path = _book(tmp_path / "late.xlsx", rows, {"A1502": "000000"})
    assert [r["code"] for r in rows_of(run_import(path))][-2:] == ["101499", "000123"]
    shown = preview(path, "late.xlsx", ImportConfig(), limits)  # from a copy cut after the sample: as the import
    assert [c.type for c in shown.columns] == ["string"]
    assert shown.rows[0] == ["100000"]


def test_a_workbook_with_no_padding_format_reads_only_its_styles(tmp_path: Path):
    path = write_xlsx(tmp_path / "plain.xlsx", {"S": [["a"], [1], [2]]})
    assert padded_cells(str(path), "xlsx", 0) is None
    dated = _book(tmp_path / "other.xlsx", [["a"], [1.5]], {"A2": "0.00"})
    assert padded_cells(str(dated), "xlsx", 0) is None


@pytest.mark.parametrize(
    ("code", "value", "shown"),
    [
        ("000000", 123, "000123"),
        ("000000", 123.0, "000123"),
        ("000000", 1234567, "1234567"),
        ("000000", -42, "-000042"),
        ("000000", 122.5, "000123"),
        ('"0"00000', 123, "000123"),
        ('"86"0000', 7, "860007"),
        ("00\\-00", 1234, "12-34"),  # literal text, escaped, quoted or bare, is shown as Excel shows it
        ('"No."0000', 123, "No.0123"),
        ('0000"号"', 12, "0012号"),
        ("000-0000", 1234567, "123-4567"),
        ('"SH"000000', -5, "-SH000005"),
        ('"No."0', 5, None),  # one placeholder pads nothing
        ("00#", 5, None),
        ("0", 5, None),
        ("0.00", 5, None),
        ("000;-000", 5, "005"),
        # several sections: positive; negative; zero; text (issue: a mixed format lost the zeros)
        ("0000;-0000", -12, "-0012"),
        ("0000;-0000", 12, "0012"),
        ("000000;@", 123, "000123"),
        ("000000;@", -5, "-000005"),
        ("00000;[Red]-00000", -42, "-00042"),
        ("00000;[Red]-00000", 42, "00042"),
        ('"No."0000;"No."-0000', -12, "No.-0012"),
        ('"No."0000;"No."-0000', 7, "No.0007"),
        ("0000_);(0000)", -12, "(0012)"),
        ("0000_);(0000)", 12, "0012"),
        ("[Color10]0000;[Blue]-0000", 3, "0003"),
        ("[$-804]000000", 5, "000005"),
        ("0000;-0000;0000;@", 0, "0000"),
        ('000;-000;"zero"000', 0, "zero000"),
        ('"a;b"0000', 1, "a;b0001"),
        ("0000;0000", -12, "-0012"),  # a negative section without a sign: the sign is kept, not lost
        ('0000;-0000;"-"', 0, "0000"),  # a zero section showing no digit gives way to the first
        ("0000;-0000;", 0, "0000"),
        ("0000;", -3, "-0003"),
        ("[>999]0000;000", 5, None),  # conditions and other brackets: not read as padding
        ("[DBNum1]0000", 5, None),
        ("0000;-0.00", 5, None),
        ("@", 5, None),
        ("0000@", 5, None),
        ("0;-0000", 5, None),
        ("0000;-0000;0000;@;0", 5, None),
    ],
)
def test_what_a_padding_format_shows(code: str, value: Any, shown: str | None):
    found = padding(code)
    assert (found.shown(value) if found else None) == shown
    if found:
        assert found.shown("text") == "text"
        assert found.shown(True) is True


def test_cells_written_with_the_style_before_the_reference_are_found_too(tmp_path: Path):
    """The scan searches for `r` before `s` as Excel writes a cell; another writer's `<c s="1" r="A2">`, and a row
    style, are searched for again."""
    path = _book(tmp_path / "codes.xlsx", [["code"], [123], [124]], {"A2": "000000", "A3": "000000"})
    with zipfile.ZipFile(path) as source:
        parts = {item.filename: source.read(item) for item in source.infolist()}
    sheet = parts["xl/worksheets/sheet1.xml"]
    sheet = re.sub(rb'<c r="(A[23])" s="1"', rb'<c s="1" r="\1"', sheet).replace(b'<row r="3"', b'<row r="3" s="1"')
    assert b'<c s="1" r="A2"' in sheet
    parts["xl/worksheets/sheet1.xml"] = sheet
    with zipfile.ZipFile(path, "w") as written:
        for name, data in parts.items():
            written.writestr(name, data)
    found = padded_cells(str(path), "xlsx", 0)
    assert found is not None
    assert [(low, high) for low, high, _ in found.runs[1]] == [(2, 3)]
    assert found.apply(1, [None, 123.0, 124.0, 5.0], 1) == [None, "000123", "000124", 5.0]


def test_a_preview_reads_a_bounded_head_of_the_sheet_for_padded_cells(tmp_path: Path, limits: ImportLimits):
    """The API's work stays bounded: cells past PREVIEW_SCAN_BYTES of XML are the import's to find."""
    rows = [["code"]] + [[100000 + i] for i in range(60_000)] + [[123]]
    path = _book(tmp_path / "long.xlsx", rows, {"A60002": "000000"})
    with zipfile.ZipFile(path) as archive:
        assert archive.getinfo("xl/worksheets/sheet1.xml").file_size > 2 * CHUNK
    assert padded_cells(str(path), "xlsx", 0, max_bytes=CHUNK) is None
    found = padded_cells(str(path), "xlsx", 0)
    assert found is not None
    assert list(found.columns()) == [1]


def test_the_padded_columns_warning_carries_its_code(tmp_path: Path, limits: ImportLimits):
    path = _book(tmp_path / "codes.xlsx", [["code"], [123], [4567]], {"A2": "000000", "A3": "000000"})
    shown = preview(path, "codes.xlsx", ImportConfig(), limits)
    assert [n for n in shown.notices if isinstance(n, ZeroPadded)] == [ZeroPadded(column="code", format="000000")]


def test_padded_formats_with_literal_text_import_as_the_text_excel_shows(tmp_path: Path, run_import):
    """`"No."0000` and `0000"号"` show 123 as No.0123 and 0123号: the number alone (123) lost the padding."""
    rows = [["no", "hao"], [123, 45], [9876, 6]]
    formats = {"A2": '"No."0000', "A3": '"No."0000', "B2": '0000"号"', "B3": '0000"号"'}
    result = run_import(_book(tmp_path / "literal.xlsx", rows, formats))
    assert [c.type for c in result.columns] == ["string", "string"]
    assert [[r["no"], r["hao"]] for r in rows_of(result)] == [["No.0123", "0045号"], ["No.9876", "0006号"]]


@pytest.mark.parametrize("code", ["0000;-0000", "00000;[Red]-00000", "000000;@", '"No."0000;"No."-0000'])
@pytest.mark.parametrize("write", [None, xls_workbook, xlsb_workbook], ids=["xlsx", "xls", "xlsb"])
def test_formats_of_several_sections_keep_the_zeros_in_every_workbook_kind(
    tmp_path: Path, limits: ImportLimits, run_import, write, code: str
):
    """`0000;-0000`, `000000;@` and such (a section for negatives, or text) were no padding format: a zip code
    column so formatted was read as numbers and lost its leading zeros, in xlsx, xls and xlsb alike."""
    rows = [["zip", "qty"], [123, 1], [-45, 2], [100020, 3]]
    formats = {(r, 0): code for r in (1, 2, 3)}
    if write is None:
        path = _book(tmp_path / "zip.xlsx", rows, {f"A{r + 1}": fmt for (r, _), fmt in formats.items()})
    else:
        kind = write.__name__[:-9]
        path = write(tmp_path / f"zip.{kind}", rows, formats=formats)
    expected = [padding(code).shown(value) for value in (123, -45, 100020)]
    assert expected[0].endswith("0123")
    shown = preview(path, path.name, ImportConfig(), limits)
    assert [c.type for c in shown.columns] == ["string", "integer"]
    assert [row[0] for row in shown.rows] == expected
    assert [r["zip"] for r in rows_of(run_import(path))] == expected


@pytest.mark.parametrize("write", [xls_workbook, xlsb_workbook], ids=["xls", "xlsb"])
def test_an_xls_or_xlsb_reads_its_padded_numbers_as_shown_too(tmp_path: Path, limits: ImportLimits, run_import, write):
    """python-calamine exposes no number formats: an xls's FORMAT/XF records and an xlsb's styles.bin are read for
    them (app.ingest.biff_padded), as an xlsx's styles are; 000123 and No.0005 were imported as 123 and 5."""
    kind = write.__name__[:-9]
    rows = [["code", "no", "qty"], [123, 5, 7], [600519, 12, 8], [1, 123456, 9]]
    formats = {(1, 0): "000000", (2, 0): "000000", (3, 0): "000000", (1, 1): '"No."0000', (2, 1): '"No."0000'}
    path = write(tmp_path / f"codes.{kind}", rows, formats=formats)
    expected = [["000123", "No.0005", 7], ["600519", "No.0012", 8], ["000001", "123456", 9]]
    shown = preview(path, path.name, ImportConfig(), limits)
    assert [c.type for c in shown.columns] == ["string", "string", "integer"]
    assert shown.rows == expected
    result = run_import(path)
    assert [[r["code"], r["no"], r["qty"]] for r in rows_of(result)] == expected
    assert any("'code'" in w and "zero-padded" in w for w in result.warnings)
    plain = write(tmp_path / f"plain.{kind}", rows)  # no such format: numbers, as before
    assert [c.type for c in run_import(plain).columns] == ["integer", "integer", "integer"]
