"""The real extent of every sheet of an .xls workbook, from its BIFF records, before calamine opens it.

calamine reads every sheet of an .xls as it opens the file, and for each one reserves room for the cells its
DIMENSIONS record declares (up to 2^32 rows x 65,535 columns, unchecked) and sizes a grid from the cells it
finds (a column may be any 16-bit number, beyond the 256 an .xls has): a 6 KB file declaring 4 billion rows,
or holding a cell at A1 and one at column 65,535 of row 65,536, made it allocate 44 TB (137 GB) and abort the
whole process (the API's, for a preview). So each sheet's records are walked first, as calamine walks them.

Each sheet is stepped over in runs by one regular expression (app.ingest.record_runs) that accepts a cell only
inside the box DIMENSIONS declares; what lies outside it costs a Python step.
"""

from __future__ import annotations

import functools
import re
import struct
from typing import NamedTuple

from app.ingest.ole import WORKBOOK_STREAMS, read_stream
from app.ingest.record_runs import ANY, le_between, re_bytes, sized
from app.ingest.xlsb_extent import Box
from app.ingest.xlsx_extent import Extent, too_many_records

BOF, EOF, DIMENSIONS, BOUND_SHEET, FILE_PASS, MUL_RK, FORMULA = 0x0809, 0x000A, 0x0200, 0x0085, 0x002F, 0x00BD, 0x0006
#: Records calamine takes a cell from, with the least size it accepts (a shorter one fails the whole file): Number,
#: Label, RString, BoolErr, Rk, LabelSst, Formula (MulRk, several cells, is read apart).
CELL_RECORDS = {0x0203: 14, 0x0204: 6, 0x00D6: 6, 0x0205: 8, 0x027E: 10, 0x00FD: 10, FORMULA: 20}
#: Records a run must leave to the walker: the substream's bounds and the declared box.
_ACTED_ON = (BOF, EOF, DIMENSIONS, MUL_RK, *CELL_RECORDS)


class XlsSheet(NamedTuple):
    """What calamine will allocate for one sheet: the cells its DIMENSIONS records make it reserve room for (the
    largest), and the box its cells span."""

    declared: int
    extent: Extent


def xls_sheets(path: str, max_cells: int) -> list[XlsSheet] | None:
    """Each sheet's reservation and extent, in the workbook's order (a walk stops once it passes max_cells);
    None when the file is no readable .xls or is encrypted (calamine then says why)."""
    stream = read_stream(path, WORKBOOK_STREAMS)
    if stream is None:
        return None
    starts, pos = [], 0
    try:
        while pos + 4 <= len(stream):  # the workbook globals, as calamine reads them: up to their EOF
            kind, size = struct.unpack_from("<HH", stream, pos)
            if kind == FILE_PASS and size >= 2 and struct.unpack_from("<H", stream, pos + 4)[0]:
                return None
            if kind == BOUND_SHEET and size >= 4:
                starts.append(struct.unpack_from("<I", stream, pos + 4)[0])
            elif kind == EOF:
                break
            pos += 4 + size
        return [_sheet(stream, start, max_cells) for start in starts]
    except struct.error:
        return None


def _sheet(stream: bytes, pos: int, max_cells: int) -> XlsSheet:
    """Walk one sheet substream as calamine does (embedded chart substreams skipped).

    Cell records are counted too (LimitExceeded past max_cells): calamine keeps each one, several at one position
    included, so millions of records at A1 passed every extent check inside a 1 x 1 box."""
    seen, declared, run, records = Box(), 0, None, 0
    box: tuple[tuple[int, int], tuple[int, int]] | None = None
    depth, seen_bof = 0, False
    end = len(stream)
    while pos + 4 <= end:
        if run is not None and not depth:
            moved = run.match(stream, pos).end()
            if moved > pos:
                seen.add(*box)  # type: ignore[misc]  # every cell of the run lies inside the declared box
                records += _cells_in(stream, pos, moved, box)  # type: ignore[arg-type]
                if records > max_cells:
                    raise too_many_records(max_cells)
                pos = moved
                continue
        kind, size = struct.unpack_from("<HH", stream, pos)
        body, pos = pos + 4, pos + 4 + size
        if pos > end:
            break
        if kind == BOF:
            depth += seen_bof
            seen_bof = True
        elif kind == EOF:
            if not depth:
                break
            depth -= 1
        elif depth:
            continue
        elif kind == DIMENSIONS and size in (10, 14):
            rows, cols = _dimensions(stream, body, size)
            declared = max(declared, (rows[1] - rows[0] + 1) * (cols[1] - cols[0] + 1))
            fits = (rows[1] - rows[0] + 1) * (cols[1] - cols[0] + 1) <= max_cells
            if box is None and fits and rows[1] < 0x10000 and cols[1] < 0x10000:
                box, run = (rows, cols), _run(rows, cols)
        elif kind == MUL_RK and size >= 6:
            row, first = struct.unpack_from("<HH", stream, body)
            (last,) = struct.unpack_from("<H", stream, pos - 2)
            if last >= first and size == 6 + 6 * (last - first + 1):  # else calamine fails the file
                seen.add((row, row), (first, last))
                records += last - first + 1
        elif size >= CELL_RECORDS.get(kind, 1 << 16):
            row, col = struct.unpack_from("<HH", stream, body)
            seen.add((row, row), (col, col))
            records += 1
        else:
            continue
        if records > max_cells:
            raise too_many_records(max_cells)
        extent = seen.extent()
        if extent.rows * extent.columns > max_cells or declared > max_cells:
            break
    return XlsSheet(declared, seen.extent())


def _dimensions(stream: bytes, body: int, size: int) -> tuple[tuple[int, int], tuple[int, int]]:
    """The rows and columns (0-based, inclusive) calamine reserves room for, with its arithmetic (32-bit, wrapping:
    a last row before the first is 4 billion rows)."""
    if size == 14:
        first_row, last_row, first_col, last_col = struct.unpack_from("<IIHH", stream, body)
    else:
        first_row, last_row, first_col, last_col = struct.unpack_from("<HHHH", stream, body)
    if first_col > 0xFF or last_col < first_col:
        first_col = 0
    if last_row < 1 or last_col < 1:
        return (first_row, first_row), (first_col, first_col)
    rows = (last_row - 1 - first_row) & 0xFFFFFFFF
    cols = (last_col - 1 - first_col) & 0xFFFFFFFF
    return (first_row, first_row + rows), (first_col, first_col + cols)


#: The cells a run steps over: the fixed-size ones at the size Excel writes, and Formula at any size to 255 (a
#: Label, an RString or a longer record costs a Python step: Excel 97 and later write text as LabelSst).
_RUN_SIZES = {0x0203: [14], 0x0205: [8], 0x027E: [10], 0x00FD: [10], FORMULA: range(20, 256)}


@functools.lru_cache(maxsize=8)
def _run(rows: tuple[int, int], cols: tuple[int, int]) -> re.Pattern[bytes]:
    """Records of up to 255 bytes: cells inside the box, any other record but those the walker acts on."""
    cells, mul_rk, other = _record_patterns(rows, cols)
    return re.compile(b"(?:" + cells + b"|" + mul_rk + b"|" + other + b")*+", re.DOTALL)


@functools.lru_cache(maxsize=8)
def _counters(rows: tuple[int, int], cols: tuple[int, int]) -> tuple[re.Pattern[bytes], re.Pattern[bytes]]:
    """Over a run: each match of the first ends at a one-cell record (a byte captured) or at the run's end (nothing
    captured); each match of the second at a MulRk (its size captured) or at the run's end."""
    cells, mul_rk, other = _record_patterns(rows, cols)
    one = re.compile(b"(?:" + mul_rk + b"|" + other + b")*+(?:(?=(.))(?:" + cells + b")|\\Z)", re.DOTALL)
    many = re.compile(b"(?:" + cells + b"|" + other + b")*+(?:(?=..(..))" + mul_rk + b"|\\Z)", re.DOTALL)
    return one, many


def _cells_in(stream: bytes, start: int, end: int, box: tuple[tuple[int, int], tuple[int, int]]) -> int:
    """The cells of the run stream[start:end] (a MulRk holds several), counted at C speed but for each MulRk."""
    one, many = _counters(*box)
    singles = one.findall(stream, start, end)
    sizes = many.findall(stream, start, end)
    return len(singles) - singles.count(b"") + sum((int.from_bytes(size, "little") - 6) // 6 for size in sizes if size)


def _record_patterns(rows: tuple[int, int], cols: tuple[int, int]) -> tuple[bytes, bytes, bytes]:
    """One record of a run: a one-cell record inside the box, a MulRk inside it, any other the walker leaves."""
    row, col = le_between(*rows, 2), le_between(*cols, 2)
    cells = [
        re_bytes(kind.to_bytes(2, "little")) + sized(sizes[:1], sizes[1:], 2, row + col, 4)
        for kind, sizes in _RUN_SIZES.items()
    ]
    mul_rk = (
        re_bytes(MUL_RK.to_bytes(2, "little"))
        + b"(?:"
        + b"|".join(_mul_rk(count, row, cols) for count in range(1, 42))
        + b")"
    )
    acted_on = b"|".join(re_bytes(kind.to_bytes(2, "little")) for kind in _ACTED_ON)
    other = b"(?!" + acted_on + b")" + ANY + ANY + sized([], range(256), 2, b"", 0)
    return b"(?:" + b"|".join(cells) + b")", mul_rk, other


def _mul_rk(count: int, row: bytes, cols: tuple[int, int]) -> bytes:
    """A MulRk of `count` cells from a first column to a last one, both inside the box."""
    size = 6 + 6 * count
    if cols[0] + count - 1 > cols[1]:
        return b"(?!)"
    first = le_between(cols[0], cols[1] - count + 1, 2)
    return (
        re_bytes(size.to_bytes(2, "little"))
        + row
        + first
        + ANY
        + b"{%d}" % (6 * count)
        + le_between(cols[0] + count - 1, cols[1], 2)
    )
