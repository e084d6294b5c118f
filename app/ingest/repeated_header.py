"""Exports joined end to end repeat their header line before each part: find those lines among the data rows."""

from __future__ import annotations

import duckdb

from app.ingest.duck import literal

#: Repeated header rows a warning names (then "…").
REPEATS_SHOWN = 5
#: Leading header cells a row must repeat to count as the header again (a wide file's rows are not all compared:
#: the row number over every column of 20,480 rows of a 2,500-column file ran a preview out of memory).
REPEAT_CHECK_COLUMNS = 50


def warning(conn: duckdb.DuckDBPyConnection, call: str, header: list[str], sample_rows: int) -> str | None:
    """A warning naming the sampled data rows that are the header line again, or None when there are none.

    Exports joined end to end (a month per file, `cat`-ed together) repeat the header line before each part:
    those lines were read as data without a word, and turned every number and date column to text. `call` reads
    the data rows with every column as text `c0`, `c1`, ... (csv_reader.text_call). A warning, not a skip: the
    import reads the file as it is, and a row is never left out unless the configuration says so.
    """
    cells = [cell.strip() for cell in header]
    if not any(cells):
        return None
    compared = cells[:REPEAT_CHECK_COLUMNS]
    match = " AND ".join(f"trim(coalesce(c{i}, '')) = {literal(cell)}" for i, cell in enumerate(compared))
    picked = ", ".join(f"c{i}" for i in range(len(compared)))
    numbered = f"SELECT row_number() OVER () AS n, * FROM (SELECT {picked} FROM {call} LIMIT {sample_rows})"
    found = [n for (n,) in conn.execute(f"SELECT n FROM ({numbered}) WHERE {match} ORDER BY n").fetchall()]
    if not found:
        return None
    shown = ", ".join(str(n) for n in found[:REPEATS_SHOWN]) + (", …" if len(found) > REPEATS_SHOWN else "")
    return (
        f"{len(found)} data row(s) repeat the header line (data rows {shown} of the first {sample_rows}): "
        "the file looks like several exports joined together; those rows are read as data and make their "
        "columns text, so remove the repeated header lines and import again"
    )
