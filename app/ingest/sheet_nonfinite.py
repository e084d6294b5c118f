"""An xls/xlsb number cell that holds an infinity or NaN: the CSV and xlsx rule for numbers no double holds
(app.ingest.sheet_range) for the binary workbooks.

xls and xlsb store a number as its IEEE double, and a generator (or a damaged file) can store +inf, -inf or NaN,
which no spreadsheet shows as a number (Excel shows #NUM!). An infinity in a float column was a generic bad row
("cannot read inf as float"), in an integer or decimal column another one, and a NaN was imported as NaN without a
word, where 1e400 in a CSV or an xlsx fails a strict import with number_out_of_range naming row, column and value,
and makes a lenient one read the column as text, with a notice. Such cells now go through that same rule: they are
found here and handed to app.ingest.sheet_range's `by_column`, `refused`, `as_text` and `Literals`.

It is kept cheap: the sheet's records are searched at C speed for the two high bytes every non-finite double
(and RK number) has (an exponent of all ones); only a workbook that has them has its number columns' cells looked
at, as calamine read them.
"""

from __future__ import annotations

import math
import re
import zipfile
from itertools import islice
from typing import Any

from app.ingest.excel_reader import ExcelPlan
from app.ingest.number_range import nonfinite_text
from app.ingest.ole import WORKBOOK_STREAMS, read_stream
from app.ingest.sheet_range import NUMBER_TYPES
from app.ingest.xlsb_records import xlsb_sheet_member

#: A little-endian double's (or RK number's) last two bytes when its exponent is all ones: ±inf or NaN.
_NONFINITE_BYTES = re.compile(rb"[\xf0-\xff][\x7f\xff]")
#: Cells kept at most (as app.ingest.sheet_range's).
MAX_FOUND = 10_000


def nonfinite_cells(sheet: Any, plan: ExcelPlan, path: str, kind: str, index: int) -> dict[tuple[int, int], str]:
    """The number cells of `plan`'s number columns of the loaded xls/xlsb `sheet` that hold ±inf or NaN, by
    (row, column) from 1, as `nonfinite_text`; {} for another kind, or when the records hold no such double."""
    if kind not in ("xls", "xlsb") or not _may_hold(path, kind, index):
        return {}
    start_row, start_col = sheet.start or (0, 0)
    columns = [plan.positions[p.index] for p in plan.columns if p.include and p.type in NUMBER_TYPES]
    at = [(position, position - 1 - start_col) for position in columns if position - 1 - start_col >= 0]
    if not at:
        return {}
    skip = max(plan.first_data_row - start_row - 1, 0)
    rows = islice(sheet.iter_rows(), skip, None if plan.limit is None else skip + plan.limit)
    found: dict[tuple[int, int], str] = {}
    for number, row in enumerate(rows, start=start_row + 1 + skip):
        for position, offset in at:
            value = row[offset] if offset < len(row) else None
            if type(value) is float and not math.isfinite(value):
                found[(number, position)] = nonfinite_text(value)
                if len(found) >= MAX_FOUND:
                    return found
    return found


def _may_hold(path: str, kind: str, index: int) -> bool:
    """Whether the workbook's records may hold a non-finite double (a C search; True when unsure)."""
    try:
        if kind == "xls":
            data = read_stream(path, WORKBOOK_STREAMS)
        else:
            with zipfile.ZipFile(path) as archive:
                member = xlsb_sheet_member(archive, index)
                data = archive.read(member) if member is not None else None
    except (OSError, KeyError, ValueError, zipfile.BadZipFile, zipfile.LargeZipFile):
        return True
    return data is None or _NONFINITE_BYTES.search(data) is not None
