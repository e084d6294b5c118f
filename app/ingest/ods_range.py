"""An ods number cell whose literal no double holds (`office:value="1e-400"`, `"1e400"`): the CSV and xlsx rule
(app.ingest.sheet_range) for ods sheets. calamine read 1e-400 as 0 with nothing said.

A cell's place in an ods needs its row and column repeats counted, which costs a walk over every tag in Python
(app.ingest.ods_padded): content.xml is first searched in C for such a literal (`number_range.may_hold_exponent`
a chunk, a regex over a chunk it flags), and walked only when one is there.
"""

from __future__ import annotations

import re

from app.ingest.number_range import may_hold_exponent, out_of_range
from app.ingest.ods_extent import COLUMNS_REPEATED, ROWS_REPEATED
from app.ingest.xlsx_extent import UNREADABLE, whole_tags

_VALUE = re.compile(rb'\soffice:value="([^"]*)"')
_TAG = re.compile(rb"<(/?)table:(table|table-row|table-cell|covered-table-cell)(?=[\s/>])([^>]*?)(/?)>")
#: Cells kept at most (as sheet_range's), and repeats of one placed at most.
MAX_FOUND = 10_000


def _literal(attributes: bytes) -> str | None:
    """The cell's office:value when no double holds it."""
    value = _VALUE.search(attributes)
    return value[1].strip().decode() if value is not None and out_of_range(value[1].strip()) else None


def ods_out_of_range(path: str, index: int, max_bytes: int | None = None) -> dict[tuple[int, int], str]:
    """Sheet `index`'s number cells whose literal no double holds, by (row, column) from 1, over at most
    `max_bytes` of content.xml (None: all of it); {} when there are none or it cannot be read (calamine says why)."""
    try:
        if not _any_literal(path, max_bytes):
            return {}
        return _placed(path, index, max_bytes)
    except UNREADABLE:
        return {}


def _any_literal(path: str, max_bytes: int | None) -> bool:
    read = 0
    for data in whole_tags(path, "content.xml"):
        if may_hold_exponent(data) and any(out_of_range(m[1].strip()) for m in _VALUE.finditer(data)):
            return True
        read += len(data)
        if max_bytes is not None and read >= max_bytes:
            break
    return False


def _placed(path: str, index: int, max_bytes: int | None) -> dict[tuple[int, int], str]:
    found: dict[tuple[int, int], str] = {}
    sheet, row, column, repeat, read = -1, 0, 0, 1, 0
    for data in whole_tags(path, "content.xml"):
        for closing, name, attributes, empty in _TAG.findall(data):
            if name == b"table":
                if closing and sheet == index:
                    return found
                if not closing:
                    sheet, row = sheet + 1, 0
            elif sheet != index:
                continue
            elif name == b"table-row":
                if not closing:
                    rows = ROWS_REPEATED.search(attributes)
                    repeat, column = int(rows[1]) if rows else 1, 0
                if closing or empty:
                    row += repeat
            elif not closing:
                columns = COLUMNS_REPEATED.search(attributes)
                width = int(columns[1]) if columns else 1
                if (value := _literal(attributes)) is not None:
                    for r in range(row + 1, row + min(repeat, MAX_FOUND) + 1):
                        for c in range(column + 1, column + min(width, MAX_FOUND) + 1):
                            found[(r, c)] = value
                    if len(found) >= MAX_FOUND:
                        return found
                column += width
        read += len(data)
        if max_bytes is not None and read >= max_bytes:
            break
    return found
