"""An ods number cell whose literal no double holds (`office:value="1e-400"`, `"1e400"`): the CSV and xlsx rule
(app.ingest.sheet_range) for ods sheets. calamine read 1e-400 as 0 with nothing said.

A cell's place in an ods needs its row and column repeats counted, which costs a walk over every tag in Python
(app.ingest.ods_padded): content.xml is first searched in C for such a literal (`number_range.may_hold_exponent`
a chunk, a regex over a chunk it flags), and walked only when one is there. An import (and a preview) searches it
in the pass that already streams content.xml for formula error cells (`OdsLiterals`, fed by
app.ingest.xlsx_errors.error_text_copy): a second decompression of it only to find none cost as much again.
"""

from __future__ import annotations

import re

from app.ingest.number_range import may_hold_exponent, out_of_range
from app.ingest.ods_extent import COLUMNS_REPEATED, ROWS_REPEATED
from app.ingest.xlsx_copy import HeldBack
from app.ingest.xlsx_extent import MAX_TAG_BYTES, UNREADABLE, whole_tags

_VALUE = re.compile(rb'\soffice:value="([^"]*)"')
_TAG = re.compile(rb"<(/?)table:(table|table-row|table-cell|covered-table-cell)(?=[\s/>])([^>]*?)(/?)>")
#: Cells kept at most (as sheet_range's), and repeats of one placed at most.
MAX_FOUND = 10_000


def _literal(attributes: bytes) -> str | None:
    """The cell's office:value when no double holds it."""
    value = _VALUE.search(attributes)
    return value[1].strip().decode() if value is not None and out_of_range(value[1].strip()) else None


class OdsLiterals(HeldBack):
    """Fed content.xml in chunks (left unchanged), says whether its first `max_bytes` (None: all) hold a number
    literal no double holds (`seen`), so the walk that places them runs only then, and content.xml is not
    decompressed a second time to find that there is none."""

    def __init__(self, max_bytes: int | None = None) -> None:
        self.max_bytes, self.read, self.seen = max_bytes, 0, False

    @property
    def changed(self) -> bool:
        return False

    @property
    def done(self) -> bool:
        """Whether more of content.xml would change nothing: one is seen, or `max_bytes` are read."""
        return self.seen or (self.max_bytes is not None and self.read >= self.max_bytes)

    def feed(self, chunk: bytes) -> bytes:
        """Look at `chunk` after the ones fed before, up to the last whole tag (the rest is held for the next)."""
        if self.done:
            return chunk
        data = self._held + chunk
        cut = data.rfind(b"<")
        if cut < 0 or data.find(b">", cut) >= 0:
            cut = len(data)
        self._edit(data[:cut])
        self._held = data[cut:] if len(data) - cut <= MAX_TAG_BYTES else b""
        return chunk

    def _edit(self, data: bytes) -> bytes:
        self.seen = self.seen or _any_literal(data)
        self.read += len(data)
        return data


def ods_out_of_range(
    path: str, index: int, max_bytes: int | None = None, *, seen: bool | None = None
) -> dict[tuple[int, int], str]:
    """Sheet `index`'s number cells whose literal no double holds, by (row, column) from 1, over at most
    `max_bytes` of content.xml (None: all of it); {} when there are none or it cannot be read (calamine says why).
    `seen`: whether content.xml holds any, as an `OdsLiterals` of the same `max_bytes` found (None: look)."""
    try:
        if seen is None:
            checked = OdsLiterals(max_bytes)
            for data in whole_tags(path, "content.xml"):
                checked.feed(data)
                if checked.done:
                    break
            seen = checked.seen
        return _placed(path, index, max_bytes) if seen else {}
    except UNREADABLE:
        return {}


def _any_literal(data: bytes) -> bool:
    """Whether `data` (whole tags) holds a number literal no double holds (a C search first)."""
    return may_hold_exponent(data) and any(out_of_range(m[1].strip()) for m in _VALUE.finditer(data))


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
