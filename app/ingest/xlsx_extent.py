"""The real extent of an xlsx/xlsm sheet, from the cell references in its XML, before calamine loads it.

calamine sizes a sheet's grid from the cells it finds, not from `<dimension>`: a sheet that declares A1:A2 (or
nothing) but holds one cell at XFD1 and one at A1048576 makes it allocate 17 billion cells, and the failed
allocation aborts the whole process (the API's, for a preview). So the sheet's XML is streamed first, bounded by
its size, and the box its cells span is checked against max_workbook_cells.

Most sheets are checked without that scan's work per cell (about as much CPU as calamine's whole load: 1.5 CPU-s
for a 200,000 x 10 sheet): `declared_extent` finds, in one regex search over the XML, any cell written otherwise
than Excel writes it (`<c r="B7"`) or outside the sheet's `<dimension>`; finding none, the declared box bounds
what calamine will allocate.
"""

from __future__ import annotations

import contextlib
import itertools
import re
import zipfile
from collections.abc import Iterator
from typing import NamedTuple

from app.ingest.config import column_index
from app.ingest.errors import LimitExceeded, UnsupportedMediaType

#: Decompressed bytes read per step.
CHUNK = 1 << 20
#: A tag longer than this is no worksheet's: the part is refused rather than buffered without end.
MAX_TAG_BYTES = 1 << 20

#: The column letters of a cell's reference (`<c r="XFD1">`, the attribute anywhere in the tag: a row's `r` has no
#: letters). The patterns start at the attribute, not at the tag: scanning from each `<` was three times slower.
_CELL_COLUMN = re.compile(rb'[ \t\r\n]r="([A-Z]+)[0-9]')
#: The row number of a cell's reference.
_CELL_ROW = re.compile(rb'[ \t\r\n]r="[A-Z]+([0-9]+)"')
#: The number of a row whose first child is a cell: its cells without a reference of their own are in it (an empty
#: formatted row, `<row r="900" ht="20"/>`, holds no cell and does not count).
_ROW_WITH_CELLS = re.compile(rb'[ \t\r\n]r="([0-9]+)"[^>]*(?<!/)>\s*<(?:\w+:)?c[\s>/]')

#: A sheet's declared box, `<dimension ref="B2:J200001"/>` (one cell's reference when it holds one cell).
DIMENSION = re.compile(rb'<(?:\w+:)?dimension\s+ref="([A-Z]+[0-9]+)(?::([A-Z]+[0-9]+))?"')
#: A cell tag with a namespace prefix (`<x:c r="A1">`), which the fast check does not read: the scan does.
_PREFIXED_CELL = re.compile(rb":c[\s/>]")
#: Any cell tag, counted by the scan (the fast check counts `<c r="`: it has found no cell written otherwise).
_CELL_TAG = re.compile(rb"<(?:\w+:)?c[\s/>]")
_LETTERS, _DIGITS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "0123456789"


class Extent(NamedTuple):
    """Rows and columns of the box the sheet's cells span (0 x 0 for a sheet with none)."""

    rows: int
    columns: int


def whole_tags(path: str, member: str) -> Iterator[bytes]:
    """The zip member's bytes in steps of about CHUNK, each cut after a whole tag, so no pattern over tags misses
    one split between two steps. A tag past MAX_TAG_BYTES is no worksheet's: corrupt_file."""
    with zipfile.ZipFile(path) as archive, archive.open(member) as handle:
        rest = b""
        while True:
            chunk = handle.read(CHUNK)
            data = rest + chunk
            cut = data.rfind(b"<") if chunk else len(data)
            if cut < 0 or data.find(b">", cut) >= 0:
                cut = len(data)
            data, rest = data[:cut], data[cut:]
            if len(rest) > MAX_TAG_BYTES:
                raise UnsupportedMediaType(
                    f"the sheet's XML holds a tag longer than {MAX_TAG_BYTES} bytes: the file is damaged",
                    code="corrupt_file",
                )
            yield data
            if not chunk:
                return


#: What reading a workbook part may raise when the file is no zip, or lacks the part (calamine then says why).
UNREADABLE = (KeyError, OSError, zipfile.BadZipFile, zipfile.LargeZipFile, RuntimeError, EOFError)


def too_many_records(max_cells: int) -> LimitExceeded:
    """The refusal of a sheet holding more cell records than max_workbook_cells, whatever box they span."""
    return LimitExceeded(
        f"the sheet holds more than {max_cells} cell records (calamine keeps each one, several at one position "
        f"too), over max_workbook_cells={max_cells}; the file is damaged, or save the sheet as CSV (no cell limit) "
        "and import that"
    )


def sheet_extent(path: str, member: str, max_cells: int | None = None) -> Extent | None:
    """The extent of the sheet in zip member `member`, or None when the part cannot be read (calamine says why).
    With `max_cells`, a sheet of more cell tags than that is refused (too_many_records) as they stream."""
    rows: list[int] = []
    columns: set[bytes] = set()
    records = 0
    try:
        for data in whole_tags(path, member):
            records += len(_CELL_TAG.findall(data)) if max_cells is not None else 0
            if max_cells is not None and records > max_cells:
                raise too_many_records(max_cells)
            columns.update(_CELL_COLUMN.findall(data))
            numbers = [int(n) for n in {*_CELL_ROW.findall(data), *_ROW_WITH_CELLS.findall(data)}]
            rows += [min(numbers), max(numbers)] if numbers else []
    except UNREADABLE:
        return None
    if not rows:
        return Extent(0, 0)
    indices = [column_index(letters.decode()) for letters in columns] or [1]
    return Extent(max(rows) - min(rows) + 1, max(indices) - min(indices) + 1)


def declared_extent(path: str, member: str, max_cells: int | None = None) -> Extent | None:
    """The box the sheet's `<dimension>` declares, when every cell is written `<c r="B7"` inside it (then calamine
    allocates at most that box); None when there is no dimension, a cell lies outside it or is written otherwise
    (a cell without a reference is placed by counting, a prefixed one is not seen here): sheet_extent decides.

    With `max_cells`, a sheet of more cells than that is refused (too_many_records) whatever box they span:
    calamine keeps each cell, several at one position too (10 million `<c r="A1">` in a sheet declaring A1 took
    it to 605 MB)."""
    try:
        with contextlib.closing(whole_tags(path, member)) as chunks:
            first = next(chunks, b"")
            declared = DIMENSION.search(first)
            if declared is None:
                return None
            corners = [_corner(ref.decode()) for ref in (declared[1], declared[2] or declared[1])]
            if None in corners:
                return None
            (col_a, row_a), (col_b, row_b) = corners  # type: ignore[misc]
            low_col, high_col = sorted((col_a, col_b), key=column_index)
            low_row, high_row = sorted((row_a, row_b))
            escaped = _escape_pattern(low_col, high_col, str(low_row), str(high_row))
            records = 0
            for data in itertools.chain([first], chunks):
                if escaped.search(data) or _PREFIXED_CELL.search(data):
                    return None
                records += data.count(b'<c r="')  # every cell is written so, or `escaped` found it
                if max_cells is not None and records > max_cells:
                    raise too_many_records(max_cells)
    except UNREADABLE:
        return None
    return Extent(high_row - low_row + 1, column_index(high_col) - column_index(low_col) + 1)


def _corner(ref: str) -> tuple[str, int] | None:
    letters = ref.rstrip(_DIGITS)
    row = int(ref[len(letters) :])
    return (letters, row) if row >= 1 else None


def _escape_pattern(low_col: str, high_col: str, low_row: str, high_row: str) -> re.Pattern[bytes]:
    """A cell tag that is not `<c r="` + a reference inside the box: `<c>`, `<c t="s">` (no reference first), or
    a reference that is malformed or outside (a row with a leading zero counts as outside)."""
    columns = within(low_col, high_col, _LETTERS, _LETTERS)
    rows = within(low_row, high_row, _DIGITS, _DIGITS[1:])
    return re.compile(rf'<c(?:[\t\n\r/>]| (?!r=")| r="(?!{columns}{rows}"))'.encode())


def within(low: str, high: str, alphabet: str, first: str) -> str:
    """A pattern for a numeral in [low, high], written in `alphabet` with its first character from `first` (no
    leading zero). Excel's column letters are such numerals too: base 26 with no zero."""
    if len(low) == len(high):
        return _between(low, high, first, alphabet)
    parts = [_between(low, alphabet[-1] * len(low), first, alphabet)]
    if len(high) - len(low) > 1:
        parts.append(f"[{first}][{alphabet}]{{{len(low)},{len(high) - 2}}}")
    parts.append(_between(first[0] + alphabet[0] * (len(high) - 1), high, first, alphabet))
    return "(?:" + "|".join(parts) + ")"


def _between(low: str, high: str, chars: str, alphabet: str) -> str:
    """Numerals as long as `low` and `high` between them, the first character from `chars`, the rest `alphabet`."""
    if not low:
        return ""
    if low[0] == high[0]:
        return low[0] + _between(low[1:], high[1:], alphabet, alphabet)
    rest = f"[{alphabet}]{{{len(low) - 1}}}" if len(low) > 1 else ""
    lowest, highest = alphabet[0] * (len(low) - 1), alphabet[-1] * (len(low) - 1)
    if low[1:] == lowest and high[1:] == highest:  # every tail: one class (`[1-3][0-9]{4}`), not a tree of them
        return f"[{chars[chars.index(low[0]) : chars.index(high[0]) + 1]}]{rest}"
    middle = chars[chars.index(low[0]) + 1 : chars.index(high[0])]
    parts = [low[0] + _between(low[1:], highest, alphabet, alphabet)]
    parts += [f"[{middle}]{rest}"] if middle else []
    parts.append(high[0] + _between(lowest, high[1:], alphabet, alphabet))
    return "(?:" + "|".join(parts) + ")"
