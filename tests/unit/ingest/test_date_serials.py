"""Excel and ods date serials: the 1900 leap-year bug, the 1904 date system, an ods's own null date."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from app.ingest import ColumnSpec, ImportConfig, ImportLimits, preview
from tests.unit.ingest.conftest import rows_of, write_xlsx
from tests.workbook_files import ods_workbook, xls_workbook, xlsb_workbook


def test_serial_dates_before_march_1900_follow_excels_leap_year_bug_and_1904_workbooks_read_right(
    tmp_path: Path, limits: ImportLimits, run_import
):
    """Excel counts a 29 February 1900 that never was (serial 60), so serials 1-59 are a day later than a plain
    count from 1899-12-30 gives: 1 is 1900-01-01, not 1899-12-31. calamine gets this right for cells formatted as
    dates; a number typed as a date here did not. A 1904-system workbook's date cells read right (calamine)."""
    serials = write_xlsx(tmp_path / "early.xlsx", {"S": [["d"], [1], [59], [60], [61], [45296]]})
    result = run_import(serials, columns={"d": ColumnSpec(type="date")})
    firsts = [dt.date(1900, 1, 1), dt.date(1900, 2, 28), dt.date(1900, 2, 28), dt.date(1900, 3, 1)]
    assert [r["d"] for r in rows_of(result)] == [*firsts, dt.date(2024, 1, 5)]
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    book.epoch = openpyxl.utils.datetime.CALENDAR_MAC_1904
    for row in [["d"], [dt.date(2024, 1, 5)], [dt.date(1904, 1, 2)]]:
        book.active.append(row)
    for (cell,) in book.active.iter_rows(min_row=2):
        cell.number_format = "yyyy-mm-dd"
    book.save(tmp_path / "mac.xlsx")
    assert [r["d"] for r in rows_of(run_import(tmp_path / "mac.xlsx"))] == [dt.date(2024, 1, 5), dt.date(1904, 1, 2)]


def test_plain_number_serials_in_a_1904_workbook_count_from_1904(tmp_path: Path, limits: ImportLimits, run_import):
    """Excel for Mac's workbooks (date1904 in workbook.xml) count serials from 1904-01-01: a plain number typed as a
    date there was counted from 1899-12-30 and landed 1,462 days early (43834, 2024-01-05, read as 2020-01-04),
    while the date-formatted cell beside it (calamine) read right."""
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    book.epoch = openpyxl.utils.datetime.CALENDAR_MAC_1904
    for row in [["formatted", "serial"], [dt.date(2024, 1, 5), 43834], [dt.date(1904, 1, 2), 1.5]]:
        book.active.append(row)
    for cell, _ in book.active.iter_rows(min_row=2):
        cell.number_format = "yyyy-mm-dd"
    path = tmp_path / "mac.xlsx"
    book.save(path)
    typed = {"serial": ColumnSpec(type="datetime")}
    result = run_import(path, columns=typed)
    assert [(r["formatted"], r["serial"]) for r in rows_of(result)] == [
        (dt.date(2024, 1, 5), dt.datetime(2024, 1, 5)),
        (dt.date(1904, 1, 2), dt.datetime(1904, 1, 2, 12)),
    ]
    shown = preview(path, "mac.xlsx", ImportConfig(columns=typed), limits)
    assert shown.rows == [["2024-01-05", "2024-01-05T00:00:00"], ["1904-01-02", "1904-01-02T12:00:00"]]


@pytest.mark.parametrize("write", [xls_workbook, xlsb_workbook], ids=["xls", "xlsb"])
def test_an_xls_or_xlsb_in_the_1904_date_system_counts_its_serials_from_1904(tmp_path: Path, run_import, write):
    """The same for an .xls (a DATEMODE record in the workbook globals) and an .xlsb (BrtWbProp's flag)."""
    kind = write.__name__[:-9]
    path = write(tmp_path / f"mac.{kind}", [["d"], [43834], [0]], date1904=True)
    result = run_import(path, columns={"d": ColumnSpec(type="date")})
    assert [r["d"] for r in rows_of(result)] == [dt.date(2024, 1, 5), dt.date(1904, 1, 1)]
    plain = write(tmp_path / f"windows.{kind}", [["d"], [45296]])
    assert [r["d"] for r in rows_of(run_import(plain, columns={"d": ColumnSpec(type="date")}))] == [dt.date(2024, 1, 5)]


def test_plain_number_serials_in_an_ods_follow_its_null_date(tmp_path: Path, limits: ImportLimits, run_import):
    """LibreOffice counts serial dates from its null date (calculation settings in content.xml): a sheet made in
    the 1904 system (Excel for Mac's, kept by LibreOffice) says 1904-01-01, and its plain numbers typed as dates
    were counted from 1899-12-30, 1,462 days early, in the preview and the import."""
    typed = {"d": ColumnSpec(type="date")}
    mac = ods_workbook(tmp_path / "mac.ods", {"S": [["d"], [43834], [0]]}, null_date="1904-01-01")
    assert [r["d"] for r in rows_of(run_import(mac, columns=typed))] == [dt.date(2024, 1, 5), dt.date(1904, 1, 1)]
    assert preview(mac, "mac.ods", ImportConfig(columns=typed), limits).rows == [["2024-01-05"], ["1904-01-01"]]
    default = ods_workbook(tmp_path / "plain.ods", {"S": [["d"], [45296]]}, null_date="1899-12-30")
    assert [r["d"] for r in rows_of(run_import(default, columns=typed))] == [dt.date(2024, 1, 5)]
    unset = ods_workbook(tmp_path / "unset.ods", {"S": [["d"], [45296]]})
    assert [r["d"] for r in rows_of(run_import(unset, columns=typed))] == [dt.date(2024, 1, 5)]


def test_ods_serials_count_from_any_null_date_with_no_1900_leap_day(tmp_path: Path, limits: ImportLimits, run_import):
    """An ods counts day N as its null date plus N days (OpenDocument 1.2, 9.4.2), with no 1900-02-29: Excel's
    correction below serial 60 moved LibreOffice's serial 1 (1899-12-31) to 1900-01-01, and a null date other
    than 1899-12-30 or 1904-01-01 (StarCalc 1.0's 1900-01-01) was counted from 1899-12-30, two days early."""
    typed = {"d": ColumnSpec(type="datetime")}
    early = ods_workbook(tmp_path / "early.ods", {"S": [["d"], [1], [59], [60], [61], [-1], [0.5]]})
    assert [r["d"] for r in rows_of(run_import(early, columns=typed))] == [
        dt.datetime(1899, 12, 31),
        dt.datetime(1900, 2, 27),
        dt.datetime(1900, 2, 28),
        dt.datetime(1900, 3, 1),
        dt.datetime(1899, 12, 29),
        dt.datetime(1899, 12, 30, 12),
    ]
    starcalc = ods_workbook(tmp_path / "starcalc.ods", {"S": [["d"], [0], [1], [45294]]}, null_date="1900-01-01")
    expected = [dt.datetime(1900, 1, 1), dt.datetime(1900, 1, 2), dt.datetime(2024, 1, 5)]
    assert [r["d"] for r in rows_of(run_import(starcalc, columns=typed))] == expected
    shown = preview(starcalc, "starcalc.ods", ImportConfig(columns=typed), limits)
    assert [row[0] for row in shown.rows] == [d.isoformat() for d in expected]
    excel = write_xlsx(tmp_path / "excel.xlsx", {"S": [["d"], [1], [59], [61]]})  # Excel's own count is kept
    assert [r["d"] for r in rows_of(run_import(excel, columns=typed))] == [
        dt.datetime(1900, 1, 1),
        dt.datetime(1900, 2, 28),
        dt.datetime(1900, 3, 1),
    ]
