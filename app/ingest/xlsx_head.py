"""The first rows of one xlsx/xlsm sheet as a small workbook of its own, so a preview need not load the sheet.

calamine reads a whole sheet before giving back its first row; for a
million-row sheet that is seconds. A preview needs a few hundred rows, so it
reads a copy of the workbook whose sheet XML stops after them: the sheet's
rows are streamed until the last row kept, `</sheetData>` closes them, and
what follows the rows in the original (merged cells, among others) is
appended; `<dimension>` is rewritten to the rows kept. The shared-strings
table shrinks to the strings the kept rows use (app.ingest.xlsx_strings).
Every other part is copied unchanged (stored, not recompressed). Anything unexpected gives None,
and the caller reads the whole sheet as before.

Either way the copy's cell texts stop after PREVIEW_CELL_CHARS + 1 characters (app.ingest.xml_text_cap): a
preview shows no more, and a sheet with nothing to cut but one 50 MB cell gets a copy for that alone. Its
formula error cells read as their text, as the import reads them (app.ingest.xlsx_errors).
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable
from pathlib import Path

from app.ingest.xlsx_copy import Chain, Edit, edits_anything, write_copy
from app.ingest.xlsx_errors import ErrorCellsAsText
from app.ingest.xlsx_strings import own_strings, shared_strings_member
from app.ingest.xml_text_cap import TextCap

#: Decompressed bytes read per step while streaming a sheet's XML.
CHUNK = 1 << 20
#: A sheet part smaller than this is read whole: cutting it would save nothing.
SMALL_SHEET_BYTES = 4 << 20
#: Characters of a cell's text a preview copy keeps: one more than a preview shows, so it still says it cut them.
CELL_CHARS = 10_001

_ROW_START = re.compile(rb"<(?:\w+:)?row(?=[\s>/])([^>]*)>")
_ROW_NUMBER = re.compile(rb"\br=\"(\d+)\"")
_SHEET_DATA_END = re.compile(rb"</((?:\w+:)?)sheetData>")
_DIMENSION = re.compile(rb"(<(?:\w+:)?dimension\s+ref=\"[A-Z]+[0-9]+:[A-Z]+)([0-9]+)(\")")


def sheet_head(path: str, member: str, last_row: int, dest: Path) -> Path | None:
    """A copy of the workbook at `path` whose sheet `member` keeps rows up to `last_row` (1-based), edited as
    a preview reads it; or, with every row kept, `preview_copy`'s copy; or None when neither is needed."""
    try:
        with zipfile.ZipFile(path) as source:
            info = source.getinfo(member)
            strings = shared_strings_member(source)
            cut = None if info.file_size < SMALL_SHEET_BYTES else _cut_sheet(source, member, last_row)
            if cut is None:
                return preview_copy(path, member, strings, dest)
            replaced = {member: cut}
            own = own_strings(source, strings, cut, TextCap(CELL_CHARS)) if strings in source.NameToInfo else None
            if own is not None and strings is not None:
                replaced = {member: own[0], strings: own[1]}
            streamed = {strings: _strings_edit} if strings is not None and strings not in replaced else {}
            write_copy(source, dest, replaced=replaced, streamed=streamed)
        return dest
    except (KeyError, OSError, zipfile.BadZipFile, zipfile.LargeZipFile, RuntimeError):
        return None


def preview_copy(path: str, sheet: str | None, strings: str | None, dest: Path) -> Path | None:
    """A copy of the workbook as a preview reads it: the sheet's error cells as text (app.ingest.xlsx_errors),
    its and the shared strings' long texts cut; None when nothing would change (it is read as it is)."""
    try:
        with zipfile.ZipFile(path) as source:
            edits: dict[str, Callable[[], Edit]] = {}
            if sheet in source.NameToInfo and edits_anything(source, sheet, _sheet_edit()):
                edits[sheet] = _sheet_edit
            if strings in source.NameToInfo and edits_anything(source, strings, _strings_edit()):
                edits[strings] = _strings_edit
            if not edits:
                return None
            write_copy(source, dest, streamed=edits)
        return dest
    except (KeyError, OSError, zipfile.BadZipFile, zipfile.LargeZipFile, RuntimeError):
        return None


def _sheet_edit() -> Chain:
    return Chain(ErrorCellsAsText(), TextCap(CELL_CHARS))


def _strings_edit() -> TextCap:
    return TextCap(CELL_CHARS)


def _cut_sheet(source: zipfile.ZipFile, member: str, last_row: int) -> bytes | None:
    """The sheet XML up to `last_row`, closed, with its tail, texts cut short; None if its shape is not the
    expected one."""
    kept = bytearray()
    pending = b""
    number = last_kept = 0
    edit = _sheet_edit()
    with source.open(member) as handle:
        while True:
            raw = handle.read(CHUNK)
            chunk = edit.feed(raw) if raw else edit.close()
            data = pending + chunk
            # Only whole row tags are looked at; a tag split across chunks waits for the next one.
            safe = len(data) if not raw else max(data.rfind(b"<"), 0)
            stop = None
            for match in _ROW_START.finditer(data, 0, safe):
                explicit = _ROW_NUMBER.search(match[1])  # rows may leave out r="…": then they count on
                number = int(explicit[1]) if explicit else number + 1
                if number > last_row:
                    stop = match.start()
                    break
                last_kept = number
            if stop is not None:
                kept += data[:stop]
                return _close(bytes(kept), handle, data[stop:] + edit.held(), last_kept)
            kept += data[:safe]
            pending = data[safe:]
            if _sheet_data_end(data[:safe]) is not None or not raw:
                return None  # every row fits: nothing to cut
            if len(kept) > 64 * CHUNK:
                return None  # rows far too long to be worth it


def _close(head: bytes, handle: zipfile.ZipExtFile, rest: bytes, last_kept: int) -> bytes | None:
    """`head` with `</sheetData>` and whatever follows the sheet's rows in the original."""
    window = rest
    while True:  # the rows after the cut are read and dropped: the tail is at the very end of the part
        end = _sheet_data_end(window)
        if end is not None:
            tail = window[end:] + handle.read()
            break
        chunk = handle.read(4 * CHUNK)
        if not chunk:
            return None
        window = window[-64:] + chunk
    head = _DIMENSION.sub(lambda m: m[1] + str(last_kept).encode() + m[3], head, count=1) if last_kept else head
    return head + tail


def _sheet_data_end(data: bytes) -> int | None:
    """Where `</sheetData>` (or `</x:sheetData>`) starts in `data`: a plain find, far faster than a regex."""
    found = data.find(b"sheetData>")
    while found != -1:
        match = _SHEET_DATA_END.match(data, max(data.rfind(b"<", 0, found), 0))
        if match is not None and match.end() == found + len(b"sheetData>"):
            return match.start()
        found = data.find(b"sheetData>", found + 1)
    return None
