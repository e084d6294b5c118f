"""The sandbox a pipeline's SQL runs in, and the parser check that a step's SQL is one query.

The guarantees come from DuckDB itself: external access off, an allow-list holding only the run's input files
and the one output file, no extension install or autoload, configuration locked (see `app.ingest.duck`).
On top of that every step's SQL must parse as exactly one SELECT, so a step cannot even ask for COPY, ATTACH,
INSTALL, LOAD, SET or PRAGMA; the output file is written by the engine alone. (DuckDB's allow-list does not tell
reading from writing, and DuckDB always allows its spill directory, which is inside the run's hidden work
directory and deleted with it; the one-query rule is what keeps the input files read-only.) That SELECT may not
name DuckDB's own catalog, settings or environment either (`duckdb_settings()`, `current_setting`,
`information_schema`, ...): they show the server's paths (the allow-list, the spill directory, the inputs' view
definitions).
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Iterable, Mapping
from itertools import pairwise
from typing import Any

import duckdb

from app.ingest import duck
from app.ingest.bounded import watch
from app.ingest.config import DuckDBSettings
from app.pipeline.errors import SandboxViolation

#: Resources of a connection that validates a draft over empty stand-in tables (no data is read), unless the
#: caller gives its own (the API gives its request limits).
STAND_IN_DUCKDB = DuckDBSettings(memory_limit="256MB", threads=1)
#: The rest of such a connection's configuration: it can touch no file at all.
STAND_IN_CONFIG = {
    "enable_external_access": False,
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "lock_configuration": True,
}


#: Prefix of the DuckDB variables holding a run's parameter values, which views read (see `view_query`).
PARAM_VARIABLE = "param:"

#: Functions a step may not call: they show settings, the environment or files, or run SQL given as text or as a
#: serialized parse tree (which this check would not see: `json_execute_serialized_sql(json_serialize_sql('...'))`).
HIDDEN_FUNCTIONS = frozenset(
    {"current_setting", "getenv", "glob", "json_execute_serialized_sql", "query", "query_table", "which_secret"}
)
#: Name prefixes of DuckDB's system functions and views (`duckdb_settings()`, `pragma_database_list`,
#: `sqlite_master`, `pg_get_viewdef`, ...), refused for functions and tables alike.
HIDDEN_PREFIXES = ("duckdb_", "pragma_", "sqlite_", "pg_")
#: Name prefixes of DuckDB's table functions that open files (`read_csv`, `read_text`, `sniff_csv`, `parquet_schema`,
#: ...; `glob` is hidden above). The run's connection refuses them for any file but its own inputs, whose paths a
#: step never knows (it names its inputs), and refuses some only once they run (`sniff_csv` binds without opening
#: its file), so a draft that binds over stand-in tables would pass: this check refuses them in both, as the run's
#: connection does, with `sandbox_violation`. tests/unit/pipeline/test_sandbox.py checks it against every table
#: function DuckDB's own sandbox refuses.
FILE_PREFIXES = ("read_", "sniff_", "parquet_")
#: Schemas and catalogs holding DuckDB's system views.
HIDDEN_SCHEMAS = frozenset({"information_schema", "pg_catalog", "system", "temp"})

#: One connection that only parses (`json_serialize_sql`), shared under a lock: opening one costs ~0.1 s.
_PARSER: dict[str, duckdb.DuckDBPyConnection] = {}
_PARSER_LOCK = threading.Lock()


class QueryProblem(Exception):
    """SQL that does not parse as one SELECT; `code` says which (`sql_syntax_error` or `sandbox_violation`)."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


def open_run_connection(
    settings: DuckDBSettings,
    *,
    inputs: Iterable[str],
    output_file: str | None,
    spill_directory: str,
    preserve_order: bool = True,
) -> duckdb.DuckDBPyConnection:
    """A run's connection: reads only `inputs`, writes only `output_file` (no directory is writable).

    `preserve_order=False` (for a spec without a sort step, whose output order nothing defines) lets DuckDB
    write tables and the output in any order, which is faster and needs less memory for large steps."""
    readable = [*inputs, *([output_file] if output_file else [])]
    return duck.connect(
        settings, readable=readable, writable=[], spill_directory=spill_directory, preserve_order=preserve_order
    )


def _stand_in_config(settings: DuckDBSettings) -> dict[str, Any]:
    return {"threads": max(1, settings.threads), "memory_limit": settings.memory_limit, **STAND_IN_CONFIG}


def open_stand_in_connection(settings: DuckDBSettings = STAND_IN_DUCKDB) -> duckdb.DuckDBPyConnection:
    """An in-memory connection that can touch no file at all, for validating a draft over empty tables (watched
    by the enclosing `bounded` block, if any)."""
    return watch(duckdb.connect(config=_stand_in_config(settings)))


def parquet_schema(path: str, settings: DuckDBSettings = STAND_IN_DUCKDB) -> list[tuple[str, str]]:
    """(column, DuckDB type) of a Parquet file, from its footer, by a connection that can read only that file;
    what `validate_spec` wants as an input's schema."""
    config = {
        key: value
        for key, value in _stand_in_config(settings).items()
        if key not in ("enable_external_access", "lock_configuration")
    }
    conn = watch(duckdb.connect(config=config))
    try:
        conn.execute(f"SET allowed_paths = {duck.literal([os.path.abspath(path)])}").fetchall()
        conn.execute("SET enable_external_access = false").fetchall()
        conn.execute("SET lock_configuration = true").fetchall()
        rows = conn.execute(f"DESCRIBE SELECT * FROM read_parquet({duck.literal(os.path.abspath(path))})").fetchall()
    finally:
        conn.close()
    return [(row[0], row[1]) for row in rows]


def query_parameters(sql: str) -> set[str]:
    """The `$name` parameters of `sql`, which must be exactly one SELECT (or WITH/FROM/VALUES) query.

    Raises QueryProblem otherwise: a parse error, several statements, or a statement of another kind."""
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as exc:
        raise QueryProblem(duck.duckdb_reason(exc), "sql_syntax_error") from None
    if not statements:
        raise QueryProblem("no query", "sql_syntax_error")
    if len(statements) > 1:
        raise QueryProblem(f"one query is allowed; found {len(statements)} statements", "sandbox_violation")
    kind = statements[0].type
    if kind != duckdb.StatementType.SELECT:
        raise QueryProblem(f"only a query is allowed; found a {kind.name} statement", "sandbox_violation")
    tree = _syntax_tree(sql)
    files = sorted(_names(tree, lambda name, *_: name.lower().startswith(FILE_PREFIXES)))
    if files:
        raise QueryProblem(
            f"{', '.join(files)}: a step reads no file; it reads its inputs by their names", "sandbox_violation"
        )
    hidden = sorted(_hidden_names(tree))
    if hidden:
        raise QueryProblem(
            f"{', '.join(hidden)}: DuckDB's own catalog, settings and environment are not available to a step",
            "sandbox_violation",
        )
    return set(statements[0].named_parameters)


def _syntax_tree(sql: str) -> Any:
    """DuckDB's parse tree of one SELECT, as JSON (nothing is bound or run)."""
    with _PARSER_LOCK:
        conn = _PARSER.get("conn")
        if conn is None:
            conn = _PARSER["conn"] = duckdb.connect(config=_stand_in_config(STAND_IN_DUCKDB))
        row = conn.execute("SELECT json_serialize_sql($sql)", {"sql": sql}).fetchone()
    tree = json.loads(row[0]) if row else {"error": True}
    if tree.get("error"):
        raise QueryProblem(
            f"the query cannot be checked: {tree.get('error_message', 'unknown form')}", "sandbox_violation"
        )
    return tree


def _hidden_names(tree: Any) -> set[str]:
    """The system functions and tables that a parse tree names (see HIDDEN_FUNCTIONS and the rest)."""
    return _names(tree, lambda name, *where: name.lower() in HIDDEN_FUNCTIONS or _is_system(name, *where), _is_system)


def _names(node: Any, function: Callable[..., bool], table: Callable[..., bool] = lambda *_: False) -> set[str]:
    """The functions (`name()`) and tables of a parse tree that `function` or `table` picks, each given the name,
    its schema and its catalog."""
    found: set[str] = set()
    if isinstance(node, list):
        for item in node:
            found |= _names(item, function, table)
        return found
    if not isinstance(node, dict):
        return found
    if node.get("class") == "FUNCTION":
        name = str(node.get("function_name", ""))
        if function(name, node.get("schema"), node.get("catalog")):
            found.add(f"{name}()")
    elif node.get("type") == "BASE_TABLE":
        name = str(node.get("table_name", ""))
        if table(name, node.get("schema_name"), node.get("catalog_name")):
            found.add(".".join(part for part in (node.get("schema_name"), name) if part))
    for value in node.values():
        if isinstance(value, dict | list):
            found |= _names(value, function, table)
    return found


def _is_system(name: str, *scopes: Any) -> bool:
    return name.lower().startswith(HIDDEN_PREFIXES) or any(str(s or "").lower() in HIDDEN_SCHEMAS for s in scopes)


def violation(message: str, field: str) -> SandboxViolation:
    """A sandbox violation naming the step field that caused it."""
    return SandboxViolation(
        f"{field}: {message}", errors=[{"field": field, "message": message, "code": "sandbox_violation"}]
    )


def set_parameters(conn: duckdb.DuckDBPyConnection, values: Mapping[str, Any]) -> None:
    """Put each parameter value in a DuckDB variable, bound as a prepared statement's value (never as text)."""
    for name, value in values.items():
        variable = duck.ident(PARAM_VARIABLE + name.lower())
        conn.execute(f"SET VARIABLE {variable} = $value", {"value": value}).fetchall()


def view_query(sql: str) -> str:
    """`sql` with each `$name` placeholder replaced by `getvariable('param:name')`, for a view: DuckDB does not
    prepare CREATE VIEW, so a view reads the values `set_parameters` bound. Placeholders are found by DuckDB's own
    tokenizer, so text in strings and comments is left alone; no value is ever pasted into the SQL. The tokenizer
    gives UTF-8 byte offsets, so the text is cut as bytes (a column named `金额` before `$floor` shifts it)."""
    raw = sql.encode()
    tokens = duckdb.tokenize(sql)
    ends = [offset for offset, _ in tokens[1:]] + [len(raw)]
    parts, done = [], 0
    for index, ((offset, kind), (following, next_kind)) in enumerate(pairwise(tokens)):
        if kind != duckdb.token_type.operator or raw[offset : offset + 1] != b"$" or following != offset + 1:
            continue
        if next_kind not in (duckdb.token_type.identifier, duckdb.token_type.keyword):
            continue
        name = raw[following : ends[index + 1]].rstrip()
        parts += [raw[done:offset], f"getvariable({duck.literal(PARAM_VARIABLE + _unquote(name))})".encode()]
        done = following + len(name)
    parts.append(raw[done:])
    rewritten = b"".join(parts).decode()
    if query_parameters(rewritten):
        raise QueryProblem("a parameter placeholder could not be bound", "unknown_param")
    return rewritten


def _unquote(name: bytes) -> str:
    """A placeholder's name as `set_parameters` keys it: lower case, a quoted name (`$"day"`) without its quotes."""
    text = name.decode()
    if len(text) > 1 and text[0] == text[-1] == '"':
        text = text[1:-1].replace('""', '"')
    return text.lower()
