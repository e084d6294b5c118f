"""Where an .xls or .xlsb sheet has formula error cells (#N/A, #DIV/0!, …), read from its binary records.

calamine reads these cells (xls: BoolErr and Formula records, xlsb: BrtCellError) as an error value that
python-calamine turns into an empty string, and skips an xlsb formula whose result is an error (BrtFmlaError)
altogether; neither says which cells they were. So the records are walked here for the positions and codes
(app.ingest.sheet_errors puts the texts back into the rows). A byte search at C speed comes first: a sheet
with no record shaped like an error cell (nearly every sheet) is never walked record by record in Python.
"""

from __future__ import annotations

import re
import struct
import zipfile
from collections.abc import Iterator

from app.ingest.ole import WORKBOOK_STREAMS, read_stream
from app.ingest.xlsb_records import xlsb_records, xlsb_sheet_member

#: The text Excel shows for each BIFF (xls and xlsb alike) error code.
ERROR_TEXTS = {
    0x00: "#NULL!",
    0x07: "#DIV/0!",
    0x0F: "#VALUE!",
    0x17: "#REF!",
    0x1D: "#NAME?",
    0x24: "#NUM!",
    0x2A: "#N/A",
    0x2B: "#GETTING_DATA",
}
#: (0-based row, 0-based column) → the error's text.
Errors = dict[tuple[int, int], str]

_CODES = rb"[\x00\x07\x0f\x17\x1d\x24\x2a\x2b]"
#: xls: a BoolErr record holding an error (fError = 1), or a Formula record whose cached result is an error.
_XLS_CANDIDATE = re.compile(
    rb"\x05\x02\x08\x00[\s\S]{6}" + _CODES + rb"\x01"
    rb"|\x06\x00[\s\S]{8}\x02[\s\S]" + _CODES + rb"[\s\S]{3}\xff\xff"
)
#: xlsb: BrtCellError (type 3, 9 bytes) or BrtFmlaError (type 11, 19 bytes or more, its flags' high byte and
#: the formula's length's high bytes 0): the record's type and size, then the cell (a column < 16384, a style,
#: a flags byte of 0 or 1) and the code.
_XLSB_CANDIDATE = re.compile(
    rb"(?:\x03\x09|\x0b(?:[\x13-\x7f]|[\x80-\xff]{1,3}[\x00-\x7f]))[\s\S][\x00-\x3f]\x00\x00[\s\S]{3}[\x00\x01]"
    + _CODES
    + rb"(?:[\s\S]\x00[\s\S]{2}\x00\x00)?"
)


def error_cells(path: str, kind: str, index: int) -> Errors:
    """The formula error cells of sheet `index` of an xls/xlsb workbook (empty for other kinds, or when the
    file cannot be read this way: calamine then reports what is wrong with it)."""
    try:
        if kind == "xls":
            return _xls(path, index)
        if kind == "xlsb":
            return _xlsb(path, index)
    except (OSError, KeyError, IndexError, ValueError, struct.error, zipfile.BadZipFile, zipfile.LargeZipFile):
        pass
    return {}


def _xls(path: str, index: int) -> Errors:
    stream = read_stream(path, WORKBOOK_STREAMS)
    if stream is None:
        return {}
    # the workbook globals: where each sheet's substream starts (BoundSheet8)
    starts = [struct.unpack_from("<I", stream, body)[0] for kind, body, _ in xls_globals(stream) if kind == 0x0085]
    if index >= len(starts):
        return {}
    start = starts[index]
    end = min([s for s in starts if s > start], default=len(stream))
    if not _XLS_CANDIDATE.search(stream, start, end):
        return {}
    return _xls_sheet(stream, start)


def xls_globals(stream: bytes) -> Iterator[tuple[int, int, int]]:
    """(type, where its body starts, its size) of each BIFF8 record of an xls's workbook globals (up to their EOF)."""
    pos = 0
    while pos + 4 <= len(stream):
        kind, size = struct.unpack_from("<HH", stream, pos)
        if kind == 0x000A:
            return
        yield kind, pos + 4, size
        pos += 4 + size


def xls_sheet_records(stream: bytes, pos: int, end: int | None = None) -> Iterator[tuple[int, int, int]]:
    """(type, where its body starts, its size) of each record of the sheet substream at `pos` (up to `end`), as
    calamine reads it: embedded chart substreams skipped."""
    depth, seen_bof = 0, False
    end = len(stream) if end is None else min(end, len(stream))
    while pos + 4 <= end:
        kind, size = struct.unpack_from("<HH", stream, pos)
        body, pos = pos + 4, pos + 4 + size
        if kind == 0x0809:
            depth += seen_bof
            seen_bof = True
        elif kind == 0x000A:
            if not depth:
                return
            depth -= 1
        elif not depth:
            yield kind, body, size


def _xls_sheet(stream: bytes, pos: int) -> Errors:
    """Walk one sheet substream for error cells."""
    found: Errors = {}
    for kind, body, size in xls_sheet_records(stream, pos):
        if kind == 0x0205 and size >= 8 and stream[body + 7] == 1:  # BoolErr holding an error
            row, col = struct.unpack_from("<HH", stream, body)
            _put(found, row, col, stream[body + 6])
        elif kind == 0x0006 and size >= 20 and stream[body + 6] == 2 and stream[body + 12 : body + 14] == b"\xff\xff":
            row, col = struct.unpack_from("<HH", stream, body)  # Formula whose cached result is an error
            _put(found, row, col, stream[body + 8])
    return found


def _xlsb(path: str, index: int) -> Errors:
    with zipfile.ZipFile(path) as archive:
        member = xlsb_sheet_member(archive, index)
        if member is None:
            return {}
        data = archive.read(member)
    if not _XLSB_CANDIDATE.search(data):
        return {}
    found: Errors = {}
    row = 0
    for kind, body, size in xlsb_records(data):
        if kind == 0x00:  # BrtRowHdr
            row = struct.unpack_from("<I", data, body)[0]
        elif kind in (0x03, 0x0B) and size >= 9:  # BrtCellError, BrtFmlaError
            _put(found, row, struct.unpack_from("<I", data, body)[0], data[body + 8])
        elif kind == 0x92:  # BrtEndSheetData
            break
    return found


def _put(found: Errors, row: int, col: int, code: int) -> None:
    text = ERROR_TEXTS.get(code)
    if text is not None:
        found[(row, col)] = text
