"""What went wrong reading a CSV: the rows DuckDB's `store_rejects` kept (line, column, reason, raw line), and
DuckDB's own errors turned into clear ones. csv_reader's `read_csv` calls name the tables here."""

from __future__ import annotations

from typing import Any

import duckdb

from app.ingest import repeated_header
from app.ingest.config import ImportLimits
from app.ingest.duck import duckdb_reason, literal
from app.ingest.errors import MAX_PROBLEMS, DomainError, ImportFailed, LimitExceeded, problem

#: The temp tables `read_csv(..., store_rejects=true)` fills.
REJECTS_TABLE = "ingest_reject_errors"
REJECTS_SCAN = "ingest_reject_scans"


def rejects(conn: duckdb.DuckDBPyConnection, header_line: str | None = None) -> tuple[int, list[dict[str, Any]]]:
    """How many rows were rejected, and the first problems with line and column (a line that is `header_line`
    again says so)."""
    try:
        count = conn.execute(f"SELECT count(DISTINCT line) FROM {REJECTS_TABLE}").fetchone()
    except duckdb.CatalogException:
        return 0, []
    rows = conn.execute(
        f"SELECT line, column_name, {_message(header_line)}, csv_line FROM {REJECTS_TABLE} "
        f"ORDER BY line, column_idx LIMIT {MAX_PROBLEMS}"
    ).fetchall()
    return (count[0] if count else 0), [problem(*row) for row in rows]


def clear_rejects(conn: duckdb.DuckDBPyConnection) -> None:
    """Forget the stored rejects before the file is read again (a read adds its rejects to the tables)."""
    for table in (REJECTS_TABLE, REJECTS_SCAN):
        try:
            conn.execute(f"DELETE FROM {table}")
        except duckdb.CatalogException:
            continue


def write_rejects(conn: duckdb.DuckDBPyConnection, target: str, header_line: str | None = None) -> None:
    """Copy the stored rejects (line, column, reason, raw line) to a Parquet file."""
    conn.execute(
        f"COPY (SELECT line AS row, column_name AS column, {_message(header_line)} AS message, "
        f"csv_line AS value FROM {REJECTS_TABLE} ORDER BY line, column_idx) TO {literal(target)} (FORMAT parquet)"
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


def _message(header_line: str | None) -> str:
    """SQL: a rejected cell's reason, or that its line is the header line again."""
    reason = "error_type || ': ' || trim(error_message)"
    if header_line is None:
        return reason
    return f"CASE WHEN {_is_header(header_line)} THEN {literal(repeated_header.REJECTED_LINE)} ELSE {reason} END"


def read_error(exc: duckdb.Error, limits: ImportLimits | None = None) -> DomainError:
    """A DuckDB error while reading a CSV as a clear error: its reason, without the echoed line and hints."""
    reason = duckdb_reason(exc)
    if "maximum line size" in reason.lower() and limits is not None:
        return LimitExceeded(
            f"a line is longer than max_line_bytes={limits.max_line_bytes} ({reason}); "
            "check the delimiter and quote, or import a range without that line"
        )
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
