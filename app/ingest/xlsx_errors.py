"""Formula error cells (#N/A, #DIV/0!, #VALUE!, #REF!, …) of xlsx/xlsm and ods sheets read as the text the
spreadsheet shows, not as empty cells.

calamine gives an error cell (`<c t="e"><v>#DIV/0!</v></c>`) as an empty string, so a sheet's errors became
blanks without a word. What an analyst expects is what Excel shows and what "Save as CSV" writes: the error's
text. So an xlsx/xlsm sheet holding any is read from a copy whose error cells are typed as formula strings
(`t="str"`), which calamine reads as their text. A text column keeps "#N/A"; a number column holding one reads
as text, and the preview says it mixes types and suggests the errors as `null_values` (read as empty, the
column keeps its type); a column typed as a number counts the row as bad with its reason (strict: the import
fails naming it; lenient: a reject).

An ods error cell (LibreOffice: `office:value-type="string" office:string-value="" calcext:value-type="error"`,
the error's text in its paragraph) reads as its empty string value; its copy has only `office:value-type="string"`
left of the value attributes, so calamine reads the paragraph. xls and xlsb are binary: app.ingest.sheet_errors.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable
from functools import partial
from pathlib import Path

from app.ingest.xlsx_copy import CHUNK, HeldBack, write_copy
from app.ingest.xlsx_parts import xlsx_sheet_members

#: An error cell's type attribute (`t="e"`), within its `<c …>` start tag.
_ERROR_TYPE = re.compile(rb"""(<(?:[\w.-]+:)?c\b[^>]*?\st=)(["'])e\2""")


class ErrorCellsAsText(HeldBack):
    """Feeds a sheet's XML through in chunks, each error cell typed as a formula string; counts them."""

    def __init__(self) -> None:
        #: Error cells rewritten so far.
        self.found = 0

    @property
    def changed(self) -> bool:
        return self.found > 0

    def feed(self, chunk: bytes) -> bytes:
        data = self._held + chunk
        start = data.rfind(b"<")
        if start >= 0 and data.find(b">", start) < 0:  # a tag cut by the chunk: wait for its end
            data, self._held = data[:start], data[start:]
        else:
            self._held = b""
        return self._edit(data)

    def _edit(self, data: bytes) -> bytes:
        if b't="e"' not in data and b"t='e'" not in data:  # nearly always: a plain search, far faster than the regex
            return data
        out, count = _ERROR_TYPE.subn(rb"\1\2str\2", data)
        self.found += count
        return out


#: An ods table's start tag (`<table:table-cell` and `<table:table-row` are not one).
_ODS_TABLE = re.compile(rb"<table:table[\s>]")
#: An ods cell whose formula's result is an error, with content (a self-closed one has no text to show).
_ODS_ERROR_CELL = re.compile(rb"""<table:table-cell\b[^>]*?\scalcext:value-type=(["'])error\1[^>]*(?<!/)>""")
#: The value attributes of an ods cell (its value-type included): calamine reads the first as the value.
_ODS_VALUE = re.compile(
    rb"""\soffice:(?:value-type|value|string-value|boolean-value|date-value|time-value)"""
    rb"""=(?:"[^"]*"|'[^']*')"""
)


class OdsErrorCellsAsText(ErrorCellsAsText):
    """Feeds an ods content.xml through in chunks, each error cell typed as a string whose text is what the
    cell shows; counts those of table `index` (the sheet calamine numbers so)."""

    def __init__(self, index: int) -> None:
        super().__init__()
        self.index = index
        #: Tables started so far, minus one: the table the stream is in.
        self.table = -1

    def _edit(self, data: bytes) -> bytes:
        if b"error" not in data:
            self.table += len(_ODS_TABLE.findall(data))
            return data
        out, last = [], 0
        for match in re.finditer(_ODS_TABLE.pattern + rb"|" + _ODS_ERROR_CELL.pattern, data):
            if not match[0].startswith(b"<table:table-cell"):
                self.table += 1
                continue
            out += [data[last : match.start()], _ods_as_string(match[0])]
            last = match.end()
            self.found += self.table == self.index
        return b"".join(out) + data[last:]


def _ods_as_string(tag: bytes) -> bytes:
    rest = _ODS_VALUE.sub(b"", tag[len(b"<table:table-cell") :])
    return b'<table:table-cell office:value-type="string"' + rest


def error_text_copy(
    path: str, kind: str, index: int, dest: Path, *, also: HeldBack | None = None
) -> tuple[Path | None, int]:
    """A copy of the xlsx/xlsm/ods workbook whose sheet `index` has its error cells as text (at `dest`, with
    the workbook's extension), and how many it has; (None, 0) when it has none (or is another kind). `also`: fed
    the sheet's XML in the same pass (app.ingest.sheet_range: out-of-range literals)."""
    if kind == "ods":
        member: str | None = "content.xml"
        make: Callable[[], ErrorCellsAsText] = partial(OdsErrorCellsAsText, index)
    elif kind in ("xlsx", "xlsm"):
        members = xlsx_sheet_members(path)
        member, make = (members[index] if index < len(members) else None), ErrorCellsAsText
    else:
        return None, 0
    if member is None:
        return None, 0
    dest = dest.with_suffix(f".{kind}")
    try:
        with zipfile.ZipFile(path) as source:
            counter = make()
            with source.open(member) as handle:
                while raw := handle.read(CHUNK):
                    counter.feed(raw)
                    if also is not None:
                        also.feed(raw)
            counter.close()
            if also is not None:
                also.close()
            if not counter.found:
                return None, 0
            write_copy(source, dest, streamed={member: make})
        return dest, counter.found
    except (KeyError, OSError, zipfile.BadZipFile, zipfile.LargeZipFile, RuntimeError):
        return None, 0
