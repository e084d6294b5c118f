"""Dates written as eight digits (20240105, as ERP and bank exports write them) are read as integers: the preview
suggests `date` with the format %Y%m%d when every value of the column is such a date, and the integers stay the
default read (a suggestion, not a change)."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import pytest

from app.ingest import ImportConfig, ImportLimits
from app.ingest.date_forms import digit_date
from app.ingest.preview import preview
from tests.unit.ingest.conftest import rows_of, write_xlsx

ROWS = [["单号", "日期", "过账日期", "金额"], [1001, 20240105, 20240105, 7], [1002, 20241231, 20240229, 8]]


def _file(tmp_path: Path, kind: str, rows: list[list[object]]) -> Path:
    if kind == "xlsx":
        return write_xlsx(tmp_path / "orders.xlsx", {"S": rows})
    path = tmp_path / "orders.csv"
    path.write_text("\n".join(",".join(str(cell) for cell in row) for row in rows) + "\n")
    return path


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_a_column_of_eight_digit_dates_is_suggested_a_date_and_stays_integers_until_applied(
    tmp_path: Path, limits: ImportLimits, run_import, kind: str
) -> None:
    path = _file(tmp_path, kind, ROWS)
    shown = preview(path, path.name, ImportConfig(), limits)
    assert [c.type for c in shown.columns] == ["integer"] * 4
    assert [s.field for s in shown.suggestions] == ["columns"]
    columns = shown.suggested_config.columns
    suggested = {name: (spec.type, spec.format) for name, spec in columns.items()}
    assert suggested == {"日期": ("date", "%Y%m%d"), "过账日期": ("date", "%Y%m%d")}
    assert shown.suggestions[0].reason.endswith(": these columns import as the numbers, dates and flags they hold")
    assert [r["日期"] for r in rows_of(run_import(path))] == [20240105, 20241231]
    rows = rows_of(run_import(path, columns=columns, on_error="strict"))
    assert [(r["单号"], r["日期"], r["过账日期"], r["金额"]) for r in rows] == [
        (1001, dt.date(2024, 1, 5), dt.date(2024, 1, 5), 7),
        (1002, dt.date(2024, 12, 31), dt.date(2024, 2, 29), 8),
    ]


def test_beside_a_csvs_iso_date_column_it_is_suggested_and_both_import(
    tmp_path: Path, limits: ImportLimits, run_import
) -> None:
    """Each CSV column is read with its own date format: %Y%m%d on one leaves 2024-01-05 beside it as sniffed."""
    path = _file(tmp_path, "csv", [["下单", "日期"], ["2024-01-05", 20240106], ["2024-01-07", 20240108]])
    shown = preview(path, path.name, ImportConfig(), limits)
    columns = shown.suggested_config.columns
    assert {name: (spec.type, spec.format) for name, spec in columns.items()} == {"日期": ("date", "%Y%m%d")}
    rows = rows_of(run_import(path, columns=columns, on_error="strict"))
    assert rows[0] == {"下单": dt.date(2024, 1, 5), "日期": dt.date(2024, 1, 6)}


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
@pytest.mark.parametrize("odd", [20241301, 20230229, 30240105, 2024010, 12345678], ids=str)
def test_a_column_with_any_number_that_is_no_such_date_gets_no_suggestion(
    tmp_path: Path, limits: ImportLimits, kind: str, odd: int
) -> None:
    path = _file(tmp_path, kind, [["日期"], [20240105], [odd]])
    assert preview(path, path.name, ImportConfig(), limits).suggestions == []


def test_only_whole_numbers_are_dates() -> None:
    assert digit_date(20240105)
    assert digit_date(20240105.0)
    assert not any(digit_date(v) for v in (20240105.5, math.inf, math.nan, True, "20240105", None))
