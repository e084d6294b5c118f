"""What went wrong reading a CSV: the rows DuckDB's `store_rejects` kept (line, column, reason, raw line), and
DuckDB's own errors turned into clear ones. csv_reader's `read_csv` calls name the tables here."""

from __future__ import annotations

from typing import Any

import duckdb
import msgspec

from app.ingest import repeated_header
from app.ingest.config import ImportLimits
from app.ingest.duck import duckdb_reason, literal
from app.ingest.errors import MAX_PROBLEMS, DomainError, ImportFailed, LimitExceeded, problem

#: The temp tables `read_csv(..., store_rejects=true)` fills.
REJECTS_TABLE = "ingest_reject_errors"
REJECTS_SCAN = "ingest_reject_scans"


class Rejects(msgspec.Struct, frozen=True):
    """What the rejected cells of a CSV read are: DuckDB's (`store_rejects`) and the SELECT's."""

    #: The header line as written: a rejected line that is it again says so.
    header_line: str | None = None
    #: A retyped.problems_sql of the values the SELECT converts that did not convert, rejected with DuckDB's.
    converted: str | None = None
    #: By column, the date or timestamp format read_csv read it with: what a value it did not read missed.
    formats: dict[str, str] = msgspec.field(default_factory=dict)


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
    converted = (
        f'SELECT CAST("row" AS BIGINT) AS "row", "column", message, value, {_AFTER_READ} AS position '
        f"FROM ({said.converted})"
    )
    if not _rejects_kept(conn):
        return converted if said.converted else None
    parts = [_renumbered(converted)] if said.converted else []
    cell = f"nullif(regexp_extract(error_message, {literal(_CAST_VALUE)}, 1), '')"
    header = f"{_is_header(said.header_line)} OR " if said.header_line is not None else ""
    value = f"CASE WHEN {header}error_type <> 'CAST' THEN csv_line ELSE coalesce({cell}, csv_line) END"
    typed = (
        f'SELECT CAST(line AS BIGINT) AS "row", column_name AS "column", {_message(said)} AS message, '
        f"{value} AS value, column_idx AS position FROM {REJECTS_TABLE}"
    )
    return " UNION ALL ".join([typed, *parts])


def _renumbered(converted: str) -> str:
    """The SELECT's rejected cells (`converted`) with their rows numbered as DuckDB numbers its rejected ones, the
    record's row in the file. The SELECT numbers the rows of a read that leaves out the rows DuckDB cannot split
    (too many or too few cells, a line too long: every reject but a CAST), so a bad amount after such a row was
    reported a row or more too high up (and counted with another row). A row numbered n is moved down by the
    left-out rows before it: those whose line, less the left-out rows up to it, is under n."""
    row = _record_row_sql('c."row"')
    return f'SELECT {row} AS "row", c."column", c.message, c.value, c.position FROM ({converted}) c'


def _record_row_sql(row: str) -> str:
    """SQL: the record's row in the file of the row numbered `row` (SQL) by a read that left out the rows DuckDB's
    typed read rejected as unsplittable (`_renumbered`)."""
    gaps = (
        f"SELECT line - row_number() OVER (ORDER BY line) AS gap "
        f"FROM (SELECT DISTINCT line FROM {REJECTS_TABLE} WHERE error_type <> 'CAST')"
    )
    return f"({row} + (SELECT count(*) FROM ({gaps}) g WHERE g.gap < {row}))"


def record_rows(conn: duckdb.DuckDBPyConnection, found: dict[str, tuple[int, str]]) -> dict[str, tuple[int, str]]:
    """`found` (by column, a row numbered by such a read and a value) with each row the record's row in the file,
    by the rejects of the typed read made before (as is when there are none)."""
    if not found or not _rejects_kept(conn):
        return found
    out = {}
    for column, (row, value) in found.items():
        record = conn.execute(f"SELECT {_record_row_sql('$1')}", [row]).fetchone()
        out[column] = (int(record[0]) if record else row, value)
    return out


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
