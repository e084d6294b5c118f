"""An xlsx/xlsm's shared-strings table, counted before calamine opens the workbook: it reads the whole table as
it opens, whatever sheet is asked for.

A table of a million one-character strings under a two-cell sheet (17 MB of XML, a few hundred KB zipped) was
read in full by every preview, in the API process, and again by each copy a preview opens. Every string a real
workbook keeps is used by a cell, and a cell that uses one takes at least MIN_STRING_CELL_BYTES of its sheet's
XML; so a table of more strings than the sheets could use (and than max_workbook_cells) is refused before
anything reads it (413 limit_exceeded). Counting is a byte search as the part inflates, stopped at the limit. The
part counted is the one calamine reads (app.ingest.xlsx_strings.shared_strings_member: xl/sharedStrings.xml, its
case ignored), whatever the relationships name; a package of two parts told apart only by case is refused
(corrupt_file: app.ingest.xlsx_parts.case_twins).

An xlsb's table (xl/sharedStrings.bin, its case ignored as calamine ignores it) is read by calamine as many strings
as its BrtBeginSst record declares (cstUnique), so that number is checked the same way, against what its sheets'
BrtCellIsst records could use. Two parts told apart only by case are refused in an xlsb as in an xlsx.
"""

from __future__ import annotations

import re
import zipfile

from app.ingest.errors import LimitExceeded, UnsupportedMediaType
from app.ingest.xlsb_records import XLSB_STRINGS, XLSB_WORKBOOK, xlsb_records
from app.ingest.xlsx_extent import UNREADABLE
from app.ingest.xlsx_parts import WORKBOOK, case_twins, folded, part, sheet_members
from app.ingest.xlsx_strings import shared_strings_member

#: The fewest bytes of sheet XML a cell using a shared string takes: `<c t="s"><v>0</v></c>` is 21.
MIN_STRING_CELL_BYTES = 16
#: An xlsb's fewest bytes of a cell using a string (BrtCellIsst is 14).
MIN_XLSB_STRING_CELL_BYTES = 12
#: Strings a table may hold past what its sheets could use (writers that keep a few unused ones).
SPARE_STRINGS = 65_536
#: The bytes of an xlsb's table searched for its BrtBeginSst.
SST_HEAD_BYTES = 1 << 16
#: Inflated bytes searched per step.
CHUNK = 1 << 20

#: The start of a string item: `<si>`, `<si/>`, `<si attr…>`, with or without a namespace prefix.
_ITEM_START = re.compile(rb"<(?:\w+:)?si[\s/>]")


def check_shared_strings(path: str, max_cells: int) -> None:
    """Refuse an xlsx/xlsm whose shared-strings table holds more strings than its sheets' XML could use, or more
    than max_cells; anything else (not such a package, unreadable) is left to calamine."""
    try:
        with zipfile.ZipFile(path) as archive:
            if (part(archive, WORKBOOK) or part(archive, XLSB_WORKBOOK)) and (twins := case_twins(archive)):
                raise UnsupportedMediaType(
                    f"the workbook holds parts told apart only by the case of their names ({', '.join(twins[:4])}), "
                    "and which one is read is undefined: the file is damaged; save it again from Excel (or as CSV) "
                    "and import that",
                    code="corrupt_file",
                )
            if part(archive, XLSB_WORKBOOK) and (xlsb_strings := part(archive, XLSB_STRINGS)):
                sheets = _sheet_bytes(archive, ".bin")
                limit = min(max_cells, sheets // MIN_XLSB_STRING_CELL_BYTES + SPARE_STRINGS)
                if _declared_xlsb_items(archive, xlsb_strings) > limit:
                    raise _too_many(limit, sheets, max_cells)
            if part(archive, WORKBOOK) is None:
                return
            sheets = sum(archive.getinfo(member).file_size for member in sheet_members(archive) if member)
            limit = min(max_cells, sheets // MIN_STRING_CELL_BYTES + SPARE_STRINGS)
            strings = shared_strings_member(archive)  # what calamine reads, whatever the relationships name
            if strings is not None and _count_items(archive, strings, limit) > limit:
                raise _too_many(limit, sheets, max_cells)
    except (*UNREADABLE, ValueError):
        return


def _too_many(limit: int, sheets: int, max_cells: int) -> LimitExceeded:
    return LimitExceeded(
        f"the workbook's shared-strings table holds more than {limit} strings, more than its sheets' {sheets} "
        f"bytes of cells could use (max_workbook_cells={max_cells}): the file is damaged, or save it again from "
        "Excel (or as CSV) and import that"
    )


def _sheet_bytes(archive: zipfile.ZipFile, suffix: str) -> int:
    """The inflated bytes of every worksheet part (the zip directory's sizes; names as calamine folds them)."""
    names = (info for info in archive.infolist() if folded(info.filename).startswith("xl/worksheets/"))
    return sum(info.file_size for info in names if folded(info.filename).endswith(suffix))


def _declared_xlsb_items(archive: zipfile.ZipFile, strings: str) -> int:
    """The strings an xlsb's BrtBeginSst declares (cstUnique): how many calamine reads; 0 when it has none."""
    with archive.open(strings) as handle:
        head = handle.read(SST_HEAD_BYTES)
    for kind, body, size in xlsb_records(head):
        if kind == 0x9F:  # BrtBeginSst: cstTotal, cstUnique
            return int.from_bytes(head[body + 4 : body + 8], "little") if size >= 8 else 0
    return 0


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
