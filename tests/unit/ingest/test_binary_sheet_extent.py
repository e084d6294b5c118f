"""xlsb and xls sheets whose cells lie far apart, or whose declared size is absurd: calamine allocated the whole
box (an xlsb cell at XFD1 and one at A1048576: 512 GiB; an xls DIMENSIONS record of 4 billion rows: 44 TB) and
the failed allocation aborted the process, the API's for a preview. Now the records are walked first and the
workbook is refused with limit_exceeded."""

from __future__ import annotations

import resource
import struct
import zipfile
from pathlib import Path

import pytest

from app.ingest import ImportConfig, ImportLimits, preview
from app.ingest import xlsb_extent as xlsb_module
from app.ingest.errors import LimitExceeded, UnsupportedMediaType
from app.ingest.xls_extent import xls_sheets
from app.ingest.xlsb_extent import Extent, xlsb_extent
from tests.unit.ingest.conftest import rows_of
from tests.workbook_files import biff_record, xls_workbook, xlsb_workbook

SHEET = "xl/worksheets/sheet1.bin"


def number(row: int, col: int, value: float) -> bytes:
    """An xls Number cell."""
    return biff_record(0x0203, struct.pack("<HHHd", row, col, 15, value))


@pytest.mark.parametrize(
    ("far", "shown"),
    [
        ([(0, {0: "a", 16383: "z"}), (1, {0: 1}), (1048575, {0: 9})], "1048576 rows x 16384 columns"),
        ([(0, {0: "a", 2**31: "z"}), (1, {0: 1})], "2 rows x 2147483649 columns"),
    ],
    ids=["corners", "column-2^31"],
)
def test_an_xlsb_with_cells_far_apart_is_refused_before_it_is_loaded(
    tmp_path: Path, limits: ImportLimits, run_import, far, shown: str
):
    path = xlsb_workbook(tmp_path / "far.xlsb", far, declared=(2, 1))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(LimitExceeded, match=shown):
        preview(path, "far.xlsb", ImportConfig(), limits)
    with pytest.raises(LimitExceeded, match=shown):
        run_import(path)
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 200 * 1024  # KiB: no grid was built


def test_an_xls_with_cells_far_apart_is_refused_before_it_is_opened(tmp_path: Path, limits: ImportLimits, run_import):
    path = xls_workbook(tmp_path / "far.xls", [["a"], [1]], extra=number(0, 65535, 1) + number(65535, 0, 2))
    with pytest.raises(LimitExceeded, match="span 4294967296 cells together"):
        preview(path, "far.xls", ImportConfig(), limits)
    with pytest.raises(LimitExceeded, match="span 4294967296 cells together"):
        run_import(path)


@pytest.mark.parametrize(
    ("first_row", "last_row", "declared"),
    [(0, 0xFFFFFFFF, 0xFFFFFFFF * 256), (5, 1, 0xFFFFFFFC * 256)],
    ids=["4-billion-rows", "last-before-first"],
)
def test_an_xls_declaring_an_absurd_size_is_refused_before_it_is_opened(
    tmp_path: Path, limits: ImportLimits, run_import, first_row: int, last_row: int, declared: int
):
    dimensions = biff_record(0x0200, struct.pack("<IIHHH", first_row, last_row, 0, 256, 0))
    path = xls_workbook(tmp_path / "declared.xls", [["a"], [1]], extra=dimensions)
    with pytest.raises(LimitExceeded, match=f"a sheet declares {declared} cells"):
        preview(path, "declared.xls", ImportConfig(), limits)
    with pytest.raises(LimitExceeded, match=f"a sheet declares {declared} cells"):
        run_import(path)


def test_an_honest_xls_or_xlsb_still_imports(tmp_path: Path, run_import):
    dimensions = biff_record(0x0200, struct.pack("<IIHHH", 0, 3, 0, 2, 0))
    xls = xls_workbook(tmp_path / "ok.xls", [["a", "b"], [1, "x"], [2, "y"]], extra=dimensions)
    assert rows_of(run_import(xls)) == [{"a": 1, "b": "x"}, {"a": 2, "b": "y"}]
    xlsb = xlsb_workbook(tmp_path / "ok.xlsb", [["a", "b"], [1, "x"], [2, "y"]])
    assert rows_of(run_import(xlsb)) == [{"a": 1, "b": "x"}, {"a": 2, "b": "y"}]


@pytest.mark.parametrize("chunk", [7, 1 << 20])
def test_the_xlsb_extent_is_the_box_calamine_builds(tmp_path: Path, monkeypatch, chunk: int):
    """Cells inside the declared box are stepped over, not placed one by one: the extent is that box, joined with
    any cell outside it, whatever the window the part is read through."""
    monkeypatch.setattr(xlsb_module, "CHUNK", chunk)
    rows = [(2, {1: "a", 2: "b"}), (3, {1: 1.5, 2: 7}), (4, {2: "x" * 300})]
    inside = xlsb_workbook(tmp_path / "inside.xlsb", rows, declared=(5, 3))
    assert xlsb_extent(str(inside), SHEET, 10**6) == Extent(5, 3)
    outside = xlsb_workbook(tmp_path / "outside.xlsb", [*rows, (40, {9: 1})], declared=(5, 3))
    assert xlsb_extent(str(outside), SHEET, 10**6) == Extent(41, 10)  # rows 0-40, columns 0-9
    assert xlsb_extent(str(outside), "xl/worksheets/missing.bin", 10**6) is None


def test_an_xls_extent_counts_every_sheet_cell_calamine_reads(tmp_path: Path):
    path = xls_workbook(tmp_path / "cells.xls", [["a", None, "c"], [1, 2, None]], extra=number(9, 4, 1))
    [sheet] = xls_sheets(str(path), 10**6)  # type: ignore[misc]
    assert sheet.extent == Extent(10, 5)
    assert xls_sheets(str(tmp_path / "none.xls"), 10**6) is None


def test_an_xls_sheet_said_to_start_past_the_stream_is_a_damaged_file_not_a_panic(
    tmp_path: Path, limits: ImportLimits, run_import
):
    """calamine sliced the stream at the sheet's position and panicked: PyO3's PanicException is no Exception."""
    path = xls_workbook(tmp_path / "past.xls", [["a"], [1]])
    data = bytearray(path.read_bytes())
    bound_sheet = data.index(b"\x85\x00")  # BoundSheet8: its first field is where the sheet starts
    struct.pack_into("<I", data, bound_sheet + 4, 10_000_000)
    path.write_bytes(bytes(data))
    with pytest.raises(UnsupportedMediaType) as shown:
        preview(path, "past.xls", ImportConfig(), limits)
    assert shown.value.code == "corrupt_file"
    with pytest.raises(UnsupportedMediaType):
        run_import(path)


def test_an_xlsb_cell_naming_a_missing_shared_string_is_a_damaged_file_not_a_panic(
    tmp_path: Path, limits: ImportLimits, run_import
):
    path = xlsb_workbook(tmp_path / "isst.xlsb", [["a"], [1]])
    with zipfile.ZipFile(path) as archive:
        parts = {info.filename: archive.read(info) for info in archive.infolist()}
    isst = b"\x07\x0c" + struct.pack("<III", 0, 0, 5)  # BrtCellIsst: column 0, style 0, shared string 5 of none
    parts[SHEET] = parts[SHEET].replace(b"\x00\x11" + bytes(17), b"\x00\x11" + bytes(17) + isst, 1)
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    with pytest.raises(UnsupportedMediaType) as shown:
        preview(path, "isst.xlsb", ImportConfig(), limits)
    assert shown.value.code == "corrupt_file"
    with pytest.raises(UnsupportedMediaType):
        run_import(path)
