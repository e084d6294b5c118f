"""Numbers an xls or xlsb sheet shows zero-padded by their number format (`000000`, `"No."0000`, `0000;-0000`: the
rule of app.ingest.padding_format): the cells
app.ingest.xlsx_padded finds in an xlsx, found in the binary records, read as the text the sheet shows.

python-calamine (0.9) exposes no number format for any kind of workbook, so the formats are read here: an xls's
FORMAT and XF records in the workbook globals, an xlsb's BrtFmt and BrtXF records in xl/styles.bin. Only when one
of its formats pads is the sheet walked, record by record, for the number cells styled with one (an xls's Number,
RK, MulRk and Formula records; an xlsb's BrtCellRk, BrtCellReal and BrtFmlaNum). An ods's number styles are read
by app.ingest.ods_padded.
"""

from __future__ import annotations

import struct
import zipfile

from app.ingest.biff_errors import xls_globals, xls_sheet_records
from app.ingest.ods_padded import ods_padded_cells
from app.ingest.ole import WORKBOOK_STREAMS, read_stream
from app.ingest.padding_format import Padding, padding
from app.ingest.xlsb_records import XLSB_STYLES, xlsb_records, xlsb_sheet_member
from app.ingest.xlsx_padded import PaddedCells, add_cell, padded_cells
from app.ingest.xlsx_parts import part

#: (1-based column) → runs of (first row, last row, format), as PaddedCells holds them.
Runs = dict[int, list[tuple[int, int, Padding]]]
#: xls: Number, RK and Formula records (row, column, XF index first), and MulRk (row, first column, (XF, RK)...).
_XLS_CELLS, _XLS_MULRK = frozenset({0x0203, 0x027E, 0x0006}), 0x00BD
#: xlsb: BrtCellRk, BrtCellReal and BrtFmlaNum (column, then the style in the low 24 bits of the next four bytes).
_XLSB_CELLS = frozenset({0x02, 0x05, 0x09})


def workbook_padded_cells(path: str, kind: str, index: int, *, max_bytes: int | None = None) -> PaddedCells | None:
    """The cells of sheet `index` of the workbook at `path` styled with a padding format (app.ingest.xlsx_padded),
    for an xlsx, xlsm, xls, xlsb or ods (app.ingest.ods_padded); None when there are none or the file cannot be read
    so (calamine then says what is wrong with it). `max_bytes`: of the sheet read at most (the preview's bound)."""
    if kind == "ods":
        return ods_padded_cells(path, index, max_bytes=max_bytes)
    if kind not in ("xls", "xlsb"):
        return padded_cells(path, kind, index, max_bytes=max_bytes)
    try:
        runs = _xls(path, index, max_bytes) if kind == "xls" else _xlsb(path, index, max_bytes)
    except (OSError, KeyError, IndexError, ValueError, struct.error, zipfile.BadZipFile, zipfile.LargeZipFile):
        return None
    return PaddedCells(runs) if runs else None


def _xls(path: str, index: int, max_bytes: int | None) -> Runs:
    stream = read_stream(path, WORKBOOK_STREAMS)
    if stream is None:
        return {}
    formats: dict[int, Padding] = {}
    xfs: list[int] = []
    starts: list[int] = []
    for kind, body, size in xls_globals(stream):
        if kind == 0x041E and size >= 5:  # Format: ifmt, then an XLUnicodeString (cch, flags, characters)
            ifmt, count, flags = struct.unpack_from("<HHB", stream, body)
            chars = stream[body + 5 : body + size]
            code = chars[: 2 * count].decode("utf-16-le") if flags & 1 else chars[:count].decode("latin-1")
            if (found := padding(code)) is not None:
                formats[ifmt] = found
        elif kind == 0x00E0 and size >= 4:  # XF: its position is the cells' XF index; ifmt after the font
            xfs.append(struct.unpack_from("<H", stream, body + 2)[0])
        elif kind == 0x0085 and size >= 4:  # BoundSheet8: where the sheet's substream starts
            starts.append(struct.unpack_from("<I", stream, body)[0])
    styles = {position: formats[ifmt] for position, ifmt in enumerate(xfs) if ifmt in formats}
    if not styles or index >= len(starts):
        return {}
    return _xls_sheet(stream, starts[index], styles, max_bytes)


def _xls_sheet(stream: bytes, pos: int, styles: dict[int, Padding], max_bytes: int | None) -> Runs:
    """Walk one sheet substream (embedded chart substreams skipped, as calamine does) for cells of `styles`."""
    runs: Runs = {}
    count = 0
    for kind, body, size in xls_sheet_records(stream, pos, None if max_bytes is None else pos + max_bytes):
        if kind in _XLS_CELLS and size >= 6:
            row, column, xf = struct.unpack_from("<HHH", stream, body)
            if xf in styles:
                count = add_cell(runs, column + 1, row + 1, styles[xf], count)
        elif kind == _XLS_MULRK and size >= 6:
            row, first = struct.unpack_from("<HH", stream, body)
            for at in range((size - 6) // 6):
                xf = struct.unpack_from("<H", stream, body + 4 + 6 * at)[0]
                if xf in styles:
                    count = add_cell(runs, first + at + 1, row + 1, styles[xf], count)
    return runs


def _xlsb(path: str, index: int, max_bytes: int | None) -> Runs:
    with zipfile.ZipFile(path) as archive:
        if (styles_part := part(archive, XLSB_STYLES)) is None:
            return {}
        styles = _xlsb_styles(archive.read(styles_part))
        member = xlsb_sheet_member(archive, index) if styles else None
        if member is None:
            return {}
        with archive.open(member) as handle:
            data = handle.read(-1 if max_bytes is None else max_bytes)
    runs: Runs = {}
    count, row = 0, 0
    records = xlsb_records(data)
    while True:
        try:
            kind, body, size = next(records)
        except (StopIteration, IndexError):  # the end, or a record header cut by the preview's bound
            break
        if body + size > len(data):  # a record cut by the preview's bound
            break
        if kind == 0x00 and size >= 4:  # BrtRowHdr
            row = struct.unpack_from("<I", data, body)[0]
        elif kind in _XLSB_CELLS and size >= 8:
            column, style = struct.unpack_from("<II", data, body)
            if (style & 0xFFFFFF) in styles:
                count = add_cell(runs, column + 1, row + 1, styles[style & 0xFFFFFF], count)
        elif kind == 0x92:  # BrtEndSheetData
            break
    return runs


def _xlsb_styles(book: bytes) -> dict[int, Padding]:
    """By cell style index (position among the BrtXF records of BrtBeginCellXFs), the padding format it shows."""
    formats: dict[int, Padding] = {}
    styles: dict[int, Padding] = {}
    position, in_cell_xfs = 0, False
    for kind, body, size in xlsb_records(book):
        if kind == 0x2C and size >= 6:  # BrtFmt: ifmt, then an XLWideString (count, UTF-16 characters)
            ifmt, count = struct.unpack_from("<HI", book, body)
            if (found := padding(book[body + 6 : body + 6 + 2 * count].decode("utf-16-le"))) is not None:
                formats[ifmt] = found
        elif kind == 0x269:  # BrtBeginCellXFs
            in_cell_xfs, position = True, 0
        elif kind == 0x26A:  # BrtEndCellXFs
            break
        elif kind == 0x2F and in_cell_xfs and size >= 4:  # BrtXF: ixfeParent, iFmt
            ifmt = struct.unpack_from("<H", book, body + 2)[0]
            if ifmt in formats:
                styles[position] = formats[ifmt]
            position += 1
    return styles
