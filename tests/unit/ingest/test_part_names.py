"""calamine finds an xlsx's parts by name with ASCII case ignored (`xl/Workbook.xml`, `xl/Worksheets/Sheet1.xml`):
so must every check made before it reads them. A workbook saved so had no sheets to the checks (each was skipped)
while calamine read them all: a two-cell sheet spanning ten million cells was loaded whole before being refused."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from app.ingest import ImportConfig, ImportLimits, preview
from app.ingest.errors import LimitExceeded, UnsupportedMediaType
from app.ingest.xlsx_parts import xlsx_sheet_members
from tests.hostile_files import DOC_REL, NS, bare_workbook
from tests.memory_peak import PeakMemory

SHEET = (
    f'<worksheet {NS}><sheetData><row r="1"><c r="A1"><v>1</v></c></row>'
    '<row r="1000000"><c r="J1000000"><v>2</v></c></row></sheetData></worksheet>'
)


def _renamed(path: Path, renames: dict[str, str], sheet: str = SHEET) -> Path:
    rels = f'<Relationship Id="rId1" Type="{DOC_REL}/worksheet" Target="worksheets/sheet1.xml"/>'
    plain = bare_workbook(path.with_suffix(".plain.xlsx"), '<sheet name="S" sheetId="1" r:id="rId1"/>', rels, {})
    with zipfile.ZipFile(plain) as source:
        parts = {item.filename: source.read(item) for item in source.infolist()}
    parts["xl/worksheets/sheet1.xml"] = sheet.encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as written:
        for name, data in parts.items():
            written.writestr(renames.get(name, name), data)
    return path


def _copy_renamed(source_path: Path, path: Path, old: str, new: str) -> Path:
    """A copy of the workbook at `source_path` with its part `old` named `new`."""
    with zipfile.ZipFile(source_path) as source:
        parts = {item.filename: source.read(item) for item in source.infolist()}
    with zipfile.ZipFile(path, "w") as written:
        for name, data in parts.items():
            written.writestr(new if name == old else name, data)
    return path


@pytest.mark.parametrize(
    "renames",
    [
        {"xl/workbook.xml": "xl/Workbook.xml"},
        {"xl/worksheets/sheet1.xml": "xl/Worksheets/Sheet1.xml"},
        {"xl/_rels/workbook.xml.rels": "XL/_rels/Workbook.xml.rels"},
        {"xl/worksheets/sheet1.xml": "xl\\worksheets\\sheet1.xml"},
    ],
    ids=["workbook", "sheet", "relationships", "backslashes"],
)
def test_a_sheet_found_only_with_case_ignored_is_checked_before_calamine_loads_it(
    tmp_path: Path, renames: dict[str, str]
) -> None:
    path = _renamed(tmp_path / "case.xlsx", renames)
    members = xlsx_sheet_members(str(path))
    assert len(members) == 1
    assert members[0] is not None
    with PeakMemory() as peak, pytest.raises(LimitExceeded, match="1000000 rows x 10 columns"):
        preview(path, "case.xlsx", ImportConfig(), ImportLimits(max_workbook_cells=1000))
    assert peak.added < 40, f"the preview added {peak.added} MiB to the process's peak: the sheet was loaded"


def test_two_parts_told_apart_only_by_case_are_refused(tmp_path: Path, limits: ImportLimits, run_import) -> None:
    """Which of the two calamine reads depends on the zip's order: the file is damaged, and said to be."""
    path = _renamed(tmp_path / "twins.xlsx", {}, SHEET)
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("xl/worksheets/Sheet1.xml", f"<worksheet {NS}><sheetData/></worksheet>")
    with pytest.raises(UnsupportedMediaType, match="told apart only by the case") as caught:
        preview(path, "twins.xlsx", ImportConfig(), limits)
    assert caught.value.code == "corrupt_file"
    with pytest.raises(UnsupportedMediaType, match="told apart only by the case"):
        run_import(path)


def test_a_1904_workbook_part_named_in_another_case_keeps_its_date_system(tmp_path: Path) -> None:
    """Excel for Mac's 1904 date system is read from xl/workbook.xml: as xl/Workbook.xml it was missed, and every
    date would have read four years and a day early."""
    openpyxl = pytest.importorskip("openpyxl")
    from openpyxl.utils.datetime import CALENDAR_MAC_1904

    from app.ingest.date_system import EXCEL_1904, date_origin

    book = openpyxl.Workbook()
    book.epoch = CALENDAR_MAC_1904
    book.active.append(["day"])
    plain = tmp_path / "mac.xlsx"
    book.save(plain)
    path = _copy_renamed(plain, tmp_path / "case.xlsx", "xl/workbook.xml", "xl/Workbook.xml")
    assert date_origin(str(path), "xlsx") == EXCEL_1904


def test_padded_numbers_are_found_with_the_styles_part_named_in_another_case(tmp_path: Path) -> None:
    """calamine reads xl/Styles.xml as xl/styles.xml: the zero-padded formats there are read too."""
    openpyxl = pytest.importorskip("openpyxl")
    from app.ingest.xlsx_padded import padded_cells

    book = openpyxl.Workbook()
    book.active.append(["zip"])
    book.active.append([123])
    book.active["A2"].number_format = "000000"
    plain = tmp_path / "zip.xlsx"
    book.save(plain)
    path = _copy_renamed(plain, tmp_path / "case.xlsx", "xl/styles.xml", "xl/Styles.xml")
    found = padded_cells(str(path), "xlsx", 0)
    assert found is not None
    assert found.apply(1, [123.0], 2) == ["000123"]
