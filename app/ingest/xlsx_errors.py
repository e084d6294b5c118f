"""Formula error cells (#N/A, #DIV/0!, #VALUE!, #REF!, …) read as the text Excel shows, not as empty cells.

calamine gives an error cell (`<c t="e"><v>#DIV/0!</v></c>`) as an empty string, so a sheet's errors became
blanks without a word. What an analyst expects is what Excel shows and what "Save as CSV" writes: the error's
text. So an xlsx/xlsm sheet holding any is read from a copy whose error cells are typed as formula strings
(`t="str"`), which calamine reads as their text. A text column keeps "#N/A"; a number column holding one reads
as text, and the preview says it mixes types and suggests the errors as `null_values` (read as empty, the
column keeps its type); a column typed as a number counts the row as bad with its reason (strict: the import
fails naming it; lenient: a reject). xls, xlsb and ods errors are still read as empty (calamine's choice).
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from app.ingest import excel_reader
from app.ingest.xlsx_copy import CHUNK, HeldBack, write_copy

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


def error_text_copy(path: str, kind: str, index: int, dest: Path) -> tuple[Path | None, int]:
    """A copy of the xlsx/xlsm workbook whose sheet `index` has its error cells as text, and how many it has;
    (None, 0) when it has none (or is another kind of workbook)."""
    if kind not in ("xlsx", "xlsm"):
        return None, 0
    members = excel_reader.xlsx_sheet_members(path)
    member = members[index] if index < len(members) else None
    if member is None:
        return None, 0
    try:
        with zipfile.ZipFile(path) as source:
            counter = ErrorCellsAsText()
            with source.open(member) as handle:
                while raw := handle.read(CHUNK):
                    counter.feed(raw)
            counter.close()
            if not counter.found:
                return None, 0
            write_copy(source, dest, streamed={member: ErrorCellsAsText})
        return dest, counter.found
    except (KeyError, OSError, zipfile.BadZipFile, zipfile.LargeZipFile, RuntimeError):
        return None, 0
