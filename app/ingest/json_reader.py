"""JSON through DuckDB's `read_json`, with ijson only where DuckDB would need the whole document in memory.

A top-level array or NDJSON is read by DuckDB directly: parallel, streaming, and it refuses nesting deeper
than 128 levels with a clear error instead of overflowing a stack. Records under a path (`data.items`) or a
lone top-level object are first streamed out with ijson (a C-backed incremental parser) into an NDJSON temp
file, record by record, so memory stays bounded by one record; a record too deep to re-encode fails cleanly.
So is a file in another encoding. NaN / Infinity become null either way (json_numbers), and an object with a
key twice is refused (json_keys). Nested objects become columns named with the separator (`address.city`);
arrays and maps stay JSON values.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, NamedTuple

import duckdb
import ijson
import msgspec

from app.ingest.columns import Planned, clean_names, plan_columns
from app.ingest.config import ImportConfig, ImportLimits
from app.ingest.duck import WIDER_THAN_BIGINT, duckdb_reason, duckdb_type, ident, literal, our_type
from app.ingest.errors import ImportCancelled, ImportFailed, LimitExceeded
from app.ingest.json_budget import Bounded, BudgetSpent, ReadBudget, record_limit, record_too_large
from app.ingest.json_depth import DepthGuard
from app.ingest.json_keys import EMPTY_KEY, EmptyKey, duplicate_key, empty_key_named, key_checking_dict, key_twice_in
from app.ingest.json_numbers import NonFiniteAsNull, non_finite_warnings, numbers_as_text, typed_numbers
from app.ingest.notices import note
from app.ingest.notices.columns import UtcOffset
from app.ingest.notices.file import OneRecord, RecordsPath
from app.ingest.textio import Utf8Reader

#: ijson events looked at to find the first array of records in a document.
PATH_SEARCH_EVENTS = 10_000
#: Deepest nesting ijson is let build (its memory grows with the square of the depth): DuckDB's own limit on a
#: record, plus room for the levels of a record path above it.
IJSON_MAX_DEPTH = ImportLimits().max_json_depth + 16


def json_mode(
    path: str, kind: str, config: ImportConfig, encoding: str, record_bytes: int
) -> tuple[str, str | None, list[str]]:
    """How to read the records: `array`, `ndjson`, or `path` (ijson prefix), with the prefix and warnings.

    The search for a record path reads at most `record_bytes` (a record_limit) into the file, as reading the
    records would."""
    if config.format == "ndjson" or (config.format is None and kind == "ndjson" and not config.record_path):
        return "ndjson", None, []
    if config.record_path:
        return "path", f"{config.record_path}.item", []
    with reader(path, encoding) as handle:
        first = handle.read(4096).lstrip(b" \t\r\n")[:1]
    if first == b"[":
        return "array", "item", []
    found = find_record_path(path, encoding, record_bytes)
    if found:
        return "path", f"{found}.item", [note(RecordsPath(path=found))]
    return "path", "", [note(OneRecord())]


def reader(path: str, encoding: str) -> Any:
    """The file as UTF-8 bytes without a BOM, whatever its encoding, with NaN and Infinity as null (the filter is
    the reader's `non_finite`), refused once nested too deep for ijson."""
    raw = open(path, "rb") if encoding == "utf-8" else Utf8Reader(path, encoding)  # noqa: SIM115 - closed with the guard
    non_finite = NonFiniteAsNull(raw)
    guard = DepthGuard(non_finite, IJSON_MAX_DEPTH)
    guard.non_finite = non_finite  # type: ignore[attr-defined]
    return guard


class Extracted(msgspec.Struct, frozen=True):
    """What `extract_records` wrote: records, the NaN / Infinity values it wrote as null, and whether it wrote an
    empty key as EMPTY_KEY."""

    records: int
    non_finite: int = 0
    first_non_finite_line: int | None = None
    empty_key: bool = False

    def warnings(self) -> list[str]:
        """The warning an import or preview gives for the NaN / Infinity values written as null."""
        return non_finite_warnings(self.non_finite, self.first_non_finite_line)


def find_record_path(path: str, encoding: str, record_bytes: int) -> str | None:
    """The dotted path of the first array of objects in a JSON document, from its first events only.

    Within `record_bytes` of the start, where the first record under a path must end (LimitExceeded past it):
    a long value before the records was read whole, a 1 GB string into the API process for a preview."""
    previous: tuple[str, str] | None = None
    try:
        with reader(path, encoding) as handle:
            bounded = Bounded(handle, ReadBudget(total=sys.maxsize, record=record_bytes), first_at_start=False)
            for count, (prefix, event, _value) in enumerate(ijson.parse(bounded, buf_size=READ_BYTES)):
                if previous and previous[1] == "start_array" and event == "start_map" and previous[0]:
                    return previous[0]
                previous = (prefix, event)
                if count > PATH_SEARCH_EVENTS:
                    break
    except (ijson.JSONError, UnicodeDecodeError):
        return None
    return None


def extract_records(
    source: str,
    target: str,
    prefix: str | None,
    *,
    encoding: str = "utf-8",
    limit: int | None = None,
    budget: ReadBudget | None = None,
    should_stop: Callable[[], bool] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Extracted:
    """Stream the records at `prefix` (None: each top-level value) into an NDJSON file; says what it wrote.

    A key twice in one object raises DuplicateKey; NaN and Infinity are written as null (and counted). With a
    `budget` (a preview), reading stops once past its bytes (the records read so far kept), and a record read past
    its per-record bytes raises LimitExceeded, before the rest of a 50 MB string is read.

    yajl (ijson's C backend) refuses an integer past 64 bits ("integer overflow"), which DuckDB reads as a number:
    such a file is read again with ijson's pure-Python backend (slower, exact), so a preview or a record-path
    import no longer fails where an array import succeeds."""
    run = (source, target, prefix, encoding, limit, budget, should_stop, progress)
    try:
        return _extract(ijson, *run)
    except _IntegerOverflow:
        return _extract(ijson.get_backend("python"), *run)


#: Writes the extracted records: a number ijson read as a Decimal as the number it is, every digit kept (as
#: floats, 0.1234567890123456789012 became 0.12345678901234568 before the preview or a record-path import saw it).
_RECORD_ENCODER = msgspec.json.Encoder(decimal_format="number")


#: What ijson asks its file for at a time. yajl lexes a token split across reads again from its start on each
#: read, so a long string costs reads x its length: at ijson's 64 KiB a preview of a 32 MiB string took 2.3 CPU-s
#: in the API process, at 1 MiB 0.2 (records of a few fields: the same either way).
READ_BYTES = 1 << 20


class _IntegerOverflow(Exception):
    """yajl met an integer it cannot hold."""


def _extract(backend, source, target, prefix, encoding, limit, budget, should_stop, progress) -> Extracted:  # type: ignore[no-untyped-def]
    count = 0
    twice: list[tuple[dict[str, Any], str]] = []
    keys_seen: set[str] = set()
    with reader(source, encoding) as handle, open(target, "wb") as writer:
        bounded = Bounded(handle, budget, first_at_start=prefix in (None, "", "item")) if budget is not None else None
        items = backend.items(
            bounded or handle,
            "" if prefix is None else prefix,
            use_float=False,  # a fraction as a Decimal, written back with every digit (_RECORD_ENCODER)
            multiple_values=prefix is None,
            map_type=key_checking_dict(twice),
            buf_size=READ_BYTES,
        )
        try:
            for record in items:
                if twice and (key := key_twice_in(record, twice)) is not None:
                    raise duplicate_key(count + 1, key)
                try:
                    writer.write(_RECORD_ENCODER.encode(empty_key_named(record, count + 1, keys_seen)))
                except RecursionError as exc:
                    raise ImportFailed(f"record {count + 1} is nested too deeply to import", code="too_deep") from exc
                writer.write(b"\n")
                count += 1
                if bounded is not None:
                    bounded.record_done()
                if count % 10_000 == 0:
                    if should_stop is not None and should_stop():
                        raise ImportCancelled("import cancelled")
                    if progress is not None:
                        progress(count, handle.tell())
                if limit is not None and count >= limit:
                    break
        except BudgetSpent:
            pass  # a preview has read what it may: the records before are its head
        except ijson.JSONError as exc:
            if "integer overflow" in str(exc) and backend is ijson:
                raise _IntegerOverflow from exc
            raise ImportFailed(f"not valid JSON after record {count}: {str(exc).splitlines()[0]}") from exc
        except UnicodeDecodeError as exc:
            raise ImportFailed(f"not valid {encoding} after record {count}: {exc.reason}") from exc
        non_finite = handle.non_finite
    return Extracted(count, non_finite.count, non_finite.first_line, empty_key="" in keys_seen)


def read_error(exc: duckdb.Error, limits: ImportLimits, doing: str) -> ImportFailed | LimitExceeded:
    """A DuckDB error while reading the records as a clear error. A record past what `maximum_object_size` lets
    DuckDB read (app.ingest.json_budget.record_limit; a 50 MB string) said only DuckDB's 'Try increasing
    "maximum_object_size"', as import_failed: it is a limit, as a CSV line past max_line_bytes is."""
    reason = duckdb_reason(exc)
    if "maximum_object_size" in reason:
        return record_too_large(record_limit(limits.max_line_bytes))
    return ImportFailed(f"could not {doing} the JSON records: {reason}")


def read_call(
    path: str,
    mode: str,
    limits: ImportLimits,
    *,
    sample_size: int,
    columns: dict[str, str] | None = None,
    records: str = "auto",
) -> str:
    """The `read_json(...)` call for an array or NDJSON file (with `columns`, read as those types, not inferred;
    with records='false', each record as one JSON value)."""
    fmt = "array" if mode == "array" else "newline_delimited"
    typed = f", columns={literal(columns)}" if columns else ""
    return (
        f"read_json({literal(path)}, format={literal(fmt)}, records={literal(records)}, sample_size={sample_size}, "
        f"maximum_object_size={limits.max_line_bytes}, maximum_depth={limits.max_json_depth}{typed})"
    )


class Leaf(NamedTuple):
    """One column of the flattened records."""

    #: The SQL expression over the records' source.
    expr: str
    #: The flattened name (`address.city`).
    name: str
    #: Our type.
    type: str
    #: The decimal scale, for a `decimal` leaf.
    scale: int | None = None


def records(
    conn: duckdb.DuckDBPyConnection,
    path: str,
    mode: str,
    limits: ImportLimits,
    separator: str,
    *,
    long_numbers: bool,
    text_path: str | None = None,
    lenient: bool = False,
    empty_key: bool = False,
) -> tuple[str, list[Leaf], list[str]]:
    """The records' `read_json(...)` source, a Leaf for every leaf of their nested objects, and warnings.

    DuckDB reads an integer past 2^64 as a double (123456789012345678901234567890 became 1.2345678901234568e29)
    and one past 2^63 as a HUGEINT no BIGINT holds, and a decimal of more than 17 significant digits as a double.
    When `long_numbers` (json_numbers.scan found such digits) or a column is typed so, the numbers are read as their
    text and such columns follow `exact_number_type`, each with a warning. DuckDB parses a decimal as a double even
    read as VARCHAR, so the text is read from `text_path`, a copy with the long decimals quoted
    (json_numbers.write_non_finite_as_null(quote_long=True)); the types are inferred from `path`. `empty_key`: its
    EMPTY_KEY column stands for an empty key (`Extracted.empty_key`).
    """
    source = read_call(path, mode, limits, sample_size=-1)
    if conn.execute(f"SELECT 1 FROM {source} LIMIT 1").fetchone() is None:
        raise ImportFailed("the JSON holds no records", code="no_records")
    relation = conn.sql(f"SELECT * FROM {source} LIMIT 0")
    columns = list(zip(relation.columns, relation.types, strict=True))
    if _read_as_one_map(conn, columns, path, mode, limits):
        raise EmptyKey(path)
    found = _leaves(columns, separator, empty_key)
    zoned = [note(UtcOffset(column=leaf.name, example=None)) for leaf, kind in found if kind == TIMESTAMPTZ]
    if not long_numbers and not any(kind in WIDER_THAN_BIGINT for _, kind in found):
        return source, [_as_typed(leaf, kind) for leaf, kind in found], zoned
    raw = read_call(text_path or path, mode, limits, sample_size=-1, columns=numbers_as_text(columns))
    described = [(leaf.expr, leaf.name, leaf.type, leaf.scale, kind) for leaf, kind in found]
    numbers, warnings = typed_numbers(conn, raw, described, lenient=lenient)
    leaves = [_in_utc(Leaf(*typed), kind) for typed, (_, kind) in zip(numbers, found, strict=True)]
    return raw, leaves, zoned + warnings


def _leaves(columns: list[tuple[str, Any]], separator: str, empty_key: bool) -> list[tuple[Leaf, str]]:
    """Each leaf of the records' nested objects (its expression not yet cast), with its DuckDB type name; with
    `empty_key`, the EMPTY_KEY column named "" again."""
    found: list[tuple[Leaf, str]] = []

    def walk(expr: str, name: str, kind: Any) -> None:
        if kind.id == "struct" and kind.children:
            for child, child_kind in kind.children:
                walk(f"struct_extract({expr}, {literal(child)})", f"{name}{separator}{child}", child_kind)
        elif kind.id in ("list", "array", "map", "struct", "union"):
            found.append((Leaf(f"to_json({expr})", name, "json"), "JSON"))
        else:
            found.append((Leaf(expr, name, our_type(str(kind))), str(kind).upper()))

    for column, kind in columns:
        walk(ident(column), "" if empty_key and column == EMPTY_KEY else column, kind)
    return found


def _read_as_one_map(
    conn: duckdb.DuckDBPyConnection, columns: list[tuple[str, Any]], path: str, mode: str, limits: ImportLimits
) -> bool:
    """Whether DuckDB read the records as one MAP column `json` because one has an empty key (not a record whose
    one key is `json`, an object with an empty key in it)."""
    if len(columns) != 1 or columns[0][0] != "json" or columns[0][1].id != "map":
        return False
    whole = read_call(path, mode, limits, sample_size=-1, records="false")
    found = conn.execute(f"SELECT 1 FROM {whole} WHERE list_contains(json_keys(json), '') LIMIT 1").fetchone()
    return found is not None


#: DuckDB's type of a JSON string column whose every time carries a UTC offset.
TIMESTAMPTZ = "TIMESTAMP WITH TIME ZONE"


def _in_utc(leaf: Leaf, kind: str) -> Leaf:
    """A leaf of times with a UTC offset as their instant in UTC, as every reader stores them
    (app.ingest.utc_offsets): stored as DuckDB read them, a TIMESTAMPTZ column, and a preview of them failed
    wanting pytz."""
    return leaf._replace(expr=f"timezone('UTC', {leaf.expr})") if kind == TIMESTAMPTZ else leaf


def _as_typed(leaf: Leaf, kind: str) -> Leaf:
    """A number leaf DuckDB typed other than BIGINT / DOUBLE, cast to the type it is stored as (`_in_utc`)."""
    if kind == TIMESTAMPTZ:
        return _in_utc(leaf, kind)
    if leaf.type in ("integer", "float") and kind != duckdb_type(leaf.type):
        return leaf._replace(expr=f"CAST({leaf.expr} AS {duckdb_type(leaf.type)})")
    return leaf


def plan(leaves: list[Leaf], config: ImportConfig) -> tuple[list[Planned], dict[str, str], list[str]]:
    """The column plan over the flattened leaves, with each source's SQL expression and naming warnings."""
    names, warnings = clean_names([leaf.name for leaf in leaves])
    planned = plan_columns(names, [leaf.type for leaf in leaves], config, [leaf.scale for leaf in leaves])
    return planned, {name: leaf.expr for name, leaf in zip(names, leaves, strict=True)}, warnings
