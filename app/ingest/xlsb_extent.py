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
from app.ingest.xlsx_extent import UNREADABLE, Extent, too_many_records

#: Decompressed bytes read per step.
CHUNK = 1 << 20
#: calamine ends a sheet at a BrtRowHdr past this row (0-based).
MAX_ROW = 0x100000
#: The last column a sheet Excel wrote has (0-based): a grown box goes no further unless a cell does.
MAX_COL = 0x3FFF
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


def _record_patterns(rows: tuple[int, int], cols: tuple[int, int]) -> tuple[bytes, bytes, bytes]:
    """Patterns for a row header and a cell inside the box, and for any other record below 0x80 but those calamine
    acts on differently: each with a one-byte type and size (what a run steps over)."""
    row_hdr = b"\x00" + sized([25, 17], range(4, 128), 1, le_between(*rows, 4), 4)
    cell = byte_class(CELLS.start, CELLS.stop - 1) + sized([16, 12, 8, 9], range(4, 128), 1, le_between(*cols, 4), 4)
    return row_hdr, cell, byte_class(0x0C, 0x7F) + sized([], range(128), 1, b"", 0)


@functools.lru_cache(maxsize=8)
def _run(rows: tuple[int, int], cols: tuple[int, int]) -> re.Pattern[bytes]:
    """Rows, cells and other records, as many as follow one another."""
    return re.compile(b"(?:" + b"|".join(_record_patterns(rows, cols)) + b")*+", re.DOTALL)


#: Captures the first field of a run's record (its type and size are a byte each): a cell's column, a row's number.
_FIELD = b"(?=..(.{4}))"


@functools.lru_cache(maxsize=8)
def _cell_counter(rows: tuple[int, int], cols: tuple[int, int]) -> re.Pattern[bytes]:
    """Over a run, each match ends at a cell (its type byte captured) or at the run's end (nothing captured)."""
    row_hdr, cell, other = _record_patterns(rows, cols)
    return re.compile(b"(?:" + row_hdr + b"|" + other + b")*+(?:(?=(.))" + cell + b"|\\Z)", re.DOTALL)


@functools.lru_cache(maxsize=8)
def _field_readers(rows: tuple[int, int], cols: tuple[int, int]) -> tuple[re.Pattern[bytes], re.Pattern[bytes]]:
    """Over a run: each match of the first ends at a cell (its column captured) or at the run's end, each match of
    the second at a row header (its row captured) or at the run's end."""
    row_hdr, cell, other = _record_patterns(rows, cols)
    return (
        re.compile(b"(?:" + row_hdr + b"|" + other + b")*+(?:" + _FIELD + cell + b"|\\Z)", re.DOTALL),
        re.compile(b"(?:" + cell + b"|" + other + b")*+(?:" + _FIELD + row_hdr + b"|\\Z)", re.DOTALL),
    )


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
    return _Cells(declared, max_cells).walk(reader)


class _Cells:
    """The walk over a sheet's rows and cells. Records are stepped over in runs that accept rows and cells inside
    `box`: the declared box when it fits max_cells, else a box grown (`_grown`) each time a row or cell lies
    outside it, so a sheet whose BrtWsDim is wrong costs a few dozen Python steps, not one per record (2 million
    cells outside a 1 x 1 box took 5 CPU-s). A run under the declared box adds that box to the extent; one under
    a grown box adds the rows and columns it holds, read from it at C speed (the room a grown box leaves is no
    cell's). Cell records are counted too: calamine keeps each one, several at one position included, and 100
    million at A1 took 4 GB within a 1 x 1 extent."""

    def __init__(self, declared: tuple[tuple[int, int], tuple[int, int]], max_cells: int) -> None:
        rows, cols = declared
        area = (rows[1] - rows[0] + 1) * (cols[1] - cols[0] + 1)
        fits = rows[0] <= rows[1] and cols[0] <= cols[1] and area <= max_cells
        self.declared = declared if fits else None
        self.box = self.declared
        self.max_cells = max_cells
        self.seen, self.row, self.records = Box(), 0, 0

    def walk(self, reader: _Reader) -> Extent:
        seen = self.seen
        while True:
            if self.box is not None:
                reader.need(4096)  # a run stops at the window's end: start it with room to go far
                moved = _run(*self.box).match(reader.data, reader.pos).end()
                if moved > reader.pos:
                    self._ran(reader.data, reader.pos, moved)
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
                        f"the sheet holds a cell or row record of {size} bytes, too short to be one: the file is "
                        "damaged",
                        code="corrupt_file",
                    )
                reader.need(4)
                (number,) = struct.unpack_from("<I", reader.data, reader.pos)
                if kind == ROW_HDR:
                    if number > MAX_ROW:
                        return seen.extent()
                    self.row = number
                    if self.box is None or not self.box[0][0] <= number <= self.box[0][1]:
                        self.box = _grown(seen, (number, number), self.max_cells)
                else:
                    self._count(1)
                    seen.add((self.row, self.row), (number, number))
                    if seen.extent().rows * seen.extent().columns > self.max_cells:
                        return seen.extent()
                    if self.box is None or not _inside(self.box, self.row, number):
                        self.box = _grown(seen, (self.row, self.row), self.max_cells)
            reader.skip(size)

    def _ran(self, data: bytes, start: int, end: int) -> None:
        """Account for the run data[start:end] under the current box: its cells counted, its extent added."""
        box = self.box
        assert box is not None
        if box == self.declared:
            found = _cell_counter(*box).findall(data, start, end)
            self._count(len(found) - found.count(b""))
            if data[start] != ROW_HDR:
                self.seen.add((self.row, self.row), box[1])  # cells before the run's first row header: on `row`
            self.seen.add(*box)  # every row and cell of the run lies inside the declared box
            return
        read_columns, read_rows = _field_readers(*box)
        found = read_columns.findall(data, start, end)
        self._count(len(found) - found.count(b""))
        columns = [int.from_bytes(c, "little") for c in set(found) if c]
        rows = [int.from_bytes(r, "little") for r in read_rows.findall(data, start, end) if r]
        if columns and data[start] != ROW_HDR:
            self.seen.add((self.row, self.row), (min(columns), max(columns)))
        if rows:
            cols = (min(columns), max(columns)) if columns else self.seen.cols or (box[1][0], box[1][0])
            self.seen.add((min(rows), max(rows)), cols)
            self.row = rows[-1]

    def _count(self, records: int) -> None:
        self.records += records
        if self.records > self.max_cells:
            raise too_many_records(self.max_cells)


def _inside(box: tuple[tuple[int, int], tuple[int, int]], row: int, col: int) -> bool:
    return box[0][0] <= row <= box[0][1] and box[1][0] <= col <= box[1][1]


def _grown(seen: Box, rows: tuple[int, int], max_cells: int) -> tuple[tuple[int, int], tuple[int, int]] | None:
    """A box holding the cells seen and `rows`, with room past its far edges (twice the columns, then rows down to
    the last or as many as max_cells leaves), so cells that run on past a wrong box grow it a dozen times, not once
    a row; None when what it must hold is already over max_cells."""
    need_rows = _join(seen.rows, rows) or rows
    need_cols = seen.cols or (0, 0)
    height, width = need_rows[1] - need_rows[0] + 1, need_cols[1] - need_cols[0] + 1
    if height * width > max_cells:
        return None
    width = max(width, min(2 * width, MAX_COL - need_cols[0] + 1, max_cells // height))
    height = max(height, min(MAX_ROW - need_rows[0] + 1, max_cells // width))
    return (need_rows[0], need_rows[0] + height - 1), (need_cols[0], need_cols[0] + width - 1)


def _join(a: tuple[int, int] | None, b: tuple[int, int] | None) -> tuple[int, int] | None:
    if a is None or b is None:
        return a or b
    return min(a[0], b[0]), max(a[1], b[1])
