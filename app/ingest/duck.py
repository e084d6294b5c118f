"""One sandboxed DuckDB connection per job, interruptible queries, SQL literals, and type names both ways."""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import duckdb
import msgspec

from app.ingest.bounded import watch
from app.ingest.config import DuckDBSettings
from app.ingest.errors import ImportCancelled
from app.ingest.models import ColumnStats

#: How often a running query is polled for progress and cancellation (seconds).
POLL_SECONDS = 0.1

#: DuckDB type for each of our column types (decimal takes its scale separately).
TO_DUCKDB = {
    "string": "VARCHAR",
    "integer": "BIGINT",
    "float": "DOUBLE",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "datetime": "TIMESTAMP",
    "time": "TIME",
    "json": "JSON",
}
#: Default digits after the point for `decimal` columns.
DEFAULT_SCALE = 9
#: Digits the widest exact decimal holds (DuckDB's and Parquet's DECIMAL(38, s)).
MAX_DECIMAL_DIGITS = 38
#: DuckDB's integer types wider than our integer (BIGINT), as its CSV sniffer and JSON reader infer them.
WIDER_THAN_BIGINT = frozenset({"HUGEINT", "UHUGEINT", "UBIGINT", "BIGNUM", "VARINT"})


def connect(
    settings: DuckDBSettings,
    *,
    readable: Iterable[str],
    writable: Iterable[str],
    spill_directory: str | None = None,
    preserve_order: bool = True,
    outputs: Iterable[str] = (),
) -> duckdb.DuckDBPyConnection:
    """An in-memory connection limited in memory and threads that can read only `readable` files and write
    only under the `writable` directories; no extension is installed or loaded, and the settings are locked.
    Inside a `bounded` block it is interrupted when the block's time limit passes.

    Spill files go to `settings.temp_directory`, else `spill_directory`, else a directory inside the first
    writable one. `writable` may be empty when `spill_directory` is given: then only the files listed in `readable`
    (e.g. one exact output file) and DuckDB's own spill directory can be written. `outputs`: URLs of registered
    filesystems the connection may also write (app.storage.streamed_output), allowed as they are."""
    writable = [_directory(path) for path in writable]
    temp_directory = settings.temp_directory or spill_directory or os.path.join(writable[0], ".duckdb_tmp")
    os.makedirs(temp_directory, exist_ok=True)
    conn = duckdb.connect(
        config={
            "threads": max(1, settings.threads),
            "memory_limit": settings.memory_limit,
            "temp_directory": temp_directory,
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": False,
            # Without an ORDER BY nothing promises an order; letting DuckDB drop it speeds up large
            # CREATE TABLE AS / COPY and lowers their memory (callers whose output order matters keep it).
            "preserve_insertion_order": preserve_order,
        }
    )
    try:
        conn.execute("SET enable_progress_bar = true")
        conn.execute("SET enable_progress_bar_print = false")
        # A time with an offset is converted to UTC and a naive one left as written whatever the host's zone
        # (DuckDB's default is the host's: workers in two zones read the same file differently).
        conn.execute("SET TimeZone = 'UTC'")
        files = sorted({os.path.abspath(path) for path in readable} | set(outputs))
        directories = sorted(set(writable))
        conn.execute(f"SET allowed_paths = {literal(files)}")
        conn.execute(f"SET allowed_directories = {literal(directories)}")
        conn.execute("SET enable_external_access = false")
        conn.execute("SET lock_configuration = true")
    except BaseException:
        conn.close()
        raise
    return watch(conn)


def _directory(path: str) -> str:
    """An absolute directory path with a trailing separator, as DuckDB's allow-list wants."""
    return os.path.join(os.path.abspath(path), "")


def run(
    conn: duckdb.DuckDBPyConnection,
    sql: str,
    *,
    should_stop: Callable[[], bool] | None = None,
    on_progress: Callable[[float], None] | None = None,
    params: dict[str, Any] | None = None,
) -> list[tuple[Any, ...]]:
    """Run `sql` on a helper thread so it can be interrupted: polls `should_stop` and reports progress (0-100).
    `params` are bound to the statement's `$name` placeholders."""
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["rows"] = (conn.execute(sql, params) if params else conn.execute(sql)).fetchall()
        except BaseException as exc:  # handed to the calling thread below
            outcome["error"] = exc

    worker = threading.Thread(target=target, name="ingest-duckdb", daemon=True)
    worker.start()
    stopped = False
    while worker.is_alive():
        worker.join(POLL_SECONDS)
        if not worker.is_alive():
            break
        if not stopped and should_stop is not None and should_stop():
            stopped = True
            conn.interrupt()
        if on_progress is not None:
            percent = conn.query_progress()
            if percent >= 0:
                on_progress(percent)
    if stopped:
        raise ImportCancelled("import cancelled")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["rows"]


def literal(value: Any) -> str:
    """A SQL literal for a string, number, bool, None, list or dict (dict keys become struct field names)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(literal(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{literal(str(key))}: {literal(item)}" for key, item in value.items()) + "}"
    raise TypeError(f"no SQL literal for {type(value).__name__}")


def ident(name: str) -> str:
    """A quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def duckdb_type(kind: str, scale: int | None = None) -> str:
    """The DuckDB type for one of our column types."""
    if kind == "decimal":
        return f"DECIMAL(38, {DEFAULT_SCALE if scale is None else scale})"
    return TO_DUCKDB[kind]


def exact_number_type(digits: int, scale: int = 0) -> tuple[str, int | None]:
    """Our type and scale for a column of numbers a double would round (integers too wide for BIGINT, decimals of
    more than 17 significant digits), the longest integer part having `digits` digits and the longest fraction
    `scale`: DECIMAL(38, scale) while they fit, else text. Either keeps every digit, where a double keeps 15 to 17
    (1e29 for 123456789012345678901234567890). CSV and JSON columns are both inferred by this rule."""
    return ("decimal", scale) if digits + scale <= MAX_DECIMAL_DIGITS else ("string", None)


def our_type(duck_type: str) -> str:
    """Our column type for a DuckDB type name (nested types are kept as JSON)."""
    upper = duck_type.upper()
    if upper.endswith("]") or upper.startswith(("STRUCT", "MAP", "UNION", "JSON")):
        return "json"
    if upper in ("BIGINT", "INTEGER", "SMALLINT", "TINYINT", "HUGEINT", "UBIGINT", "UINTEGER", "USMALLINT", "UTINYINT"):
        return "integer"
    if upper in ("DOUBLE", "FLOAT", "REAL"):
        return "float"
    if upper.startswith("DECIMAL"):
        return "decimal"
    if upper == "BOOLEAN":
        return "boolean"
    if upper == "DATE":
        return "date"
    if upper.startswith("TIMESTAMP"):
        return "datetime"
    if upper.startswith("TIME"):
        return "time"
    return "string"


_FLOAT_TYPES = frozenset({"FLOAT", "DOUBLE"})


def column_stats(conn: duckdb.DuckDBPyConnection, parquet: str | Path) -> tuple[int, list[ColumnStats]]:
    """Row count and per-column null count and min/max of a Parquet file, from its footer statistics where they
    are exact (no data is read), else from a scan of the columns that lack them.

    One footer query per column type, grouped by column, not one per column: each query reads the whole footer,
    so a query per column cost the square of the width (16,384 columns: hours, past the run's timeout)."""
    source = literal(str(parquet))
    schema = conn.execute(f"DESCRIBE SELECT * FROM read_parquet({source})").fetchall()
    total = conn.execute(f"SELECT num_rows FROM parquet_file_metadata({source})").fetchone()
    leaves = _first_leaves(conn, source)
    by_type: dict[str, list[int]] = {}
    for index, (_name, duck_type, *_) in enumerate(schema):
        by_type.setdefault("JSON" if our_type(duck_type) == "json" else duck_type, []).append(leaves[index])
    found: dict[int, tuple[Any, ...]] = {}
    for duck_type, indexes in by_type.items():
        inexact = "stats_null_count IS NULL"
        if duck_type != "JSON":
            inexact += " OR NOT coalesce(min_is_exact AND max_is_exact, true)"
        if duck_type in _FLOAT_TYPES:
            # A chunk holding inf or NaN has a min but no max: scan it. Not for text, whose footer leaves out
            # long values' bounds by design: scanning a 100 MB cell's min/max would cost memory for nothing new.
            inexact += " OR ((stats_min_value IS NULL OR stats_max_value IS NULL) AND num_values > stats_null_count)"
        bounds = (
            "NULL, NULL"
            if duck_type == "JSON"
            else f"CAST(min(TRY_CAST(stats_min_value AS {duck_type})) AS VARCHAR), "
            f"CAST(max(TRY_CAST(stats_max_value AS {duck_type})) AS VARCHAR)"
        )
        rows = conn.execute(
            f"SELECT column_id, sum(stats_null_count), count(*) FILTER (WHERE {inexact}), {bounds} "
            f"FROM parquet_metadata({source}) WHERE column_id IN (SELECT unnest(?)) GROUP BY column_id",
            [indexes],
        ).fetchall()
        found.update({int(row[0]): row[1:] for row in rows})
    stats, missing = [], []
    for index, (name, duck_type, *_) in enumerate(schema):
        nulls, inexact_count, low, high = found.get(leaves[index], (None, 0, None, None))
        if inexact_count:
            missing.append(index)
            nulls, low, high = 0, None, None
        stats.append(ColumnStats(name=name, type=our_type(duck_type), nulls=int(nulls or 0), min=low, max=high))
    if missing:
        _scan_stats(conn, source, schema, stats, missing)
    return (total[0] if total else 0), stats


def _first_leaves(conn: duckdb.DuckDBPyConnection, source: str) -> list[int]:
    """The footer's `column_id` of each top-level column: that of its first leaf, since a map, a union or a struct
    of several fields is several leaf columns in the footer (walked from the schema tree, depth first)."""
    children = [row[0] or 0 for row in conn.execute(f"SELECT num_children FROM parquet_schema({source})").fetchall()]
    firsts: list[int] = []
    leaf, position = 0, 1
    for _ in range(children[0]):
        firsts.append(leaf)
        pending = 1
        while pending:
            pending += children[position] - 1
            if not children[position]:
                leaf += 1
            position += 1
    return firsts


def _scan_stats(conn, source: str, schema: list[Any], stats: list[ColumnStats], indexes: list[int]) -> None:
    """Null counts and min/max of some columns by reading them (when the footer has no exact statistics)."""
    parts = []
    for index in indexes:
        column = ident(schema[index][0])
        parts.append(f"count(*) - count({column})")
        bounded = stats[index].type != "json"
        parts.append(f"CAST(min({column}) AS VARCHAR)" if bounded else "NULL")
        parts.append(f"CAST(max({column}) AS VARCHAR)" if bounded else "NULL")
    row = conn.execute(f"SELECT {', '.join(parts)} FROM read_parquet({source})").fetchone()
    assert row is not None
    for position, index in enumerate(indexes):
        nulls, low, high = row[3 * position : 3 * position + 3]
        stats[index] = msgspec.structs.replace(stats[index], nulls=nulls, min=low, max=high)


#: `file "/srv/conveyor/data/uploads/…/data"` in DuckDB's messages: the path is the server's, not the user's file.
_FILE_IN_MESSAGE = re.compile(r'(?i)\b(files?)\s+"[^"]*"')


def duckdb_reason(exc: BaseException, max_length: int = 500) -> str:
    """The useful part of a DuckDB error message: its headline and reason, not the echoed row or hints."""
    kept = []
    for line in str(exc).strip().splitlines():
        if not line.strip() or line.startswith(("Possible Solution", "Possible fixes", "  file =")):
            if kept:
                break
            continue
        if not line.startswith("Original Line"):
            kept.append(line.strip())
    text = _FILE_IN_MESSAGE.sub(r"\1", "; ".join(kept) or str(exc))  # no server paths (data root, upload ids)
    return text if len(text) <= max_length else text[: max_length - 1] + "…"
