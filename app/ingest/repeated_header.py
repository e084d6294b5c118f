"""Exports joined end to end repeat their header line before each part: find those lines among the data rows.

The preview and the import look at the rows the sniffer samples (`warning`); the import also names the lines
past them: in the data it wrote when the columns compared are text (`past_sample`), among its rejected rows
when a typed cell of the line did not convert (csv_problems). A warning, not a skip: the import reads the file
as it is, and a row is never left out unless the configuration says so.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import duckdb

from app.ingest.columns import Planned
from app.ingest.duck import ident, literal
from app.ingest.notices import note
from app.ingest.notices.columns import REPEAT_REMEDY, RepeatedHeaderLines, RepeatedHeaderRows

#: Repeated header rows a warning names (then "…").
REPEATS_SHOWN = 5
#: Leading header cells a row must repeat to count as the header again (a wide file's rows are not all compared:
#: the row number over every column of 20,480 rows of a 2,500-column file ran a preview out of memory).
REPEAT_CHECK_COLUMNS = 50
#: What to do about them, in every message.
REMEDY = REPEAT_REMEDY
#: What a rejected line that is the header again says (csv_problems).
REJECTED_LINE = f"the line repeats the header line (exports joined end to end): {REMEDY}"
#: Characters around a line ignored when it is compared with the header line (a line end, a joined file's BOM).
LINE_PADDING = " \t\r\n\ufeff"


def warning(conn: duckdb.DuckDBPyConnection, call: str, header: list[str], sample_rows: int) -> str | None:
    """A warning naming the sampled data rows that are the header line again, or None when there are none.

    Exports joined end to end (a month per file, `cat`-ed together) repeat the header line before each part:
    those lines were read as data without a word, and turned every number and date column to text. `call` reads
    the data rows with every column as text `c0`, `c1`, ... (csv_reader.text_call).
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
    return note(RepeatedHeaderRows(count=len(found), rows=found[:REPEATS_SHOWN], sample_rows=sample_rows))


def _candidates(cell: str) -> str:
    """SQL list of the values a header cell is read as in a data row."""
    return "(" + ", ".join(literal(value) for value in dict.fromkeys([cell, cell.rstrip("\t"), "\ufeff" + cell])) + ")"


def lines_warning(
    count: int, lines: list[int], outcome: Literal["rejected", "read_as_data"], rejects_file: str | None = None
) -> str:
    """What an import says about `count` lines past the sample that repeat the header line, the first `lines`."""
    return note(
        RepeatedHeaderLines(count=count, lines=lines[:REPEATS_SHOWN], outcome=outcome, rejects_file=rejects_file)
    )


def past_sample(
    conn: duckdb.DuckDBPyConnection,
    data: str,
    header: list[str],
    planned: list[Planned],
    lines: Callable[[list[int]], list[int]],
    sample_rows: int,
) -> str | None:
    """A warning naming the rows of the imported Parquet file `data`, past the first `sample_rows`, that are the
    header line again in every text column compared (typed cells of such a line were rejected, not written), by
    their line in the file (`lines`: of the data file's rows, from 1), or None.

    The Parquet file, not the CSV: a GB file is not parsed a second time, and the filter skips the row groups
    whose statistics cannot hold the header's text (a column of dates, of ids)."""
    by_index = {p.index: p for p in planned}
    compared = [
        (by_index[i].name, cell)
        for i, cell in enumerate(header[:REPEAT_CHECK_COLUMNS])
        if cell.strip() and i in by_index and by_index[i].include and by_index[i].type == "string"
    ]
    if not compared:
        return None
    # cells as written (a joined file's BOM before the first, tab padding read off): plain comparisons, which
    # the Parquet reader checks against each row group's min and max
    match = " AND ".join(f"{ident(name)} IN {_candidates(cell)}" for name, cell in compared)
    rows = f"read_parquet({literal(data)}, file_row_number = true)"
    where = f"file_row_number >= {sample_rows} AND {match}"
    count = conn.execute(f"SELECT count(*) FROM {rows} WHERE {where}").fetchone()
    if not count or not count[0]:
        return None
    first = f"SELECT file_row_number FROM {rows} WHERE {where} ORDER BY file_row_number LIMIT {REPEATS_SHOWN + 1}"
    found = lines([n + 1 for (n,) in conn.execute(first).fetchall()])
    return lines_warning(count[0], found, "read_as_data")
