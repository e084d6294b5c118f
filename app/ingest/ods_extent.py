"""The real extent of each sheet of an ods workbook, from its content.xml, before calamine loads one.

An ods row or cell may stand for many (`table:number-rows-repeated`, `table:number-columns-repeated`): a 1.6 KB
file of one cell, 2,000 repeated empty cells and 15,000 repeated empty rows made calamine build a 30-million-cell
grid (1.9 GB and 10 s in the API process) before max_workbook_cells refused it, and calamine's own cap (100
million cells) allows three times that. So content.xml is streamed first and each sheet's box is counted as
calamine counts it: up to its last row and column holding something (trailing empty rows and cells, which every
LibreOffice file has out to row 1048576, do not count).
"""

from __future__ import annotations

import re

from app.ingest.xlsx_extent import UNREADABLE, Extent, whole_tags

_TAG = re.compile(rb"<(/?)table:(table|table-row|table-cell|covered-table-cell)(?=[\s/>])([^>]*?)(/?)>")
#: A row or cell standing for several (app.ingest.ods_padded places cells by them too).
ROWS_REPEATED = re.compile(rb'table:number-rows-repeated="([0-9]{1,9})"')
COLUMNS_REPEATED = re.compile(rb'table:number-columns-repeated="([0-9]{1,9})"')
_VALUE = re.compile(rb"office:value-type=")


class _Sheet:
    """Counts one sheet's rows and columns as its tags stream by."""

    def __init__(self) -> None:
        self.row = self.last_row = self.columns = 0
        self.row_repeat = 1
        self.column = self.last_column = 0

    def start_row(self, attributes: bytes) -> None:
        repeat = ROWS_REPEATED.search(attributes)
        self.row_repeat = int(repeat[1]) if repeat else 1
        self.column = self.last_column = 0

    def cell(self, attributes: bytes, empty: bool) -> None:
        repeat = COLUMNS_REPEATED.search(attributes)
        count = int(repeat[1]) if repeat else 1
        if not empty or _VALUE.search(attributes):
            self.last_column = self.column + count
        self.column += count

    def end_row(self) -> None:
        if self.last_column:
            self.last_row = self.row + self.row_repeat
            self.columns = max(self.columns, self.last_column)
        self.row += self.row_repeat
        self.row_repeat = 1

    def extent(self) -> Extent:
        return Extent(self.last_row, self.columns) if self.last_row else Extent(0, 0)


def ods_extents(path: str) -> list[Extent] | None:
    """The extent of each sheet, in order; None when content.xml cannot be read (calamine says why)."""
    sheets: list[_Sheet] = []
    try:
        for data in whole_tags(path, "content.xml"):
            for closing, name, attributes, empty in _TAG.findall(data):
                if name == b"table" and not closing:
                    sheets.append(_Sheet())
                elif not sheets or name == b"table":
                    continue
                elif name == b"table-row":
                    if not closing:
                        sheets[-1].start_row(attributes)
                    if closing or empty:
                        sheets[-1].end_row()
                elif not closing:
                    sheets[-1].cell(attributes, bool(empty))
    except UNREADABLE:
        return None
    return [sheet.extent() for sheet in sheets]
