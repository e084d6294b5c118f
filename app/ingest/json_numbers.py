"""Numbers in JSON that DuckDB's reader would not keep as written: NaN and Infinity, and integers past 64 bits.

`NaN`, `Infinity` and `-Infinity` are not JSON, but Python's `json.dumps` writes them (for missing or overflowed
floats, as pandas means NaN). yajl (ijson) refused them, so a preview failed, while DuckDB read them as IEEE
values that sort above every number and turn sums and averages into NaN. They are imported as NULL, with a
warning: `NonFiniteAsNull` rewrites them to `null` in the bytes ijson reads (never inside a string), and a file
DuckDB reads directly is first copied with them rewritten the same way, when `scan` finds the letters.

`scan` also says whether a file may hold an integer literal of 19 digits or more, which DuckDB reads as a lossy
double (past 2^64) or as a HUGEINT: only then are its number columns read as text and checked (json_reader).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import duckdb
import msgspec

from app.ingest.duck import WIDER_THAN_BIGINT, duckdb_type, ident, wide_integer_type
from app.ingest.errors import ImportCancelled

#: Bytes read at a time by `scan`; each read also looks at the end of the one before, for a token it cut.
SCAN_CHUNK_BYTES = 1024 * 1024
#: DuckDB types a JSON number is read as when its literal may be an integer past BIGINT.
MAYBE_WIDE = frozenset({"DOUBLE", *WIDER_THAN_BIGINT})
#: A JSON number's text that is an integer.
_INTEGER = "'-?[0-9]+'"
#: Fewest digits of an integer literal that may not fit a BIGINT (2^63 has 19 digits).
WIDE_DIGITS = 19
#: Longest token rewritten (`-Infinity`): a read never ends inside one.
_TOKEN_CHARS = len("-Infinity")
_NON_FINITE = re.compile(rb'"(?:[^"\\]|\\.)*"?|-?(?:NaN|Infinity)', re.DOTALL)
_STRING_REST = re.compile(rb'(?:[^"\\]|\\.)*"', re.DOTALL)
_ESCAPE = re.compile(rb"\\.", re.DOTALL)
_WORD_TAIL = re.compile(rb"[A-Za-z-]+\Z")
_DIGITS_AS_ZERO = bytes(ord("0") if chr(byte).isdigit() else byte for byte in range(256))
_ZEROS = re.compile(rb"0*")
_NOT_INTEGER_AFTER = frozenset(b".eE")


class NumberScan(msgspec.Struct, frozen=True):
    """What `scan` found in a JSON file's bytes."""

    #: A `NaN`, `Infinity` or `-Infinity` token (or those letters inside a string: checked when read).
    non_finite: bool
    #: An integer literal of WIDE_DIGITS digits or more (or such digits inside a string).
    wide_integers: bool


def scan(path: str) -> NumberScan:
    """Whether the file may hold non-finite tokens or wide integers, at C speed (no JSON parsing)."""
    non_finite = wide = False
    tail = b""
    with open(path, "rb") as handle:
        while chunk := handle.read(SCAN_CHUNK_BYTES):
            data = tail + chunk
            non_finite = non_finite or b"NaN" in data or b"Infinity" in data
            wide = wide or _has_wide_integer(data)
            if non_finite and wide:
                break
            tail = data[-(WIDE_DIGITS + 2) :]
    return NumberScan(non_finite=non_finite, wide_integers=wide)


def _has_wide_integer(data: bytes) -> bool:
    """A run of WIDE_DIGITS or more digits that is not the fraction or the mantissa of a float."""
    digits = data.translate(_DIGITS_AS_ZERO)
    run = b"0" * WIDE_DIGITS
    start = digits.find(run)
    while start >= 0:
        end = _ZEROS.match(digits, start + WIDE_DIGITS).end()  # type: ignore[union-attr]
        after_point = start > 0 and data[start - 1] == ord(".")
        if not after_point and (end == len(data) or data[end] not in _NOT_INTEGER_AFTER):
            return True
        start = digits.find(run, end)
    return False


def write_non_finite_as_null(
    source: str, target: str, *, should_stop: Callable[[], bool] | None = None
) -> NonFiniteAsNull:
    """Copy `source` (UTF-8 JSON) to `target` with NaN / Infinity as null, for DuckDB to read; the filter returned
    has counted them. A byte copy: 0.46 s for 225 MB of NDJSON, where parsing it out with ijson took 7.1 s."""
    with open(source, "rb") as raw, open(target, "wb") as out:
        rewritten = NonFiniteAsNull(raw)
        while chunk := rewritten.read(SCAN_CHUNK_BYTES):
            if should_stop is not None and should_stop():
                raise ImportCancelled("import cancelled")
            out.write(chunk)
    return rewritten


def non_finite_warnings(count: int, first_line: int | None) -> list[str]:
    """The warning an import or a preview gives for the NaN / Infinity values it read as null."""
    if not count:
        return []
    read = f"{count} value(s) read, the first on line {first_line}"
    return [f"NaN or Infinity (not JSON numbers) imported as NULL: {read}"]


class NonFiniteAsNull:
    """Reads through `handle` (UTF-8 JSON bytes), giving `null` for each NaN, Infinity and -Infinity outside strings.

    `count` says how many were rewritten so far and `first_line` the line of the first. A read never ends inside
    such a token; strings (and their escapes) are followed across reads.
    """

    def __init__(self, handle: Any) -> None:
        self._handle = handle
        self._carry = b""
        self._in_string = False
        self._escaped = False  # the last byte given was a backslash inside a string
        self._lines = 0
        self.count = 0
        self.first_line: int | None = None

    def read(self, size: int = -1) -> bytes:
        while True:
            chunk = self._handle.read(size)
            data = self._carry + chunk
            if not chunk:
                self._carry = b""
                return self._rewrite(data)
            cut = max(len(data) - _TOKEN_CHARS, 0)
            word = _WORD_TAIL.search(data, max(cut - _TOKEN_CHARS, 0), cut)
            if word is not None:
                cut = word.start()  # a token is never split between two reads
            self._carry = data[cut:]
            if cut:
                return self._rewrite(data[:cut])

    def _rewrite(self, part: bytes) -> bytes:
        start_in_string, start = self._in_string, 1 if self._escaped and self._in_string else 0
        self._follow_strings(part, start)
        self._lines += part.count(b"\n")
        if b"NaN" not in part and b"Infinity" not in part:
            return part
        position = start
        if start_in_string:
            closed = _STRING_REST.match(part, position)
            if closed is None:
                return part
            position = closed.end()
        pieces, last, lines_before = [], 0, self._lines - part.count(b"\n")
        for match in _NON_FINITE.finditer(part, position):
            if match.group().startswith(b'"'):
                continue
            if self.first_line is None:
                self.first_line = lines_before + part.count(b"\n", 0, match.start()) + 1
            self.count += 1
            pieces += [part[last : match.start()], b"null"]
            last = match.end()
        return b"".join(pieces) + part[last:] if pieces else part

    def _follow_strings(self, part: bytes, start: int) -> None:
        """Whether `part` ends inside a string, and after an unpaired backslash (C speed: no byte loop)."""
        text = part[start:]
        if b"\\" in text:
            text = _ESCAPE.sub(b"", text)
        self._escaped = text.endswith(b"\\")
        if text.count(b'"') % 2:
            self._in_string = not self._in_string

    def tell(self) -> int:
        return int(self._handle.tell())

    def close(self) -> None:
        self._handle.close()


def numbers_as_text(columns: list[tuple[str, Any]]) -> dict[str, str]:
    """`read_json` column types as inferred, but numbers that may be wide integers as their text (VARCHAR, which
    keeps the literal) and lists and maps as JSON (their text as written, every digit kept)."""

    def typed(kind: Any) -> str:
        if kind.id == "struct" and kind.children:
            return "STRUCT(" + ", ".join(f"{ident(name)} {typed(child)}" for name, child in kind.children) + ")"
        if kind.id in ("list", "array", "map", "struct", "union"):
            return "JSON"
        return "VARCHAR" if str(kind).upper() in MAYBE_WIDE else str(kind)

    return {name: typed(kind) for name, kind in columns}


def typed_numbers(
    conn: duckdb.DuckDBPyConnection, raw: str, leaves: list[tuple[str, str, str, int | None, str]]
) -> list[tuple[str, str, str, int | None]]:
    """(expression, name, type, scale) of each leaf over `raw` (a source read with `numbers_as_text`): a number
    column holding an integer past BIGINT follows `wide_integer_type` (text when it also holds a fraction), the
    others are cast back to their number type. One pass over the records counts what each column holds."""
    numbers = [(expr, kind) for expr, _, _, _, kind in leaves if kind in MAYBE_WIDE]
    parts = []
    for expr, _ in numbers:
        integer = f"regexp_full_match({expr}, {_INTEGER})"
        parts += [
            f"count(*) FILTER (WHERE {integer} AND TRY_CAST({expr} AS BIGINT) IS NULL)",
            f"count(*) FILTER (WHERE {expr} IS NOT NULL AND NOT {integer})",
            f"coalesce(max(length(ltrim({expr}, '-'))) FILTER (WHERE {integer}), 0)",
        ]
    counted: tuple[Any, ...] = conn.execute(f"SELECT {', '.join(parts)} FROM {raw}").fetchall()[0] if parts else ()
    found = {expr: (counted[3 * i], counted[3 * i + 1], counted[3 * i + 2]) for i, (expr, _) in enumerate(numbers)}
    typed: list[tuple[str, str, str, int | None]] = []
    for expr, name, ours, scale, kind in leaves:
        if kind not in MAYBE_WIDE:
            typed.append((expr, name, ours, scale))
            continue
        wide, fractions, digits = found[expr]
        if not wide:
            typed.append((f"CAST({expr} AS {duckdb_type(ours)})", name, ours, None))
            continue
        wide_type, wide_scale = wide_integer_type(digits) if not fractions else ("string", None)
        cast = f"CAST({expr} AS {duckdb_type(wide_type, wide_scale)})" if wide_type == "decimal" else expr
        typed.append((cast, name, wide_type, wide_scale))
    return typed
