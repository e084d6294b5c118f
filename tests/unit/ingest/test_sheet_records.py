"""An xlsx sheet holding many cells at one position (`<c r="A1">` again and again, or a row repeated): calamine
keeps each one, so a sheet inside a 1 x 1 box took it as far as its records went (10 million: 605 MB; a 2 GB part:
gigabytes), past every extent check. Now its cell records are counted too, against max_workbook_cells."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.ingest import ImportConfig, ImportLimits, preview
from app.ingest.errors import LimitExceeded
from app.ingest.xlsx_extent import Extent, declared_extent, sheet_extent
from tests.hostile_files import DOC_REL, NS, bare_workbook

ONE_SHEET = (
    '<sheet name="S" sheetId="1" r:id="rId1"/>',
    f'<Relationship Id="rId1" Type="{DOC_REL}/worksheet" Target="worksheets/sheet1.xml"/>',
)
PART = "xl/worksheets/sheet1.xml"
SMALL = ImportLimits(max_preview_rows=50, max_workbook_cells=1000)


def workbook(path: Path, rows: str, dimension: str | None) -> Path:
    declared = f'<dimension ref="{dimension}"/>' if dimension else ""
    sheet = f"<worksheet {NS}>{declared}<sheetData>{rows}</sheetData></worksheet>"
    return bare_workbook(path, *ONE_SHEET, {PART: sheet})


@pytest.mark.parametrize(
    ("rows", "dimension"),
    [
        ('<row r="1">' + '<c r="A1"><v>1</v></c>' * 1500 + "</row>", "A1"),  # the fast check's path
        ('<row r="1"><c r="A1"><v>1</v></c><c r="B1"><v>2</v></c></row>' * 800, "A1:B1"),  # a row repeated
        ('<row r="1">' + '<c r="A1"><v>1</v></c>' * 1500 + "</row>", None),  # the scan's path
        ('<row r="1">' + "<c><v>1</v></c>" * 1500 + "</row>", "A1:B1"),  # no references: placed by counting
    ],
    ids=["at-A1", "row-repeated", "undeclared", "unreferenced"],
)
def test_many_cells_at_one_position_are_refused(tmp_path: Path, run_import, rows: str, dimension: str | None):
    path = workbook(tmp_path / "dup.xlsx", rows, dimension)
    with pytest.raises(LimitExceeded, match="more than 1000 cell records") as shown:
        preview(path, "dup.xlsx", ImportConfig(), SMALL)
    assert shown.value.code == "limit_exceeded"
    with pytest.raises(LimitExceeded, match="cell records"):
        run_import(path, job_limits=SMALL)


def test_cells_up_to_the_limit_are_counted_not_refused(tmp_path: Path):
    path = str(workbook(tmp_path / "fine.xlsx", '<row r="1">' + '<c r="A1"><v>1</v></c>' * 1000 + "</row>", "A1"))
    assert declared_extent(path, PART, 1000) == Extent(1, 1)
    assert sheet_extent(path, PART, 1000) == Extent(1, 1)
