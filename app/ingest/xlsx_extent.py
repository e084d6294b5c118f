"""The real extent of an xlsx/xlsm sheet, from the cell references in its XML, before calamine loads it.

calamine sizes a sheet's grid from the cells it finds, not from `<dimension>`: a sheet that declares A1:A2 (or
nothing) but holds one cell at XFD1 and one at A1048576 makes it allocate 17 billion cells, and the failed
allocation aborts the whole process (the API's, for a preview). So the sheet's XML is streamed first, bounded by
its size, and the box its cells span is checked against max_workbook_cells.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from typing import NamedTuple

from app.ingest.config import column_index
from app.ingest.errors import UnsupportedMediaType

#: Decompressed bytes read per step.
CHUNK = 1 << 20
#: A tag longer than this is no worksheet's: the part is refused rather than buffered without end.
MAX_TAG_BYTES = 1 << 20

#: The column letters of a cell's reference (`<c r="XFD1">`, the attribute anywhere in the tag: a row's `r` has no
#: letters). The patterns start at the attribute, not at the tag: scanning from each `<` was three times slower.
_CELL_COLUMN = re.compile(rb'[ \t\r\n]r="([A-Z]{1,3})[0-9]')
#: The row number of a cell's reference.
_CELL_ROW = re.compile(rb'[ \t\r\n]r="[A-Z]{1,3}([0-9]{1,7})"')
#: The number of a row whose first child is a cell: its cells without a reference of their own are in it (an empty
#: formatted row, `<row r="900" ht="20"/>`, holds no cell and does not count).
_ROW_WITH_CELLS = re.compile(rb'[ \t\r\n]r="([0-9]{1,7})"[^>]*(?<!/)>\s*<(?:\w+:)?c[\s>/]')


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


def sheet_extent(path: str, member: str) -> Extent | None:
    """The extent of the sheet in zip member `member`, or None when the part cannot be read (calamine says why)."""
    rows: list[int] = []
    columns: set[bytes] = set()
    try:
        for data in whole_tags(path, member):
            columns.update(_CELL_COLUMN.findall(data))
            numbers = [int(n) for n in {*_CELL_ROW.findall(data), *_ROW_WITH_CELLS.findall(data)}]
            rows += [min(numbers), max(numbers)] if numbers else []
    except UNREADABLE:
        return None
    if not rows:
        return Extent(0, 0)
    indices = [column_index(letters.decode()) for letters in columns] or [1]
    return Extent(max(rows) - min(rows) + 1, max(indices) - min(indices) + 1)
