"""What went wrong reading a CSV: the rows DuckDB's `store_rejects` kept (line, column, reason, raw line), and
DuckDB's own errors turned into clear ones. csv_reader's `read_csv` calls name the tables here."""

from __future__ import annotations

from typing import Any

import duckdb
import msgspec

from app.ingest import csv_limit, repeated_header
from app.ingest.config import ImportLimits
from app.ingest.csv_reader import CsvPlan
from app.ingest.duck import duckdb_reason, literal
from app.ingest.errors import MAX_PROBLEMS, DomainError, ImportFailed, LimitExceeded, problem

#: The temp tables `read_csv(..., store_rejects=true)` fills.
REJECTS_TABLE = "ingest_reject_errors"
REJECTS_SCAN = "ingest_reject_scans"
#: The SELECT's rejected cells, read once for every listing of them.
CONVERTED_TABLE = "ingest_converted_cells"
#: The blank lines read_csv skipped without a word among the rows a renumbering reaches (csv_limit.blank_lines).
BLANK_TABLE = "ingest_blank_lines"


class Rejects(msgspec.Struct, frozen=True):
    """What the rejected cells of a CSV read are: DuckDB's (`store_rejects`) and the SELECT's."""

    #: The header line as written: a rejected line that is it again says so.
    header_line: str | None = None
    #: A retyped.problems_sql of the values the SELECT converts that did not convert, rejected with DuckDB's.
    converted: str | None = None
    #: By column, the date or timestamp format read_csv read it with: what a value it did not read missed.
    formats: dict[str, str] = msgspec.field(default_factory=dict)
    #: The plan the SELECT read: its file's blank lines are counted where its rows are numbered as DuckDB's.
    read: CsvPlan | None = None


def rejects(conn: duckdb.DuckDBPyConnection, said: Rejects = Rejects()) -> tuple[int, list[dict[str, Any]]]:
    """How many rows were rejected, and the first problems with line, column and value."""
    every = _every_reject(conn, said)
    if every is None:
        return 0, []
    count = conn.execute(f'SELECT count(DISTINCT "row") FROM ({every})').fetchone()
    rows = conn.execute(
        f'SELECT "row", "column", message, value FROM ({every}) ORDER BY "row", position LIMIT {MAX_PROBLEMS}'
    ).fetchall()
    return (count[0] if count else 0), [problem(*row) for row in rows]


#: Where DuckDB's message about a value that does not convert quotes it.
_CAST_VALUE = 'Could not convert string "(.*)" to \''
#: Before the SELECT's rejects in a row: DuckDB's, which have a position.
_AFTER_READ = 1 << 30


def _every_reject(conn: duckdb.DuckDBPyConnection, said: Rejects) -> str | None:
    """SQL of every rejected cell (row, column, message, value, position), or None when nothing was rejected. A
    cell DuckDB did not convert has its value (as the SELECT's and a workbook's); a line it could not split, the
    line."""
    parts = [_renumbered(conn, said)] if said.converted else []
    if not _rejects_kept(conn):
        return parts[0] if parts else None
    cell = f"nullif(regexp_extract(error_message, {literal(_CAST_VALUE)}, 1), '')"
    header = f"{_is_header(said.header_line)} OR " if said.header_line is not None else ""
    line = "ltrim(csv_line, chr(13) || chr(10))"  # DuckDB's holds the blank lines above it
    value = f"CASE WHEN {header}error_type <> 'CAST' THEN {line} ELSE coalesce({cell}, {line}) END"
    typed = (
        f'SELECT CAST(line AS BIGINT) AS "row", column_name AS "column", {_message(said)} AS message, '
        f"{value} AS value, column_idx AS position FROM {REJECTS_TABLE}"
    )
    return " UNION ALL ".join([typed, *parts])


def _renumbered(conn: duckdb.DuckDBPyConnection, said: Rejects) -> str:
    """SQL of the SELECT's rejected cells (`said.converted`, kept in a table: one read of the file however often
    they are listed) with their rows numbered as DuckDB numbers its rejected ones, the record's row in the file as a
    spreadsheet shows it. The SELECT numbers the rows of a read that leaves out the rows DuckDB cannot split (too
    many or too few cells, a line too long: every reject but a CAST) and the blank lines, so a bad amount after
    such a row or line was reported a row or more too high up (and counted with another row). A row numbered n is
    moved down by the left-out lines before it: those whose line, less the left-out lines up to it, is under n."""
    conn.execute(
        f'CREATE OR REPLACE TEMP TABLE {CONVERTED_TABLE} AS SELECT CAST("row" AS BIGINT) AS "row", "column", '
        f"message, value FROM ({said.converted})"
    )
    last = conn.execute(f'SELECT max("row") FROM {CONVERTED_TABLE}').fetchone()
    row = _record_row_sql(conn, said.read, last[0] if last else None, 'c."row"')
    return f'SELECT {row} AS "row", c."column", c.message, c.value, {_AFTER_READ} AS position FROM {CONVERTED_TABLE} c'


def _record_row_sql(conn: duckdb.DuckDBPyConnection, plan: CsvPlan | None, last: int | None, row: str) -> str:
    """SQL: the record's row in the file of the row numbered `row` (SQL, at most `last`) by a read of `plan` that
    left out the blank lines and the rows DuckDB's typed read rejected as unsplittable (`_renumbered`)."""
    kept = _rejects_kept(conn)
    split = f"SELECT DISTINCT line FROM {REJECTS_TABLE} WHERE error_type <> 'CAST'"
    conn.execute(f"CREATE OR REPLACE TEMP TABLE {BLANK_TABLE} (line BIGINT)")
    if plan is not None and last is not None:
        unsplit = conn.execute(f"SELECT count(*) FROM ({split})").fetchone() if kept else None
        rows = last - plan.skip + (unsplit[0] if unsplit else 0)  # a read's row `last` is among so many records
        if blank := csv_limit.blank_lines(plan, rows):
            conn.execute(f"INSERT INTO {BLANK_TABLE} SELECT unnest($1::BIGINT[])", [blank])
    lines = f"SELECT line FROM {BLANK_TABLE}" + (f" UNION {split}" if kept else "")
    gaps = f"SELECT line - row_number() OVER (ORDER BY line) AS gap FROM ({lines})"
    return f"({row} + (SELECT count(*) FROM ({gaps}) g WHERE g.gap < {row}))"


def record_rows(
    conn: duckdb.DuckDBPyConnection, plan: CsvPlan, found: dict[str, tuple[int, str]]
) -> dict[str, tuple[int, str]]:
    """`found` (by column, a row numbered by a read of `plan` that leaves out blank lines and the rows DuckDB
    cannot split, and a value) with each row the record's row in the file, by its blank lines and the rejects of
    the typed read made before."""
    if not found:
        return found
    record = _record_row_sql(conn, plan, max(row for row, _ in found.values()), "$1")
    out = {}
    for column, (row, value) in found.items():
        renumbered = conn.execute(f"SELECT {record}", [row]).fetchone()
        out[column] = (int(renumbered[0]) if renumbered else row, value)
    return out


def written_rows(conn: duckdb.DuckDBPyConnection, said: Rejects, rows: list[int]) -> list[int]:
    """The rows in the file (as the rejects name them) of the rows `rows` (from 1, in order) of the data file the
    read `said` describes wrote: it left out the blank lines and every rejected row (DuckDB's and the SELECT's)."""
    plan, every = said.read, _every_reject(conn, said)
    if plan is None or not rows:
        return rows
    rejected = (
        [int(row) for (row,) in conn.execute(f'SELECT DISTINCT "row" FROM ({every})').fetchall()] if every else []
    )
    left_out = sorted({*rejected, *csv_limit.blank_lines(plan, max(rows) + len(rejected))})
    found = []
    for row in rows:
        line = plan.skip + row
        for gap in left_out:  # each left-out line up to it moves it one down
            if gap > line:
                break
            line += 1
        found.append(line)
    return found


def _rejects_kept(conn: duckdb.DuckDBPyConnection) -> bool:
    """Whether a typed read made the rejects tables (a read with `store_rejects` did)."""
    try:
        conn.execute(f"SELECT 1 FROM {REJECTS_TABLE} LIMIT 0")
    except duckdb.CatalogException:
        return False
    return True


def clear_rejects(conn: duckdb.DuckDBPyConnection) -> None:
    """Forget the stored rejects before the file is read again (a read adds its rejects to the tables)."""
    for table in (REJECTS_TABLE, REJECTS_SCAN):
        try:
            conn.execute(f"DELETE FROM {table}")
        except duckdb.CatalogException:
            continue


def write_rejects(conn: duckdb.DuckDBPyConnection, target: str, said: Rejects = Rejects()) -> None:
    """Copy the rejects (row, column, reason, value: `rejects`) to a Parquet file."""
    conn.execute(
        f'COPY (SELECT "row", "column", message, value FROM ({_every_reject(conn, said)}) ORDER BY "row", position) '
        f"TO {literal(target)} (FORMAT parquet)"
    )


def repeated_header_lines(conn: duckdb.DuckDBPyConnection, header_line: str | None) -> tuple[int, list[int]]:
    """How many rejected lines are `header_line` again (exports joined end to end), and the first of them."""
    if header_line is None:
        return 0, []
    where = f"FROM {REJECTS_TABLE} WHERE {_is_header(header_line)}"
    count = conn.execute(f"SELECT count(DISTINCT line) {where}").fetchone()
    lines = conn.execute(f"SELECT DISTINCT line {where} ORDER BY line LIMIT {repeated_header.REPEATS_SHOWN + 1}")
    return (count[0] if count else 0), [line for (line,) in lines.fetchall()]


def _is_header(header_line: str) -> str:
    """SQL: the rejected line is the header line again (as written, but for a line end and a joined file's BOM)."""
    padding = literal(repeated_header.LINE_PADDING)
    return f"trim(csv_line, {padding}) = {literal(header_line.strip(repeated_header.LINE_PADDING))}"


def _message(said: Rejects) -> str:
    """SQL: a rejected cell's reason (with the format its column was read with, when one did not read it), or that
    its line is the header line again."""
    reason = "error_type || ': ' || trim(error_message)"
    if said.formats:
        missed = " ".join(
            f"WHEN {literal(column)} THEN {literal(f': does not match the format {form!r}')}"
            for column, form in said.formats.items()
        )
        reason += f" || CASE WHEN error_type = 'CAST' THEN CASE column_name {missed} ELSE '' END ELSE '' END"
    if said.header_line is None:
        return reason
    header = _is_header(said.header_line)
    return f"CASE WHEN {header} THEN {literal(repeated_header.REJECTED_LINE)} ELSE {reason} END"


def parser_lost(exc: BaseException) -> bool:
    """Whether `exc` (a `read_error`) is DuckDB's reader failing on a row that ends other than the rows before it
    (its "state machine reached an invalid state"; a file mixing CRLF and LF rows past the head checked)."""
    return isinstance(exc.__cause__, duckdb.Error) and "state machine reached an invalid state" in str(exc.__cause__)


def line_too_long(limits: ImportLimits, where: str) -> LimitExceeded:
    """A line past max_line_bytes, which DuckDB's reader refuses (`where`: which line, and how long)."""
    return LimitExceeded(
        f"a line is longer than max_line_bytes={limits.max_line_bytes} ({where}); "
        "check the delimiter and quote, or import a range without that line"
    )


def read_error(exc: duckdb.Error, limits: ImportLimits | None = None) -> DomainError:
    """A DuckDB error while reading a CSV as a clear error: its reason, without the echoed line and hints."""
    reason = duckdb_reason(exc)
    if "maximum line size" in reason.lower() and limits is not None:
        return line_too_long(limits, reason)
    if isinstance(exc, duckdb.OutOfMemoryException):  # a file of thousands of columns, mostly
        return LimitExceeded(
            "reading the CSV needs more memory than an import may use (CONVEYOR_JOB_MEMORY_LIMIT_MB); a file of "
            "very many columns needs the most (10,000 fit in about 500 MB): split the file, or raise the limit"
        )
    if "not possible to automatically detect the CSV parsing dialect" in reason:  # and a page listing what it tried
        return ImportFailed(
            "could not tell the CSV's delimiter and quote from its first lines: set delimiter (and quote) "
            "in the import configuration",
            code="csv_dialect_unknown",
        )
    return ImportFailed(f"could not read the CSV file: {reason}")
