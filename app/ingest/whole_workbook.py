"""The cells an ods or an xls workbook spans, all its sheets together, checked before calamine opens it: it reads
every sheet of those as it opens (an xlsx/xlsb sheet is loaded alone, and checked then: app.ingest.excel_reader).
An xlsx/xlsm's shared strings, which it also reads whole as it opens, are counted first too
(app.ingest.shared_strings_count).
"""

from __future__ import annotations

from app.ingest.config import ImportLimits
from app.ingest.errors import LimitExceeded
from app.ingest.ods_extent import ods_extents
from app.ingest.shared_strings_count import check_shared_strings
from app.ingest.xls_extent import xls_sheets


def check_whole(path: str, limits: ImportLimits) -> None:
    """Refuse an ods or xls whose sheets together span more than max_workbook_cells (or an xls sheet declaring
    more), or an xlsx/xlsm whose shared-strings table holds more strings than its sheets could use, before calamine
    reads them all."""
    check_shared_strings(path, limits.max_workbook_cells)
    extents = ods_extents(path)
    kind = "an ods"
    if extents is None and (sheets := xls_sheets(path, limits.max_workbook_cells)) is not None:
        extents, kind = [sheet.extent for sheet in sheets], "an xls"
        declared = max((sheet.declared for sheet in sheets), default=0)
        if declared > limits.max_workbook_cells:
            raise LimitExceeded(
                f"a sheet declares {declared} cells (its DIMENSIONS record), over max_workbook_cells="
                f"{limits.max_workbook_cells}; save the sheet as CSV (no cell limit) and import that, or split it"
            )
    if extents is not None:
        cells = sum(extent.rows * extent.columns for extent in extents)
        if cells > limits.max_workbook_cells:
            raise LimitExceeded(
                f"the workbook's sheets span {cells} cells together ({kind} is read whole), over max_workbook_cells="
                f"{limits.max_workbook_cells}; save the sheet as CSV (no cell limit) and import that, or split it"
            )
