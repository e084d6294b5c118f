"""xlsb sheets whose records lie about their size: many cell records at one position (calamine keeps each one: 100
million at A1 took 4 GB inside a 1 x 1 extent), and a declared box (BrtWsDim) the cells run far past (every
record outside it was one Python step: 2 million cells, 5 CPU-s)."""

from __future__ import annotations

import struct
import zipfile
from pathlib import Path

import pytest

from app.ingest import ImportConfig, ImportLimits, preview
from app.ingest import xlsb_extent as xlsb_module
from app.ingest.errors import LimitExceeded
from app.ingest.xlsb_extent import Extent, xlsb_extent
from tests.workbook_files import xlsb_workbook

SHEET = "xl/worksheets/sheet1.bin"


def real(col: int, value: float) -> bytes:
    """A BrtCellReal record."""
    return b"\x05\x10" + struct.pack("<IId", col, 0, value)


def row_header(row: int) -> bytes:
    return b"\x00\x11" + struct.pack("<I", row) + bytes(13)


def with_cells(path: Path, cells: bytes, declared: tuple[int, int] = (1, 1)) -> Path:
    """An xlsb whose sheet data (after its first row header) is `cells`, declaring `declared` (rows, columns)."""
    xlsb_workbook(path, [[1.5]], declared=declared)
    with zipfile.ZipFile(path) as archive:
        parts = {info.filename: archive.read(info) for info in archive.infolist()}
    first = real(0, 1.5)
    parts[SHEET] = parts[SHEET].replace(first, cells, 1)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return path


@pytest.mark.parametrize(
    ("cells", "declared"),
    [
        (real(0, 1.5) * 1500, (1, 1)),  # inside the declared box: stepped over in one run
        ((row_header(0) + real(0, 1.5) + real(1, 2.5)) * 800, (1, 2)),  # one row, repeated
        (real(0, 1.5) * 1500, (100, 100)),  # a box over max_workbook_cells: each record a step of its own
    ],
    ids=["at-A1", "row-repeated", "walked"],
)
def test_many_cell_records_at_one_position_are_refused(
    tmp_path: Path, run_import, cells: bytes, declared: tuple[int, int]
):
    path = with_cells(tmp_path / "dup.xlsb", cells, declared)
    small = ImportLimits(max_preview_rows=50, max_workbook_cells=1000)
    with pytest.raises(LimitExceeded, match="more than 1000 cell records") as shown:
        preview(path, "dup.xlsb", ImportConfig(), small)
    assert shown.value.code == "limit_exceeded"
    with pytest.raises(LimitExceeded, match="cell records"):
        run_import(path, job_limits=small)


def test_cell_records_up_to_the_limit_still_import(tmp_path: Path, limits: ImportLimits):
    path = with_cells(tmp_path / "few.xlsb", real(0, 1.5) * 999)
    assert xlsb_extent(str(path), SHEET, 1000) == Extent(1, 1)


@pytest.mark.parametrize("declared", [(1, 1), (1048576, 16384)], ids=["too-small", "too-large"])
def test_a_box_the_cells_run_past_is_grown_not_walked_record_by_record(
    tmp_path: Path, monkeypatch, declared: tuple[int, int]
):
    rows = [[float(r * 10 + c) for c in range(10)] for r in range(3000)]
    path = xlsb_workbook(tmp_path / "lying.xlsb", rows, declared=declared)
    steps = []
    header = xlsb_module._header

    def counted(reader):
        steps.append(1)
        return header(reader)

    monkeypatch.setattr(xlsb_module, "_header", counted)
    assert xlsb_extent(str(path), SHEET, 10**6) == Extent(3000, 10)  # the cells' own box, not the room grown
    assert len(steps) < 200  # 33,000 records, each a Python step before


def test_a_grown_box_reports_where_the_cells_are_and_still_refuses_past_the_limit(tmp_path: Path):
    near = [(0, {0: "a"}), *((r, {c: 1.0 for c in range(3)}) for r in range(5, 400)), (900, {7: 2.0})]
    path = xlsb_workbook(tmp_path / "near.xlsb", near, declared=(1, 1))
    assert xlsb_extent(str(path), SHEET, 10**6) == Extent(901, 8)
    far = [*near, (1_000_000, {5000: 1.0})]
    path = xlsb_workbook(tmp_path / "far.xlsb", far, declared=(1, 1))
    extent = xlsb_extent(str(path), SHEET, 10**6)
    assert extent is not None
    assert extent.rows * extent.columns > 10**6
