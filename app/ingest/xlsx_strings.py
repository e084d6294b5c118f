"""A cut sheet's own shared-strings table: only the strings its rows use, renumbered from 0.

Opening an xlsx reads its whole shared-strings part first; a million-row workbook has a million strings
there, seconds to read on every preview even when the sheet itself was cut to a thousand rows
(app.ingest.xlsx_head). The cut copy gets a table of the few strings its rows point at, and its cells
point at their new places. The original table is streamed only up to the last string used (strings
are stored in order of first use, so for the first rows that is near the start). Anything unexpected
gives None and the copy keeps the original table.
"""

from __future__ import annotations

import re
import zipfile

from app.ingest.xlsx_parts import part
from app.ingest.xml_text_cap import TextCap

#: The part calamine (0.9) reads its shared strings from, by that name (its case ignored), whatever the workbook's
#: relationships name: a preview capped and cut the part they named, a decoy, while calamine read this one whole.
CALAMINE_STRINGS = "xl/sharedStrings.xml"
#: Compressed-part bytes read per step.
CHUNK = 1 << 20

_STRING_CELL = re.compile(rb"(<(?:\w+:)?c\b[^>]*?\st=\"s\"[^>]*>\s*<(?:\w+:)?v>)(\d+)(</(?:\w+:)?v>)")
_STRING_CELL_TAG = re.compile(rb"<(?:\w+:)?c\b[^>]*?\st=\"s\"[^>]*(?<!/)>")
_ITEM = re.compile(rb"<(?:\w+:)?si\b[^>]*?/>|<(?:\w+:)?si\b[^>]*>.*?</(?:\w+:)?si>", re.DOTALL)
_TABLE_START = re.compile(rb"<((?:\w+:)?)sst\b[^>]*>")
_COUNTS = re.compile(rb"\s(?:count|uniqueCount)=\"\d+\"")


def shared_strings_member(source: zipfile.ZipFile) -> str | None:
    """The member calamine reads the workbook's shared strings from (CALAMINE_STRINGS, its case ignored), whatever
    its relationships name; None when there is none."""
    return part(source, CALAMINE_STRINGS)


def own_strings(
    source: zipfile.ZipFile, member: str, sheet: bytes, cap: TextCap | None = None
) -> tuple[bytes, bytes] | None:
    """(`sheet` pointing into a new table, that table) holding only the strings `sheet` uses, or None.

    With `cap`, the table is read through it: a 50 MB string is never held whole."""
    used = sorted({int(m[2]) for m in _STRING_CELL.finditer(sheet)})
    if len(_STRING_CELL_TAG.findall(sheet)) != len(_STRING_CELL.findall(sheet)):
        return None  # a string cell shaped otherwise: its index could not be moved
    table = _read_items(source, member, set(used), used[-1] if used else -1, cap)
    if table is None:
        return None
    start, items = table
    if len(items) != len(used):
        return None  # an index past the table's end: leave the workbook as it was
    place = {old: new for new, old in enumerate(used)}
    moved = _STRING_CELL.sub(lambda m: m[1] + str(place[int(m[2])]).encode() + m[3], sheet)
    prefix = _TABLE_START.match(start)
    if prefix is None:
        return None
    close = b"</" + prefix[1] + b"sst>"
    return moved, _COUNTS.sub(b"", start) + b"".join(items) + close


def _read_items(
    source: zipfile.ZipFile, member: str, wanted: set[int], last: int, cap: TextCap | None = None
) -> tuple[bytes, list[bytes]] | None:
    """The table's start tag and its items numbered in `wanted`, reading no further than item `last`."""
    items: list[bytes] = []
    start: bytes | None = None
    index = 0
    pending = b""
    with source.open(member) as handle:
        while index <= last:
            raw = handle.read(CHUNK)
            chunk = raw if cap is None else cap.feed(raw) if raw else cap.close()
            data = pending + chunk
            if start is None:
                found = _TABLE_START.search(data)
                if found is None:
                    if not raw or len(data) > CHUNK:
                        return None
                    pending = data
                    continue
                start, data = data[found.start() : found.end()], data[found.end() :]
            end = 0
            for match in _ITEM.finditer(data):
                if index in wanted:
                    items.append(match[0])
                index += 1
                end = match.end()
                if index > last:
                    break
            pending = data[end:]
            if not raw:
                break
    return (start, items) if start is not None else None
