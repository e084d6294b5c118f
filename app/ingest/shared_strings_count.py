"""An xlsx/xlsm's shared-strings table, counted before calamine opens the workbook: it reads the whole table as
it opens, whatever sheet is asked for.

A table of a million one-character strings under a two-cell sheet (17 MB of XML, a few hundred KB zipped) was
read in full by every preview, in the API process, and again by each copy a preview opens. Every string a real
workbook keeps is used by a cell, and a cell that uses one takes at least MIN_STRING_CELL_BYTES of its sheet's
XML; so a table of more strings than the sheets could use (and than max_workbook_cells) is refused before
anything reads it (413 limit_exceeded). Counting is a byte search as the part inflates, stopped at the limit.
"""

from __future__ import annotations

import re
import zipfile

from app.ingest.errors import LimitExceeded
from app.ingest.xlsx_extent import UNREADABLE
from app.ingest.xlsx_parts import sheet_members
from app.ingest.xlsx_strings import shared_strings_member

#: The part calamine reads its shared strings from, whatever the workbook's relationships name.
CALAMINE_STRINGS = "xl/sharedStrings.xml"
#: The fewest bytes of sheet XML a cell using a shared string takes: `<c t="s"><v>0</v></c>` is 21.
MIN_STRING_CELL_BYTES = 16
#: Strings a table may hold past what its sheets could use (writers that keep a few unused ones).
SPARE_STRINGS = 65_536
#: Inflated bytes searched per step.
CHUNK = 1 << 20

#: The start of a string item: `<si>`, `<si/>`, `<si attr…>`, with or without a namespace prefix.
_ITEM_START = re.compile(rb"<(?:\w+:)?si[\s/>]")


def check_shared_strings(path: str, max_cells: int) -> None:
    """Refuse an xlsx/xlsm whose shared-strings table holds more strings than its sheets' XML could use, or more
    than max_cells; anything else (not such a package, unreadable) is left to calamine."""
    try:
        with zipfile.ZipFile(path) as archive:
            if "xl/workbook.xml" not in archive.NameToInfo:
                return
            sheets = sum(archive.getinfo(member).file_size for member in sheet_members(archive) if member)
            limit = min(max_cells, sheets // MIN_STRING_CELL_BYTES + SPARE_STRINGS)
            named = shared_strings_member(archive)  # what the preview's own copies read
            for part in {CALAMINE_STRINGS, named or CALAMINE_STRINGS} & archive.NameToInfo.keys():
                if _count_items(archive, part, limit) > limit:
                    raise LimitExceeded(
                        f"the workbook's shared-strings table holds more than {limit} strings, more than its "
                        f"sheets' {sheets} bytes of cells could use (max_workbook_cells={max_cells}): the file is "
                        "damaged, or save it again from Excel (or as CSV) and import that"
                    )
    except (*UNREADABLE, ValueError):
        return


def _count_items(archive: zipfile.ZipFile, part: str, limit: int) -> int:
    """The string items of `part`, counted up to just past `limit`."""
    count, rest = 0, b""
    with archive.open(part) as handle:
        while chunk := handle.read(CHUNK):
            data = rest + chunk
            cut = data.rfind(b"<", max(len(data) - 64, 0))  # a tag cut at the step's end is counted in the next
            cut = len(data) if cut < 0 else cut
            count += len(_ITEM_START.findall(data, 0, cut))
            rest = data[cut:]
            if count > limit:
                return count
    return count + len(_ITEM_START.findall(rest))
