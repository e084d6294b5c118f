"""Cells a query converts to a type DuckDB's readers did not (a JSON value a user re-typed, a CSV amount with a
currency sign) and that do not convert: found by one query after the fact, each with its row and column, so a
strict import fails listing them as it does a CSV's rejected rows."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import duckdb

from app.ingest.columns import Planned
from app.ingest.config import formats_of
from app.ingest.duck import ident, literal
from app.ingest.errors import MAX_PROBLEMS, problem

#: The row number column of the table the problems query reads.
ROW = "__ingest_row"
#: A re-typed column: its plan, the SQL of its raw value, and of that value converted (NULL when it does not).
Forced = tuple[Planned, str, str]
#: Characters of a value its message quotes (the whole value is the problem's `value`).
MESSAGE_VALUE_CHARS = 100


def problems_sql(table: str, forced: list[Forced], messages: dict[str, str] | None = None) -> str:
    """(row, column, message, value) of every cell of `table` (rows numbered `__ingest_row`) that is there but
    does not convert; `messages`: by source column, SQL over `value` of what its problems say (else
    `cannot_read_sql`)."""
    said = messages or {}
    cells = " UNION ALL ".join(
        f'SELECT "row", "column", {said.get(p.source, _problem_sql(p))} AS message, value FROM ('
        f'SELECT {ROW} AS "row", {literal(p.source)} AS "column", CAST({raw} AS VARCHAR) AS value FROM {table} '
        f"WHERE {raw} IS NOT NULL AND {safe} IS NULL)"
        for p, raw, safe in forced
    )
    return f'SELECT "row", "column", message, value FROM ({cells})'


def without_problems_sql(forced: list[Forced]) -> str:
    """A WHERE clause leaving out the rows of `forced`'s problems (a lenient import rejects them; a preview lists
    them), or "" when nothing is re-typed."""
    if not forced:
        return ""
    return " WHERE NOT (" + " OR ".join(f"({raw} IS NOT NULL AND {safe} IS NULL)" for _, raw, safe in forced) + ")"


def cannot_read_sql(kind: str) -> str:
    """SQL of what a problem says about a `value` that does not convert to our type `kind`: in the words a
    workbook cell that does not convert gets (app.ingest.convert)."""
    return f"'cannot read ''' || left(value, {MESSAGE_VALUE_CHARS}) || ''' as {kind}'"


def _problem_sql(p: Planned) -> str:
    """SQL of what a problem of column `p` says about a `value`: that it does not match the column's own date
    formats when it has some, in the words a workbook cell gets (app.ingest.convert)."""
    if not p.format:
        return cannot_read_sql(p.type)
    forms = formats_of(p.format)
    said = f"the format {forms[0]!r}" if len(forms) == 1 else f"any of the formats {', '.join(map(repr, forms))}"
    return f"{cannot_read_sql(p.type)} || {literal(': does not match ' + said)}"


def rows_with_problems(conn: duckdb.DuckDBPyConnection, problems: str) -> int:
    """How many rows `problems` (a problems_sql) finds."""
    count = conn.execute(f"SELECT count(DISTINCT row) FROM ({problems})").fetchone()
    return count[0] if count else 0


def first_problems(conn: duckdb.DuckDBPyConnection, problems: str) -> list[dict[str, Any]]:
    """The first problems `problems` finds, in row order, as a strict import lists them."""
    rows = conn.execute(f"SELECT * FROM ({problems}) ORDER BY row LIMIT {MAX_PROBLEMS}").fetchall()
    return [problem(*row) for row in rows]


def first_where(
    conn: duckdb.DuckDBPyConnection,
    table: str,
    columns: list[Planned],
    value: Callable[[Planned, str], str],
    where: Callable[[Planned, str], str],
) -> dict[str, tuple[int, str]]:
    """By source, the first (row, value) of each of `columns` of `table` (rows numbered ROW) where `where` holds:
    one scan for them all. `value` and `where` give the SQL for a column from its plan and quoted name."""
    if not columns:
        return {}
    parts = ", ".join(
        f"arg_min(struct_pack(r := {ROW}, v := {value(p, ident(p.source))}), {ROW}) "
        f"FILTER (WHERE {where(p, ident(p.source))})"
        for p in columns
    )
    found = conn.execute(f"SELECT {parts} FROM {table}").fetchall()[0]
    return {p.source: (first["r"], first["v"]) for p, first in zip(columns, found, strict=True) if first is not None}
