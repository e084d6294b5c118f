"""calamine (0.37) finds an xlsb's parts as it finds an xlsx's: by name with ASCII case ignored and `\\` read as
`/` (`xl/Workbook.bin`, `xl/Worksheets/Sheet1.bin`, `xl/Styles.bin`, `xl/SharedStrings.bin`), all but
xl/_rels/workbook.bin.rels. Our checks looked the parts up by exact name: a workbook saved so had no sheets to them,
so a two-cell sheet spanning ten million cells was loaded whole before being refused, a table declaring a million
strings was not counted, and its 1904 date system and padded formats were missed."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from app.ingest import ImportConfig, ImportLimits, preview, shared_strings_count
from app.ingest.errors import LimitExceeded, UnsupportedMediaType
from app.ingest.xlsb_extent import xlsb_sheet_member
from tests.hostile_files import xlsb_with_strings
from tests.memory_peak import PeakMemory
from tests.workbook_files import xlsb_workbook

SHEET = "xl/worksheets/sheet1.bin"


def renamed(path: Path, renames: dict[str, str]) -> Path:
    """The workbook at `path` with its parts renamed (in place)."""
    with zipfile.ZipFile(path) as source:
        parts = {item.filename: source.read(item) for item in source.infolist()}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as written:
        for name, data in parts.items():
            written.writestr(renames.get(name, name), data)
    return path


@pytest.mark.parametrize(
    "renames",
    [
        {"xl/workbook.bin": "xl/Workbook.bin"},
        {SHEET: "xl/Worksheets/Sheet1.bin"},
        {SHEET: "xl\\worksheets\\sheet1.bin"},
    ],
    ids=["workbook", "sheet", "backslashes"],
)
def test_an_xlsb_sheet_found_only_as_calamine_finds_it_is_checked_before_it_is_loaded(
    tmp_path: Path, renames: dict[str, str]
) -> None:
    path = renamed(xlsb_workbook(tmp_path / "far.xlsb", [(0, {0: 1}), (999_999, {9: 2})], declared=(2, 1)), renames)
    assert xlsb_sheet_member(str(path), 0) == renames.get(SHEET, SHEET)
    with PeakMemory() as peak, pytest.raises(LimitExceeded, match="1000000 rows x 10 columns"):
        preview(path, "far.xlsb", ImportConfig(), ImportLimits(max_workbook_cells=1000))
    assert peak.added < 40, f"the preview added {peak.added} MiB to the process's peak: the sheet was loaded"


def test_an_xlsb_strings_table_named_in_another_case_is_counted(
    tmp_path: Path, limits: ImportLimits, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(shared_strings_count, "SPARE_STRINGS", 100)
    path = xlsb_with_strings(tmp_path / "strings.xlsb", 5000, 5000)
    renamed(path, {"xl/sharedStrings.bin": "xl/SharedStrings.bin", "xl/workbook.bin": "XL/WORKBOOK.BIN"})
    with pytest.raises(LimitExceeded, match="shared-strings table holds more than"):
        preview(path, "strings.xlsb", ImportConfig(), limits)


def test_two_xlsb_parts_told_apart_only_by_case_are_refused(tmp_path: Path, limits: ImportLimits) -> None:
    path = xlsb_workbook(tmp_path / "twins.xlsb", [["a"], [1]])
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("xl/Worksheets/sheet1.bin", b"")
    with pytest.raises(UnsupportedMediaType, match="told apart only by the case") as caught:
        preview(path, "twins.xlsb", ImportConfig(), limits)
    assert caught.value.code == "corrupt_file"


def test_a_1904_xlsb_workbook_part_named_in_another_case_keeps_its_date_system(tmp_path: Path) -> None:
    from app.ingest.date_system import EXCEL_1904, date_origin

    plain = xlsb_workbook(tmp_path / "mac.xlsb", [["day"]], date1904=True)
    path = renamed(plain, {"xl/workbook.bin": "xl/Workbook.bin"})
    assert date_origin(str(path), "xlsb") == EXCEL_1904


def test_xlsb_padded_numbers_are_found_with_the_styles_part_named_in_another_case(tmp_path: Path) -> None:
    from app.ingest.biff_padded import workbook_padded_cells

    plain = xlsb_workbook(tmp_path / "zip.xlsb", [["zip"], [123]], formats={(1, 0): "000000"})
    path = renamed(plain, {"xl/styles.bin": "xl/Styles.bin"})
    found = workbook_padded_cells(str(path), "xlsb", 0)
    assert found is not None
    assert found.apply(1, [123.0], 2) == ["000123"]
