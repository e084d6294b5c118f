"""A CSV float column holding a number no double holds (`1e400`, `-1e400`), which DuckDB reads as an infinity.

Found after the COPY at no cost to a file without one: DuckDB leaves out the min or max statistic of a DOUBLE
column chunk that an infinity or a NaN would be, so the data file's footer names the float columns that may hold one
(`suspect_columns`). Only those columns of such a file are read again, as text, for a literal number_range's
rule refuses (`first_out_of_range`): a written `inf` or `NaN` is kept as it was. A strict import then fails with
number_out_of_range naming row, column and value, as a JSON number does; a lenient one reads the column as text,
every value as written, and says so.

`1e-400`, which reads as 0, is found by the same rule: nothing in the typed read tells it from a written 0, so only
when a float column holds a 0 is the file searched for such a literal (number_range.may_underflow, in C: about 0.3
CPU-s a 256 MiB file, a tenth of its import), and only when one is there are those columns read again as text
(reading every float column as text would cost a quarter more import CPU).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import duckdb
import msgspec

from app.ingest import csv_problems, number_range, retyped
from app.ingest.columns import Planned
from app.ingest.config import ImportConfig, ImportLimits
from app.ingest.csv_reader import CsvPlan
from app.ingest.csv_select import retyped_cells
from app.ingest.duck import ident, literal
from app.ingest.notices import note
from app.ingest.notices.columns import OutOfRangeAsText

#: A float column's first number no double holds: (row, value) by source column.
Found = dict[str, tuple[int, str]]


def float_columns(plan: CsvPlan) -> list[Planned]:
    """The included float columns of `plan`."""
    return [p for p in plan.columns if p.include and p.type == "float"]


def suspect_columns(conn: duckdb.DuckDBPyConnection, parquet: str, plan: CsvPlan) -> list[Planned]:
    """The float columns of the data file `parquet` (written from `plan`'s included columns, in order) with a
    chunk that holds values but lacks a min or a max statistic, or has an infinite one: those that may hold an
    infinity (DuckDB leaves out the bound an infinity or a NaN would be)."""
    positions = {position: p for position, p in enumerate(c for c in plan.columns if c.include) if p.type == "float"}
    if not positions:
        return []
    infinite = literal(["inf", "-inf", "Infinity", "-Infinity"])
    rows = conn.execute(
        f"SELECT DISTINCT column_id FROM parquet_metadata({literal(parquet)}) "
        f"WHERE column_id IN (SELECT unnest(?)) AND num_values > stats_null_count AND (stats_min_value IS NULL "
        f"OR stats_max_value IS NULL "
        f"OR list_contains({infinite}, stats_min_value) OR list_contains({infinite}, stats_max_value))",
        [sorted(positions)],
    ).fetchall()
    return [positions[int(row[0])] for row in sorted(rows)]


def zero_columns(conn: duckdb.DuckDBPyConnection, parquet: str, plan: CsvPlan) -> list[Planned]:
    """The float columns of the data file `parquet` (written from `plan`) holding a 0: where a literal such as
    `1e-400`, read as 0, may be (one read of those columns of the data file)."""
    floats = float_columns(plan)
    if not floats:
        return []
    counts = ", ".join(f"count(*) FILTER (WHERE {ident(p.name)} = 0)" for p in floats)
    found = conn.execute(f"SELECT {counts} FROM read_parquet({literal(parquet)})").fetchone() or ()
    return [p for p, count in zip(floats, found, strict=True) if count]


def found_in(
    conn: duckdb.DuckDBPyConnection, parquet: str, plan: CsvPlan, config: ImportConfig, limits: ImportLimits
) -> Found:
    """The first number no double holds in each float column of the data file `parquet` written from `plan`:
    nothing is read again unless its footer says a column may hold an infinity, or a column holds a 0 and the
    file a literal that reads as 0 (`1e-400`)."""
    suspects = suspect_columns(conn, parquet, plan)
    zeros = [p for p in zero_columns(conn, parquet, plan) if p not in suspects]
    if zeros and number_range.file_may_underflow(plan.path, plan.encoding):
        suspects += zeros
    if not suspects:
        return {}
    found = first_out_of_range(conn, retyped_cells(plan, config, limits)[0], suspects)
    return csv_problems.record_rows(conn, plan, found)


def shown_suspects(plan: CsvPlan, rows: Sequence[Sequence[Any]], text: str) -> list[Planned]:
    """The float columns of `plan` where a preview's `rows` (its included columns, in order) show an infinity, or
    a 0 when its `text` holds a literal that reads as 0 (`1e-400`)."""
    kept = [p for p in plan.columns if p.include]
    underflow: bool | None = None

    def suspect(value: Any) -> bool:
        nonlocal underflow
        if not isinstance(value, float):
            return False
        if value == 0 and underflow is None:
            underflow = number_range.may_underflow(text.encode())
        return math.isinf(value) or (value == 0 and bool(underflow))

    return [p for position, p in enumerate(kept) if p.type == "float" and any(suspect(row[position]) for row in rows)]


def first_out_of_range(conn: duckdb.DuckDBPyConnection, table: str, columns: list[Planned]) -> Found:
    """By source, the first (row, value) of each of `columns` of `table` (every column as text, rows numbered
    `__ingest_row`) that no double holds (number_range.out_of_range_sql): one scan for them all."""
    return retyped.first_where(
        conn,
        table,
        columns,
        lambda _, text: f"trim({text})",
        lambda _, text: number_range.out_of_range_sql(f"trim({text})"),
    )


def refused(plan: CsvPlan, found: Found) -> number_range.NumberOutOfRange:
    """The error a strict read raises for the first of `found` (by row)."""
    by_source = {p.source: p for p in plan.columns}
    source, (row, value) = min(found.items(), key=lambda item: item[1][0])
    return number_range.number_out_of_range(row, by_source[source].name, value)


def as_text(plan: CsvPlan, found: Found) -> tuple[CsvPlan, list[str]]:
    """For a lenient read: `plan` with the columns of `found` read as text, and the notices saying so."""
    columns = [msgspec.structs.replace(p, type="string", scale=None) if p.source in found else p for p in plan.columns]
    kept = [p for p in plan.as_text if p not in found]
    warnings = [
        note(OutOfRangeAsText(column=p.name, row=found[p.source][0], value=found[p.source][1]))
        for p in plan.columns
        if p.source in found
    ]
    return msgspec.structs.replace(plan, columns=columns, as_text=kept), warnings
