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
"""

from __future__ import annotations

import re
import shutil
import zipfile
from pathlib import Path

from app.ingest.xlsx_strings import own_strings, shared_strings_member

#: Decompressed bytes read per step while streaming a sheet's XML.
CHUNK = 1 << 20
#: A sheet part smaller than this is read whole: cutting it would save nothing.
SMALL_SHEET_BYTES = 4 << 20

_ROW_START = re.compile(rb"<(?:\w+:)?row(?=[\s>/])([^>]*)>")
_ROW_NUMBER = re.compile(rb"\br=\"(\d+)\"")
_SHEET_DATA_END = re.compile(rb"</((?:\w+:)?)sheetData>")
_DIMENSION = re.compile(rb"(<(?:\w+:)?dimension\s+ref=\"[A-Z]+[0-9]+:[A-Z]+)([0-9]+)(\")")


def sheet_head(path: str, member: str, last_row: int, dest: Path) -> Path | None:
    """A copy of the workbook at `path` whose sheet `member` keeps rows up to `last_row` (1-based), or None."""
    try:
        with zipfile.ZipFile(path) as source:
            info = source.getinfo(member)
            if info.file_size < SMALL_SHEET_BYTES:
                return None
            cut = _cut_sheet(source, member, last_row)
            if cut is None:
                return None
            replaced = {member: cut}
            strings = shared_strings_member(source)
            own = own_strings(source, strings, cut) if strings in source.NameToInfo else None
            if own is not None and strings is not None:
                replaced = {member: own[0], strings: own[1]}
            with zipfile.ZipFile(dest, "w", compression=zipfile.ZIP_STORED) as target:
                for item in source.infolist():
                    if item.filename in replaced:
                        target.writestr(item.filename, replaced[item.filename])
                        continue
                    with source.open(item) as src, target.open(item.filename, "w", force_zip64=True) as out:
                        shutil.copyfileobj(src, out, CHUNK)
        return dest
    except (KeyError, OSError, zipfile.BadZipFile, zipfile.LargeZipFile, RuntimeError):
        return None


def _cut_sheet(source: zipfile.ZipFile, member: str, last_row: int) -> bytes | None:
    """The sheet XML up to `last_row`, closed, with its tail; None if its shape is not the expected one."""
    kept = bytearray()
    pending = b""
    number = last_kept = 0
    with source.open(member) as handle:
        while True:
            chunk = handle.read(CHUNK)
            data = pending + chunk
            # Only whole row tags are looked at; a tag split across chunks waits for the next one.
            safe = len(data) if not chunk else max(data.rfind(b"<"), 0)
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
                return _close(bytes(kept), handle, data[stop:], last_kept)
            kept += data[:safe]
            pending = data[safe:]
            if _sheet_data_end(data[:safe]) is not None or not chunk:
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
