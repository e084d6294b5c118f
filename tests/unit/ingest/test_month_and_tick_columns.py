"""Monthly reports and checklists: a column of months written 2024年1月 is suggested a date, one of ticks and crosses
(√ and the multiplication sign) a boolean, in a CSV and a workbook alike, and each imports so once applied."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from app.ingest import ImportConfig, ImportLimits
from app.ingest.preview import preview
from tests.unit.ingest.conftest import applied, rows_of, write, write_xlsx

CROSS = "\u00d7"  # the multiplication sign, how these sheets write "no"
ROWS = [["月份", "已付", "开票", "备注"], ["2024年1月", "√", "是", "a"], ["2024年12月", CROSS, "否", "b"]]


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_months_and_ticks_are_suggested_as_dates_and_flags_and_import_so(
    tmp_path: Path, limits: ImportLimits, run_import, kind: str
):
    # given a monthly sheet with a 月份 column and two yes/no columns, one ticked
    if kind == "csv":
        path = write(tmp_path / "monthly.csv", "".join(",".join(row) + "\n" for row in ROWS))
    else:
        path = write_xlsx(tmp_path / "monthly.xlsx", {"月报": ROWS})
    shown = preview(path, path.name, ImportConfig(), limits)
    assert [c.type for c in shown.columns] == ["string", "string", "string", "string"]
    # then the preview types the month as a date read by its format and both flag columns as booleans
    (typed,) = shown.suggestions
    columns = typed.value
    assert (columns["月份"].type, columns["月份"].format) == ("date", "%Y年%m月")
    assert (columns["已付"].type, columns["开票"].type) == ("boolean", "boolean")
    assert "备注" not in columns
    # and, applied, the month imports as its first day and the ticks as true/false
    settled = applied(path, limits)
    imported = rows_of(run_import(path, columns=settled.columns))
    assert [(r["月份"], r["已付"], r["开票"]) for r in imported] == [
        (dt.date(2024, 1, 1), True, True),
        (dt.date(2024, 12, 1), False, False),
    ]
