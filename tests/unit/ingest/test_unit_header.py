# ruff: noqa: RUF001, RUF002  (full-width brackets and colons are how these reports write headers)
"""A column headed 金额（万元） whose cells carry 万 themselves (1.25万, read as 12500) beside plain ones (500, read
as 500): the preview says the header's unit and the cells' disagree, naming the column, in a CSV and a workbook."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.ingest import ImportConfig, ImportLimits
from app.ingest.preview import preview
from app.ingest.unit_header import header_unit
from tests.unit.ingest.conftest import write, write_xlsx

ROWS = [["名称", "金额（万元）"], ["a", "1.25万"], ["b", "500"], ["c", "3"]]


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_a_unit_header_over_cells_with_their_own_unit_is_warned_of(tmp_path: Path, limits: ImportLimits, kind: str):
    if kind == "csv":
        path = write(tmp_path / "report.csv", "".join(",".join(row) + "\n" for row in ROWS))
    else:
        path = write_xlsx(tmp_path / "report.xlsx", {"报表": ROWS})
    shown = preview(path, path.name, ImportConfig(), limits)
    said = [w for w in shown.warnings if "headed in" in w]
    assert said == [
        "column '金额（万元）' is headed in 万元 but cells such as '1.25万' carry the unit themselves and read as "
        "whole amounts, beside plain numbers such as '500' read as written: check which unit each cell is in"
    ]


def test_a_unit_header_over_plain_numbers_or_a_plain_header_over_wan_cells_says_nothing(
    tmp_path: Path, limits: ImportLimits
):
    plain = write(tmp_path / "plain.csv", "名称,金额（万元）\na,1.25\nb,500\n")
    cells = write(tmp_path / "cells.csv", "名称,金额\na,1.25万\nb,500\n")
    for path in (plain, cells):
        assert not [w for w in preview(path, path.name, ImportConfig(), limits).warnings if "headed in" in w]
    assert [header_unit(h) for h in ("收入(万)", "销售额万元", "单位：亿元", "金额", "万达")] == [
        "万",
        "万",
        "亿",
        None,
        None,
    ]
