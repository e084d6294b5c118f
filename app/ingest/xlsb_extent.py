"""The real extent of an xlsb sheet, from its BIFF12 records, before calamine loads it.

calamine places an xlsb cell at the row of the last BrtRowHdr and the column its record names (any 32-bit
number) and sizes the grid from the cells it finds: a 1 KB sheet holding a cell at XFD1 and one at A1048576 (or
one at column 2^31) made it allocate 512 GiB (64 GiB) and abort the whole process (the API's, for a preview).
So the sheet's records are walked first, as calamine walks them, and the box its cells span is returned.

Walking 2 million records one Python step each took 2.5 s (calamine loads the sheet in 0.35 s). So records are
stepped over in runs by one regular expression (app.ingest.record_runs) that accepts a row or cell only inside
the box the sheet declares (BrtWsDim): a sheet Excel wrote is one run, and only what lies outside that box (or
what the pattern does not list) costs a Python step. The extent is then the declared box joined with what those
steps saw.
"""

from __future__ import annotations

import functools
import re
import struct
import zipfile
from collections.abc import Iterator

from app.ingest.errors import UnsupportedMediaType
from app.ingest.record_runs import byte_class, le_between, sized
from app.ingest.xlsb_records import MAX_HEADER_BYTES, record_header
from app.ingest.xlsb_records import xlsb_sheet_member as sheet_member
from app.ingest.xlsx_extent import UNREADABLE, Extent

#: Decompressed bytes read per step.
CHUNK = 1 << 20
#: calamine ends a sheet at a BrtRowHdr past this row (0-based).
MAX_ROW = 0x100000
#: Record types: BrtRowHdr, the cells (BrtCellBlank .. BrtFmlaError), BrtBeginSheetData, BrtEndSheetData,
#: BrtWsDim.
ROW_HDR, CELLS, BEGIN_DATA, END_DATA, WS_DIM = 0x00, range(0x01, 0x0C), 0x91, 0x92, 0x94
#: Blocks calamine skips whole while it looks for BrtBeginSheetData (views, AC blocks, column infos).
_SKIPPED_BLOCKS = {0x85: 0x86, 0x25: 0x26, 0x186: 0x187}


class Box:
    """Rows and columns (0-based, inclusive) cells were seen at; empty until one is added."""

    def __init__(self) -> None:
        self.rows: tuple[int, int] | None = None
        self.cols: tuple[int, int] | None = None

    def add(self, rows: tuple[int, int], cols: tuple[int, int]) -> None:
        self.rows = rows if self.rows is None else (min(self.rows[0], rows[0]), max(self.rows[1], rows[1]))
        self.cols = cols if self.cols is None else (min(self.cols[0], cols[0]), max(self.cols[1], cols[1]))

    def extent(self) -> Extent:
        if self.rows is None or self.cols is None:
            return Extent(0, 0)
        return Extent(self.rows[1] - self.rows[0] + 1, self.cols[1] - self.cols[0] + 1)


@functools.lru_cache(maxsize=8)
def _run(rows: tuple[int, int], cols: tuple[int, int]) -> re.Pattern[bytes]:
    """Records with a one-byte type and size: rows and cells inside the box, any other record below 0x80 but
    none calamine acts on differently."""
    row, col = le_between(*rows, 4), le_between(*cols, 4)
    records = [
        b"\x00" + sized([25, 17], range(4, 128), 1, row, 4),
        byte_class(CELLS.start, CELLS.stop - 1) + sized([16, 12, 8, 9], range(4, 128), 1, col, 4),
        byte_class(0x0C, 0x7F) + sized([], range(128), 1, b"", 0),
    ]
    return re.compile(b"(?:" + b"|".join(records) + b")*+", re.DOTALL)


class _Reader:
    """The zip member's bytes, a window at a time: `need(n)` makes n bytes from `pos` readable if the member
    has them; `skip` steps over a body that ends past the window."""

    def __init__(self, handle: zipfile.ZipExtFile) -> None:
        self.handle = handle
        self.data = b""
        self.pos = 0
        self.eof = False

    def need(self, count: int) -> bool:
        while len(self.data) - self.pos < count and not self.eof:
            chunk = self.handle.read(CHUNK)
            self.eof = not chunk
            self.data, self.pos = self.data[self.pos :] + chunk, 0
        return len(self.data) - self.pos >= count

    def skip(self, count: int) -> None:
        ahead = self.pos + count - len(self.data)
        if ahead <= 0:
            self.pos += count
            return
        self.data, self.pos = b"", 0
        while ahead > 0:
            chunk = self.handle.read(min(ahead, CHUNK))
            if not chunk:
                self.eof = True
                return
            ahead -= len(chunk)


def _header(reader: _Reader) -> tuple[int, int] | None:
    """(type, size) of the record at the reader's position, the position moved to its body; None at the end."""
    reader.need(MAX_HEADER_BYTES)
    header = record_header(reader.data, reader.pos)
    if header is None:
        return None
    kind, size, reader.pos = header
    return kind, size


def _records(reader: _Reader) -> Iterator[tuple[int, int]]:
    """(type, size) of each record, the reader at its body; the caller reads from it, `_records` skips it."""
    while (header := _header(reader)) is not None:
        yield header  # the caller may `need` bytes of the body, which keeps the position at the body's start
        reader.skip(header[1])


def xlsb_sheet_member(path: str, index: int) -> str | None:
    """The zip member of sheet `index`, as calamine numbers them; None when the workbook part cannot say."""
    try:
        with zipfile.ZipFile(path) as archive:
            return sheet_member(archive, index)
    except (*UNREADABLE, IndexError, ValueError, struct.error):
        return None


def xlsb_extent(path: str, member: str, max_cells: int) -> Extent | None:
    """The box the cells of sheet part `member` span, as calamine will place them; walking stops once it passes
    max_cells. None when the part cannot be read (calamine then says why)."""
    try:
        with zipfile.ZipFile(path) as archive, archive.open(member) as handle:
            return _walk(_Reader(handle), max_cells)
    except UNREADABLE:
        return None


def _walk(reader: _Reader, max_cells: int) -> Extent | None:
    records = _records(reader)
    declared = None
    for kind, size in records:  # calamine reads the first BrtWsDim, then looks for BrtBeginSheetData
        if kind == WS_DIM and size >= 16 and reader.need(16):
            first_row, last_row, first_col, last_col = struct.unpack_from("<IIII", reader.data, reader.pos)
            declared = (first_row, min(last_row, MAX_ROW)), (first_col, last_col)
            break
    else:
        return None
    skip_to = None
    for kind, _ in records:
        if skip_to is not None:
            skip_to = None if kind == skip_to else skip_to
        elif kind == BEGIN_DATA:
            break
        else:
            skip_to = _SKIPPED_BLOCKS.get(kind)
    else:
        return None
    rows, cols = declared
    fits = rows[0] <= rows[1] and cols[0] <= cols[1] and (rows[1] - rows[0] + 1) * (cols[1] - cols[0] + 1) <= max_cells
    return _cells(reader, _run(rows, cols) if fits else None, declared, max_cells)


def _cells(
    reader: _Reader, run: re.Pattern[bytes] | None, declared: tuple[tuple[int, int], tuple[int, int]], max_cells: int
) -> Extent:
    seen, row = Box(), 0
    while True:
        if run is not None:
            reader.need(4096)  # a run stops at the window's end: start it with room to go far
            moved = run.match(reader.data, reader.pos).end()
            if moved > reader.pos:
                if reader.data[reader.pos] != ROW_HDR:
                    seen.add((row, row), declared[1])  # cells before the run's first row header are on `row`
                seen.add(*declared)  # every row and cell of the run lies inside the declared box
                reader.pos = moved
        header = _header(reader)
        if header is None:
            return seen.extent()
        kind, size = header
        if kind == END_DATA:
            return seen.extent()
        if kind == ROW_HDR or kind in CELLS:
            if size < 4:
                raise UnsupportedMediaType(
                    f"the sheet holds a cell or row record of {size} bytes, too short to be one: the file is damaged",
                    code="corrupt_file",
                )
            reader.need(4)
            (number,) = struct.unpack_from("<I", reader.data, reader.pos)
            if kind == ROW_HDR:
                if number > MAX_ROW:
                    return seen.extent()
                row = number
            else:
                seen.add((row, row), (number, number))
                if seen.extent().rows * seen.extent().columns > max_cells:
                    return seen.extent()
        reader.skip(size)
