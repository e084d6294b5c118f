"""CSV cells a spreadsheet would run as a formula (CSV injection), made inert for every CSV download.

Analysts open Conveyor's CSV downloads (dataset versions, their rejects, the audit export) in Excel or WPS,
which run a cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return as a formula, even when it is
quoted: `=cmd|' /C calc'!A0` from an uploaded file would run on the analyst's machine. OWASP's remedy: such a text
(or blob) cell gets a leading `'`, which the spreadsheet shows as text. Only text changes (a number column's -2
stays -2); Parquet, NDJSON and the JSON API keep every value exact. A cell the CSV writer cannot write (a list,
struct, map or union, or an interval; a pipeline makes them) is written as its JSON text, as an NDJSON download
holds it.
"""

from __future__ import annotations

import re

import msgspec
import pyarrow as pa
import pyarrow.compute as pc

from app.ingest.columns import json_safe

#: What makes a spreadsheet take a cell for a formula.
FORMULA_START = r"^[=+\-@\t\r]"
_FORMULA = re.compile(FORMULA_START)


def defused_text(text: str) -> str:
    """One text cell (or a column name) as a CSV download writes it."""
    return "'" + text if _FORMULA.match(text) else text


def defused(batch: pa.RecordBatch) -> pa.RecordBatch:
    """A record batch the CSV writer takes, whose text and blob columns are written as `defused_text` writes a cell
    and whose nested and interval columns are their JSON text (defused too)."""
    arrays = []
    for column in batch.columns:
        if pa.types.is_nested(column.type) or pa.types.is_interval(column.type):
            column = pa.array([_json_text(value) for value in column.to_pylist()], pa.string())
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            column = _quoted(column, "'", "")
        elif pa.types.is_binary(column.type) or pa.types.is_large_binary(column.type):
            column = _quoted(column, b"'", b"")
        arrays.append(column)
    return pa.RecordBatch.from_arrays(arrays, names=batch.schema.names)


def _quoted(column: pa.Array, quote: str | bytes, empty: str | bytes) -> pa.Array:
    risky = pc.fill_null(pc.match_substring_regex(column, FORMULA_START), False)
    return pc.if_else(risky, pc.binary_join_element_wise(quote, column, empty), column)


def _json_text(value: object) -> str | None:
    return None if value is None else msgspec.json.encode(json_safe(value)).decode()
