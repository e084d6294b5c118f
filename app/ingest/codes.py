"""Codes written as digits (stock codes 000001, postal codes, account codes 010010): text that looks like a number.

Inside the rows it samples, DuckDB's CSV sniffer reads a column holding a number written with a leading zero as
text, and so do our rules that read a workbook's text cells as numbers (app.ingest.columns.LEADING_ZERO): the
digits are the value. Past the sample the column's type is fixed, and a value read into an integer column
was changed with no error: 000001 after 20,480 rows of 600519 became 1. So a CSV number column whose sampled
values are all digits of one width, or all of at least VARYING_MIN_WIDTH digits (`code_columns`), is read as text
and converted only when the number writes back as the same text (`exact_sql`). A value that does not (000001,
+8613800138000, 1e5) fails a strict import, listed by row, column and value as a cell that does not fit its type
is (app.ingest.retyped), saying what it would have become and how to keep it; a lenient import reads such a
column as text, every value as written, and says so (`first_changed`: one scan of those columns before its COPY).

The check costs a text read and a comparison of those columns only: reading every integer column so cost about a
quarter more import CPU, and a column of varying widths that reach below VARYING_MIN_WIDTH digits (amounts, counts,
ids counted from 1) is left to DuckDB's typed read. Codes whose widths vary (postal codes of 5 and 9 digits, stock
codes of 4 to 6, account numbers) never go below 1000 in a sample: such a column is checked too (12345, 123456,
then 0012345 past the sample became 12345).

A float or decimal written with a leading zero past the sample (`00123.50`) is read as its number: the number
is kept, its padding dropped as a trailing zero's is (`123.50` is 123.5 too); in the sample it makes the column
text as LEADING_ZERO says, where the preview shows it.
"""

from __future__ import annotations

import duckdb

from app.ingest.columns import Planned
from app.ingest.csv_cells import MIN_SAMPLE_ROWS, SAMPLE_CELLS
from app.ingest.duck import duckdb_type, literal
from app.ingest.notices import note
from app.ingest.notices.columns import CodesCheckedAtImport, KeptAsText
from app.ingest.retyped import MESSAGE_VALUE_CHARS, cannot_read_sql, first_where

#: Our types whose values a code column's digits were read as.
NUMBER_TYPES = frozenset({"integer", "decimal"})
#: The narrowest width of a code: a column of single digits is no code (0-9, a later 05 is a month or a count).
MIN_WIDTH = 2
#: The narrowest value of a column of codes whose widths vary: a sample of 20,480 values none below 1000 is of
#: identifiers (postal, stock and account codes), where amounts, counts and ids counted from 1 reach lower.
VARYING_MIN_WIDTH = 4
#: Columns one scan of the sample measures: a file of thousands of number columns ran a 256 MB preview out of
#: memory in one.
COLUMNS_PER_SCAN = 200
#: What the COPY raises on a code that would change (the problems query then says where).
CHANGED = "a code read as a number would change"


def code_columns(
    conn: duckdb.DuckDBPyConnection, call: str, planned: list[Planned], sniffed: dict[int, str], rows: int
) -> list[str]:
    """The sources of whole-number columns DuckDB sniffed as numbers whose sampled values are all unsigned digits
    of one width (at least MIN_WIDTH), or of several widths none under VARYING_MIN_WIDTH: codes, which a later value
    with a leading zero would not fit. `call` reads
    every column as text `c0`, `c1`, ... by file position; `sniffed` is DuckDB's type by file position; `rows`
    are the rows sampled. (A column the sniffer read as text, its zeros shown, stays as the configuration types
    it.)"""
    numbers = [
        p
        for p in planned
        if p.include and p.type in NUMBER_TYPES and not p.scale and sniffed.get(p.index) in NUMBER_TYPES
    ]
    if not numbers:
        return []
    rows = max(MIN_SAMPLE_ROWS, min(rows, SAMPLE_CELLS // len(numbers)))  # a wide file's sample is cut, as there
    found: list[str] = []
    for start in range(0, len(numbers), COLUMNS_PER_SCAN):
        chunk = numbers[start : start + COLUMNS_PER_SCAN]
        # the shortest value (-1 for one that is not all digits) and the longest: codes when both are one width, or
        # when the shortest is wide enough
        parts = ", ".join(
            f"min(CASE WHEN regexp_full_match(c{p.index}, '[0-9]+') THEN length(c{p.index}) ELSE -1 END), "
            f"max(length(c{p.index}))"
            for p in chunk
        )
        picked = ", ".join(f"c{index}" for index in sorted({p.index for p in chunk}))
        widths = conn.execute(f"SELECT {parts} FROM (SELECT {picked} FROM {call} LIMIT {rows})").fetchall()[0]
        found += [
            p.source
            for p, low, high in zip(chunk, widths[::2], widths[1::2], strict=True)
            if low is not None and low >= MIN_WIDTH and (low == high or low >= VARYING_MIN_WIDTH)
        ]
    return found


def number_sql(p: Planned, text: str) -> str:
    """SQL for code column `p`'s text `text` as its number, NULL when it is none."""
    return f"TRY_CAST({text} AS {duckdb_type(p.type, p.scale)})"


def exact_sql(p: Planned, text: str) -> str:
    """SQL for `text` as the number of code column `p` when that number writes back as the same text, else NULL."""
    number = number_sql(p, text)
    return f"CASE WHEN CAST({number} AS VARCHAR) = {text} THEN {number} END"


def number_column(p: Planned) -> str:
    """The name of the column the COPY's read adds for code column `p`'s number (`number_sql`, computed once)."""
    return f"__ingest_code_{p.index}"


def checked_sql(text: str, number: str) -> str:
    """SQL for a code column's `text` as its `number` (a `number_sql` of it), raising CHANGED (the import then
    lists where) when it is there but is no number or would not write back as the same text. (The number is
    computed once, beside the text: a second TRY_CAST doubled the check's cost.)"""
    same = f"CAST({number} AS VARCHAR) = {text} OR {text} IS NULL"
    return f"CASE WHEN {same} THEN {number} ELSE error({literal(CHANGED)}) END"


def problem_sql(p: Planned) -> str:
    """SQL of what a problem says about code column `p`'s `value` that is no number, or would change as one
    (app.ingest.retyped.problems_sql)."""
    number = f"CAST({number_sql(p, 'value')} AS VARCHAR)"
    changed = (
        f"'cannot read ''' || left(value, {MESSAGE_VALUE_CHARS}) || ''' as {p.type} without changing it (it "
        f"would be ' || {number} || '): set the column''s type to string to keep it as written'"
    )
    return f"CASE WHEN {number} IS NULL THEN {cannot_read_sql(p.type)} ELSE {changed} END"


def kept_as_text_warning(name: str, row: int, value: str) -> str:
    """What a lenient import says about a code column it read as text, with the first value that made it so."""
    return note(KeptAsText(column=name, row=row, value=value))


def decided_at_import_warning(name: str, kind: str, on_error: str) -> str:
    """What a preview says about a code column it shows as a number (`kind`) when the import reads rows past the
    ones the types were sampled from (the file goes on past them, and no `limit` ends it within them): only the
    import reads them, and decides."""
    return note(CodesCheckedAtImport(column=name, kind=kind, lenient=on_error == "lenient"))


def first_changed(conn: duckdb.DuckDBPyConnection, table: str, coded: list[Planned]) -> dict[str, tuple[int, str]]:
    """By source, the first (row, value) of each code column of `table` (every column as text, rows numbered
    `__ingest_row`) that is a number but would not write back as the same text: one scan for them all."""
    return first_where(
        conn,
        table,
        coded,
        lambda _, text: text,
        lambda p, text: f"{number_sql(p, text)} IS NOT NULL AND {exact_sql(p, text)} IS NULL",
    )
