"""A workbook whose header row is date cells (a monthly report: 项目 | 2024-01 | 2024-02 ... typed as dates, or
shown as 一月, 二月 from dates) over rows of numbers: the row was taken as the first data row, so the columns were
named A, B, C and every month column read as text. It is the header, its dates named by their month (or by their
day when they are not all firsts of a month)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest

from app.ingest import ImportConfig, ImportLimits, preview
from tests.unit.ingest.conftest import rows_of, write_xlsx
from tests.workbook_files import ods_workbook, xls_workbook, xlsb_workbook

MONTHS = [dt.date(2024, month, 1) for month in (1, 2, 3)]
BODY = [["收入", 1200.5, 1300, 1250], ["成本", 800, 810.25, 790]]
NAMES = ["项目", "2024-01", "2024-02", "2024-03"]


def _xlsx(path: Path, head: list[object]) -> Path:
    return write_xlsx(path.with_suffix(".xlsx"), {"月报": [["项目", *head], *BODY]})


def _ods(path: Path, head: list[object]) -> Path:
    return ods_workbook(path.with_suffix(".ods"), {"月报": [["项目", *head], *BODY]})


def _binary(write: Callable[..., Path], suffix: str, form: str = "yyyy-mm") -> Callable[[Path, list[object]], Path]:
    def build(path: Path, head: list[object]) -> Path:
        serials = [(day - dt.date(1899, 12, 30)).days for day in head]  # type: ignore[operator]  # Excel's
        formats = {(0, column): form for column in range(1, len(head) + 1)}
        return write(path.with_suffix(suffix), [["项目", *serials], *BODY], formats=formats)

    return build


BOOKS = {
    "xlsx": _xlsx,
    "ods": _ods,
    "xls": _binary(xls_workbook, ".xls"),
    "xlsb": _binary(xlsb_workbook, ".xlsb"),
    "xls-一月": _binary(xls_workbook, ".xls", '[DBNum1]m"月"'),  # 一月, 二月 as a Chinese Excel shows them
}


@pytest.mark.parametrize("kind", BOOKS)
def test_a_row_of_month_dates_over_numbers_is_the_header(tmp_path: Path, limits: ImportLimits, kind: str) -> None:
    path = BOOKS[kind](tmp_path / "月报", MONTHS)
    shown = preview(path, path.name, ImportConfig(), limits)
    assert shown.header_row == 1
    assert [c.name for c in shown.columns] == NAMES
    assert [c.type for c in shown.columns][1:] == ["float", "float", "integer"]
    assert shown.rows[0] == ["收入", 1200.5, 1300.0, 1250]


def test_a_month_header_below_a_merged_title_is_found_below_it(tmp_path: Path, limits: ImportLimits) -> None:
    rows = [["2024年第一季度利润表"], [], ["项目", *MONTHS], *BODY]
    path = write_xlsx(tmp_path / "利润表.xlsx", {"利润表": rows}, merge="A1:D1")
    shown = preview(path, path.name, ImportConfig(), limits)
    assert (shown.header_row, [c.name for c in shown.columns]) == (3, NAMES)
    assert [(s.field, s.value) for s in shown.suggestions] == [("header_row", 3)]


def test_the_import_reads_the_months_as_columns_of_numbers(tmp_path: Path, run_import) -> None:
    result = run_import(_xlsx(tmp_path / "月报", MONTHS))
    assert result.config.header_row == 1
    assert rows_of(result) == [dict(zip(NAMES, row, strict=True)) for row in BODY]


def test_dates_that_are_not_firsts_of_a_month_are_named_by_their_day(tmp_path: Path, limits: ImportLimits) -> None:
    days = [dt.date(2024, 3, 4), dt.date(2024, 3, 11), dt.date(2024, 3, 18)]  # a weekly report
    path = _ods(tmp_path / "周报", days)
    shown = preview(path, path.name, ImportConfig(), limits)
    assert [c.name for c in shown.columns] == ["项目", "2024-03-04", "2024-03-11", "2024-03-18"]


def test_a_first_data_row_of_dates_stays_data(tmp_path: Path, limits: ImportLimits) -> None:
    """A table with no header whose rows hold dates (a date in each row's own place) is read as before."""
    rows = [[dt.date(2024, 1, 1), dt.date(2024, 1, 2), 10], [dt.date(2024, 2, 1), dt.date(2024, 2, 2), 20]]
    path = write_xlsx(tmp_path / "ledger.xlsx", {"账": rows})
    shown = preview(path, path.name, ImportConfig(), limits)
    assert shown.header_row == 0
    assert len(shown.rows) == 2


def test_a_header_row_given_of_dates_is_named_the_same(tmp_path: Path, limits: ImportLimits) -> None:
    path = _xlsx(tmp_path / "月报", MONTHS)
    shown = preview(path, path.name, ImportConfig(header_row=1), limits)
    assert [c.name for c in shown.columns] == NAMES
