"""CSV cells a spreadsheet would run as a formula (CSV injection), made inert for every CSV download.

Analysts open Conveyor's CSV downloads (dataset versions, their rejects, the audit export) in Excel or WPS,
which run a cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return as a formula, even when it is
quoted: `=cmd|' /C calc'!A0` from an uploaded file would run on the analyst's machine. OWASP's remedy: such a text
cell gets a leading `'`, which the spreadsheet shows as text. Only text changes (a number column's -2 stays -2);
Parquet, NDJSON and the JSON API keep every value exact.
"""

from __future__ import annotations

import re

import pyarrow as pa
import pyarrow.compute as pc

#: What makes a spreadsheet take a cell for a formula.
FORMULA_START = r"^[=+\-@\t\r]"
_FORMULA = re.compile(FORMULA_START)


def defused_text(text: str) -> str:
    """One text cell (or a column name) as a CSV download writes it."""
    return "'" + text if _FORMULA.match(text) else text


def defused(batch: pa.RecordBatch) -> pa.RecordBatch:
    """A record batch whose text columns are written as `defused_text` writes a cell."""
    arrays = []
    for column in batch.columns:
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            risky = pc.fill_null(pc.match_substring_regex(column, FORMULA_START), False)
            column = pc.if_else(risky, pc.binary_join_element_wise("'", column, ""), column)
        arrays.append(column)
    return pa.RecordBatch.from_arrays(arrays, schema=batch.schema)
