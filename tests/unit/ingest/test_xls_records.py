"""An .xls whose cell records pile up at a few positions: calamine keeps each one, so a file inside a 1 x 1 box held
millions of them. They are counted against max_workbook_cells, inside the declared box (a run read at C speed) and
outside it (record by record), a MulRk counting each of its cells."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from app.ingest import ImportConfig, ImportLimits, preview
from app.ingest.errors import LimitExceeded
from app.ingest.xls_extent import xls_sheets
from tests.workbook_files import biff_record, xls_workbook

SMALL = ImportLimits(max_preview_rows=50, max_workbook_cells=1000)


def number(row: int, col: int, value: float) -> bytes:
    return biff_record(0x0203, struct.pack("<HHHd", row, col, 15, value))


def mul_rk(row: int, first: int, count: int) -> bytes:
    """A MulRk of `count` cells (RK 0: the number 0) from column `first`."""
    body = struct.pack("<HH", row, first) + struct.pack("<HI", 15, 0) * count + struct.pack("<H", first + count - 1)
    return biff_record(0x00BD, body)


def dimensions(rows: int, cols: int) -> bytes:
    return biff_record(0x0200, struct.pack("<IIHHH", 0, rows, 0, cols, 0))


@pytest.mark.parametrize(
    "extra",
    [
        dimensions(2, 1) + number(0, 0, 1.5) * 1200,
        dimensions(2, 3) + mul_rk(1, 0, 3) * 400,
        number(0, 0, 1.5) * 1200,
    ],
    ids=["in-the-box", "mulrk-in-the-box", "no-box"],
)
def test_many_cell_records_at_few_positions_are_refused(tmp_path: Path, run_import, extra: bytes):
    path = xls_workbook(tmp_path / "dup.xls", [["a"], [1]], extra=extra)
    with pytest.raises(LimitExceeded, match="more than 1000 cell records") as shown:
        preview(path, "dup.xls", ImportConfig(), SMALL)
    assert shown.value.code == "limit_exceeded"
    with pytest.raises(LimitExceeded, match="cell records"):
        run_import(path, job_limits=SMALL)


def test_cell_records_up_to_the_limit_are_counted_exactly(tmp_path: Path):
    # 2 of the sheet's own cells, 990 Numbers and 8 MulRk cells: 1000 records, at the limit
    extra = dimensions(2, 8) + number(0, 0, 1.5) * 990 + mul_rk(1, 0, 8)
    path = xls_workbook(tmp_path / "few.xls", [["a"], [1]], extra=extra)
    assert xls_sheets(str(path), 1000) is not None
    with pytest.raises(LimitExceeded):
        xls_sheets(str(path), 999)
