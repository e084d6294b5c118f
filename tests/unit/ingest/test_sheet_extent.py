"""A sheet whose cells lie far apart, whatever its <dimension> says: calamine allocated the whole box they span
(1048576 x 16384 cells, 512 GiB) and the failed allocation aborted the process, the API's for a preview. Now the
cells' references are read first and the sheet is refused with limit_exceeded."""

from __future__ import annotations

import random
import re
import resource
import zipfile
from pathlib import Path
from string import ascii_uppercase

import pytest

from app.ingest import ImportConfig, ImportLimits, preview
from app.ingest.config import column_letters
from app.ingest.errors import LimitExceeded
from app.ingest.ods_extent import ods_extents
from app.ingest.xlsx_extent import Extent, declared_extent, sheet_extent, within
from tests.hostile_files import DOC_REL, NS, bare_workbook
from tests.unit.ingest.conftest import rows_of

ONE_SHEET = (
    '<sheet name="S" sheetId="1" r:id="rId1"/>',
    f'<Relationship Id="rId1" Type="{DOC_REL}/worksheet" Target="worksheets/sheet1.xml"/>',
)
HEAD = '<row r="1"><c r="A1" t="inlineStr"><is><t>a</t></is></c></row><row r="2"><c r="A2"><v>1</v></c></row>'
#: The far corners: one cell at XFD1 and, without a reference of its own, one in row 1048576.
FAR = (
    '<row r="1"><c r="A1" t="inlineStr"><is><t>a</t></is></c><c r="XFD1" t="inlineStr"><is><t>z</t></is></c>'
    '</row><row r="2"><c r="A2"><v>1</v></c></row><row r="1048576"><c><v>9</v></c></row>'
)


def sheet(rows: str, dimension: str | None) -> str:
    declared = f'<dimension ref="{dimension}"/>' if dimension else ""
    return f"<worksheet {NS}>{declared}<sheetData>{rows}</sheetData></worksheet>"


@pytest.mark.parametrize("dimension", ["A1:A2", None], ids=["understated", "undeclared"])
def test_cells_far_apart_are_refused_before_the_sheet_is_loaded(
    tmp_path: Path, limits: ImportLimits, run_import, dimension: str | None
):
    path = bare_workbook(tmp_path / "far.xlsx", *ONE_SHEET, {"xl/worksheets/sheet1.xml": sheet(FAR, dimension)})
    with pytest.raises(LimitExceeded) as shown:
        preview(path, "far.xlsx", ImportConfig(), limits)
    assert "1048576 rows x 16384 columns" in shown.value.detail
    with pytest.raises(LimitExceeded) as imported:
        run_import(path)
    assert "1048576 rows x 16384 columns" in imported.value.detail


def test_a_far_sheet_beside_others_is_not_measured_by_loading_it(tmp_path: Path, limits: ImportLimits):
    path = bare_workbook(
        tmp_path / "two.xlsx",
        '<sheet name="far" sheetId="1" r:id="rId1"/><sheet name="fine" sheetId="2" r:id="rId2"/>',
        f'<Relationship Id="rId1" Type="{DOC_REL}/worksheet" Target="worksheets/sheet1.xml"/>'
        f'<Relationship Id="rId2" Type="{DOC_REL}/worksheet" Target="worksheets/sheet2.xml"/>',
        {"xl/worksheets/sheet1.xml": sheet(FAR, None), "xl/worksheets/sheet2.xml": sheet(HEAD, None)},
    )
    shown = preview(path, "two.xlsx", ImportConfig(sheet="fine"), limits)
    assert shown.rows == [[1]]
    assert [(s.name, s.rows) for s in shown.sheets] == [("far", None), ("fine", 2)]


def test_the_extent_is_the_box_the_cells_span_not_formatted_empty_rows(tmp_path: Path):
    rows = (
        '<row r="3" spans="2:3"><c r="B3"><v>1</v></c><c r="C3"><v>2</v></c></row>'
        '<row r="4"><c><v>5</v></c></row><row r="900" ht="20" customHeight="1"/><row r="901"></row>'
    )
    path = bare_workbook(tmp_path / "box.xlsx", *ONE_SHEET, {"xl/worksheets/sheet1.xml": sheet(rows, "A1:XFD901")})
    assert sheet_extent(str(path), "xl/worksheets/sheet1.xml") == Extent(2, 2)
    empty = bare_workbook(tmp_path / "empty.xlsx", *ONE_SHEET, {"xl/worksheets/sheet1.xml": sheet("", None)})
    assert sheet_extent(str(empty), "xl/worksheets/sheet1.xml") == Extent(0, 0)
    assert sheet_extent(str(empty), "xl/worksheets/missing.xml") is None


@pytest.mark.parametrize("dimension", ["A1:C1", None], ids=["understated", "undeclared"])
def test_a_row_number_of_eight_digits_is_far_too(tmp_path: Path, limits: ImportLimits, dimension: str | None):
    # The scan read at most 7 digits and 3 letters: A1 beside A99999999 passed as 1 x 3, and calamine aborted
    # allocating 100 million x 3 cells (9.6 GB).
    rows = '<row r="1"><c r="A1"><v>1</v></c><c r="C1"><v>1</v></c></row><row r="9"><c r="A99999999"><v>2</v></c></row>'
    path = bare_workbook(tmp_path / "far8.xlsx", *ONE_SHEET, {"xl/worksheets/sheet1.xml": sheet(rows, dimension)})
    assert sheet_extent(str(path), "xl/worksheets/sheet1.xml") == Extent(99999999, 3)
    assert declared_extent(str(path), "xl/worksheets/sheet1.xml") is None
    with pytest.raises(LimitExceeded, match="99999999 rows x 3 columns"):
        preview(path, "far8.xlsx", ImportConfig(), limits)


@pytest.mark.parametrize(
    ("rows", "declared"),
    [
        ('<row r="2"><c r="B2"><v>1</v></c><c r="J2" t="s"><v>0</v></c></row><row r="90"><c r="C90"/></row>', True),
        ('<row r="2"><c r="B2"><v>1</v></c><c r="K2"><v>1</v></c></row>', False),  # a column past J
        ('<row r="2"><c r="A2"><v>1</v></c></row>', False),  # a column before B
        ('<row r="91"><c r="B91"><v>1</v></c></row>', False),  # a row past 90
        ('<row r="1"><c r="B1"><v>1</v></c></row>', False),  # a row before 2
        ('<row r="2"><c r="B02"><v>1</v></c></row>', False),  # a leading zero
        ('<row r="2"><c r="B2"><v>1</v></c><c><v>2</v></c></row>', False),  # placed by counting
        ('<row r="2"><c t="n" r="B2"><v>1</v></c></row>', False),  # the reference not first
        ('<row r="2"><x:c r="B2"><v>1</v></x:c></row>', False),  # a prefixed tag
        ('<row r="2"><c r="b2"><v>1</v></c></row>', False),  # a malformed reference
    ],
)
def test_cells_as_excel_writes_them_inside_the_dimension_need_no_scan(tmp_path: Path, rows: str, declared: bool):
    path = bare_workbook(tmp_path / "d.xlsx", *ONE_SHEET, {"xl/worksheets/sheet1.xml": sheet(rows, "J90:B2")})
    assert declared_extent(str(path), "xl/worksheets/sheet1.xml") == (Extent(89, 9) if declared else None)


def test_a_sheet_without_a_dimension_is_scanned(tmp_path: Path):
    path = bare_workbook(tmp_path / "n.xlsx", *ONE_SHEET, {"xl/worksheets/sheet1.xml": sheet(HEAD, None)})
    assert declared_extent(str(path), "xl/worksheets/sheet1.xml") is None
    assert sheet_extent(str(path), "xl/worksheets/sheet1.xml") == Extent(2, 1)


def test_the_range_pattern_matches_exactly_the_numerals_between_its_bounds():
    rng = random.Random(7)
    for _ in range(2000):
        low, high = sorted(rng.choice((rng.randint(1, 30), rng.randint(1, 3000), rng.randint(1, 10**7))) for _ in "ab")
        rows = re.compile(within(str(low), str(high), "0123456789", "123456789"))
        for row in (low, high, low - 1, high + 1, rng.randint(1, 10**8), rng.randint(max(1, low - 50), high + 50)):
            assert bool(rows.fullmatch(str(row))) == (low <= row <= high), (low, high, row)
        low, high = sorted(rng.randint(1, 17000) for _ in "ab")
        columns = re.compile(within(column_letters(low), column_letters(high), ascii_uppercase, ascii_uppercase))
        for column in (low, high, low - 1, high + 1, rng.randint(1, 20000)):
            if column >= 1:
                assert bool(columns.fullmatch(column_letters(column))) == (low <= column <= high), (low, high, column)


ODS_NS = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"'
)


def ods(path: Path, *tables: str) -> Path:
    body = "".join(f'<table:table table:name="S{i}">{rows}</table:table>' for i, rows in enumerate(tables, start=1))
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet", compress_type=zipfile.ZIP_STORED)
        archive.writestr(
            "content.xml",
            f"<office:document-content {ODS_NS}><office:body><office:spreadsheet>{body}"
            "</office:spreadsheet></office:body></office:document-content>",
        )
        archive.writestr(
            "META-INF/manifest.xml",
            '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0">'
            '<manifest:file-entry manifest:full-path="/" '
            'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/></manifest:manifest>',
        )
    return path


def text_cell(text: str) -> str:
    return f'<table:table-cell office:value-type="string"><text:p>{text}</text:p></table:table-cell>'


def test_an_ods_of_repeated_empty_cells_is_refused_before_calamine_builds_the_grid(
    tmp_path: Path, limits: ImportLimits, run_import
):
    # 1.6 KB: one cell, 2,000 empty cells repeated, a cell; 15,000 empty rows repeated, a number. calamine built the
    # 30-million-cell grid (1.9 GB, 10 s) before the cell limit refused it; its own cap allows 100 million.
    rows = (
        f'<table:table-row>{text_cell("a")}<table:table-cell table:number-columns-repeated="2000"/>{text_cell("z")}'
        '</table:table-row><table:table-row table:number-rows-repeated="15000"><table:table-cell/></table:table-row>'
        '<table:table-row><table:table-cell office:value-type="float" office:value="9"/></table:table-row>'
    )
    path = ods(tmp_path / "wide.ods", rows)
    assert ods_extents(str(path)) == [Extent(15002, 2002)]
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(LimitExceeded, match="span 30034004 cells together"):
        preview(path, "wide.ods", ImportConfig(), limits)
    with pytest.raises(LimitExceeded, match="span 30034004 cells together"):
        run_import(path)
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 200 * 1024  # KiB: the grid was never built


def test_an_ods_counts_to_its_last_filled_row_and_cell_as_libreoffice_writes_them(tmp_path: Path, run_import):
    rows = (
        f"<table:table-row>{text_cell('id')}{text_cell('name')}"
        '<table:table-cell table:number-columns-repeated="16382"/></table:table-row>'
        f'<table:table-row><table:table-cell office:value-type="float" office:value="1"/>{text_cell("Ada")}'
        '<table:table-cell table:number-columns-repeated="16382"/></table:table-row>'
        '<table:table-row table:number-rows-repeated="1048574"><table:table-cell '
        'table:number-columns-repeated="16384"/></table:table-row>'
    )
    path = ods(tmp_path / "trailing.ods", rows, f"<table:table-row>{text_cell('x')}</table:table-row>")
    assert ods_extents(str(path)) == [Extent(2, 2), Extent(1, 1)]
    assert rows_of(run_import(path)) == [{"id": 1, "name": "Ada"}]
