"""Numbers in JSON that DuckDB's reader would not keep as written: NaN and Infinity, integers past 64 bits and
decimals of more than 17 significant digits.

`NaN`, `Infinity` and `-Infinity` are not JSON, but Python's `json.dumps` writes them (for missing or overflowed
floats, as pandas means NaN). yajl (ijson) refused them, so a preview failed, while DuckDB read them as IEEE
values that sort above every number and turn sums and averages into NaN. They are imported as NULL, with a
warning: `NonFiniteAsNull` rewrites them to `null` in the bytes ijson reads (never inside a string), and a file
DuckDB reads directly is first copied with them rewritten the same way, when `scan` finds the letters.

`scan` also says whether a file may hold an integer literal of 19 digits or more, which DuckDB reads as a lossy
double (past 2^64) or as a HUGEINT, or a decimal of more than 17 significant digits (12345678901234567890.123,
0.1234567890123456789012), which it reads as a double that keeps 15 to 17: only then are its number columns read
as text and checked (json_reader), and such a column follows `exact_number_type`. Seventeen digits tell every
double apart, so the floats a program writes (Python's repr, JavaScript's JSON.stringify) never cross the line.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any, Literal

import duckdb
import msgspec

from app.ingest import number_range
from app.ingest.duck import WIDER_THAN_BIGINT, duckdb_type, exact_number_type, ident
from app.ingest.errors import ImportCancelled
from app.ingest.notices import note
from app.ingest.notices.columns import ExactNumbers, NonFiniteNull, OutOfRangeAsText

#: Bytes read at a time by `scan`; each read also looks at the end of the one before, for a token it cut.
SCAN_CHUNK_BYTES = 1024 * 1024
#: DuckDB types a JSON number is read as when its literal may be an integer past BIGINT.
MAYBE_WIDE = frozenset({"DOUBLE", *WIDER_THAN_BIGINT})
#: A JSON number's text that is an integer; one with a fraction and no exponent.
_INTEGER, _DECIMAL = "'-?[0-9]+'", "'-?[0-9]+\\.[0-9]+'"
#: Bytes of a number cut by the end of a read that the next read looks at again, at most.
MAX_TAIL_BYTES = 1024
_NUMBER_TAIL = re.compile(rb"[0-9.eE+-]*\Z")
#: Most significant digits of a decimal a double keeps (and tells apart from every other double).
DOUBLE_DIGITS = 17
#: A decimal literal of more than DOUBLE_DIGITS significant digits (first to last nonzero digit): its fraction's
#: alone, or its integer part's (a point follows) and on; the lookbehind makes an integer part start a number.
_LONG_DECIMAL = re.compile(rb"(?:\.0*[1-9][0-9]{16}|[1-9](?<![0-9.][1-9])(?=[0-9]*\.)(?:\.?[0-9]){16})[0-9]*[1-9]")
#: Fewest digits of an integer literal that may not fit a BIGINT (2^63 has 19 digits).
WIDE_DIGITS = 19
#: Longest token rewritten (`-Infinity`): a read never ends inside one.
_TOKEN_CHARS = len("-Infinity")
_NON_FINITE = re.compile(rb'"(?:[^"\\]|\\.)*"?|-?(?:NaN|Infinity)', re.DOTALL)
_STRING_REST = re.compile(rb'(?:[^"\\]|\\.)*"', re.DOTALL)
_ESCAPE = re.compile(rb"\\.", re.DOTALL)
_WORD_TAIL = re.compile(rb"[A-Za-z0-9.+-]+\Z")
#: A string, or a number token (which `_LONG_DECIMAL` may find long).
_STRING_OR_NUMBER = re.compile(rb'"(?:[^"\\]|\\.)*"?|-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?', re.DOTALL)
_DIGITS_AS_ZERO = bytes(ord("0") if chr(byte).isdigit() else byte for byte in range(256))
_DIGITS_AND_POINT_AS_ZERO = bytes(ord("0") if chr(byte).isdigit() or byte == ord(".") else byte for byte in range(256))
#: Fewest digits and points a decimal of more than DOUBLE_DIGITS significant digits spans (18 digits, a point).
LONG_RUN = 19
_ZEROS = re.compile(rb"0*")
_NOT_INTEGER_AFTER = frozenset(b".eE")


class NumberScan(msgspec.Struct, frozen=True):
    """What `scan` found in a JSON file's bytes."""

    #: A `NaN`, `Infinity` or `-Infinity` token (or those letters inside a string: checked when read).
    non_finite: bool
    #: An integer literal of WIDE_DIGITS digits or more, a decimal of more than DOUBLE_DIGITS significant digits,
    #: or a number no double holds (or such digits inside a longer string; a string that is only such digits, a card
    #: number or a hex id kept as text, decides nothing: number_range.quoted).
    long_numbers: bool


def scan(path: str) -> NumberScan:
    """Whether the file may hold non-finite tokens or long numbers, at C speed (no JSON parsing)."""
    non_finite = wide = False
    tail = b""
    with open(path, "rb") as handle:
        while chunk := handle.read(SCAN_CHUNK_BYTES):
            data = tail + chunk
            non_finite = non_finite or b"NaN" in data or b"Infinity" in data
            wide = wide or _has_wide_integer(data) or _has_long_decimal(data) or number_range.may_hold(data)
            if non_finite and wide:
                break
            tail = data[-_tail_bytes(data) :]
    return NumberScan(non_finite=non_finite, long_numbers=wide)


def _tail_bytes(data: bytes) -> int:
    """How much of a read the next one looks at again: a number the read may have cut (up to MAX_TAIL_BYTES), and
    the byte before it."""
    run = _NUMBER_TAIL.search(data, max(len(data) - MAX_TAIL_BYTES, 0))
    return max(WIDE_DIGITS + 2, len(data) - run.start() + 1 if run else 0)


def _has_long_decimal(data: bytes) -> bool:
    """A decimal of more than DOUBLE_DIGITS significant digits (it spans at least LONG_RUN digits and points).

    The regex alone took 3-4 s over 174 MB of NDJSON: it is only run over the runs of digits and points found at
    C speed (bytes.translate + find), which a double as a program writes reaches only below 1."""
    runs = data.translate(_DIGITS_AND_POINT_AS_ZERO)
    needle = b"0" * LONG_RUN
    start = runs.find(needle)
    while start >= 0:
        end = _ZEROS.match(runs, start + LONG_RUN).end()  # type: ignore[union-attr]
        short = end - start == LONG_RUN and data.startswith(b"0.", start)  # a double below 1, 17 digits at most
        in_string = number_range.quoted(data, start, end)
        if not short and not in_string and _LONG_DECIMAL.search(data, start, end) is not None:
            return True
        start = runs.find(needle, end)
    return False


def _has_wide_integer(data: bytes) -> bool:
    """A run of WIDE_DIGITS or more digits that is not the fraction or the mantissa of a float."""
    digits = data.translate(_DIGITS_AS_ZERO)
    run = b"0" * WIDE_DIGITS
    start = digits.find(run)
    while start >= 0:
        end = _ZEROS.match(digits, start + WIDE_DIGITS).end()  # type: ignore[union-attr]
        after_point = start > 0 and data[start - 1] == ord(".")
        in_string = number_range.quoted(data, start, end)  # a card or account number kept as text
        if not after_point and not in_string and (end == len(data) or data[end] not in _NOT_INTEGER_AFTER):
            return True
        start = digits.find(run, end)
    return False


def write_non_finite_as_null(
    source: str, target: str, *, should_stop: Callable[[], bool] | None = None, quote_long: bool = False
) -> NonFiniteAsNull:
    """Copy `source` (UTF-8 JSON) to `target` with NaN / Infinity as null, for DuckDB to read; the filter returned
    has counted them. A byte copy: 0.46 s for 225 MB of NDJSON, where parsing it out with ijson took 7.1 s.

    With `quote_long`, a decimal of more than DOUBLE_DIGITS significant digits is also written as a string of its
    literal: DuckDB parses a number as a double even when asked for VARCHAR, so this copy is what its text is read
    from (json_reader.records)."""
    with open(source, "rb") as raw, open(target, "wb") as out:
        rewritten = NonFiniteAsNull(raw, quote_long=quote_long)
        while chunk := rewritten.read(SCAN_CHUNK_BYTES):
            if should_stop is not None and should_stop():
                raise ImportCancelled("import cancelled")
            out.write(chunk)
    return rewritten


def non_finite_warnings(count: int, first_line: int | None) -> list[str]:
    """The warning an import or a preview gives for the NaN / Infinity values it read as null."""
    if not count:
        return []
    return [note(NonFiniteNull(count=count, first_line=first_line))]


class NonFiniteAsNull:
    """Reads through `handle` (UTF-8 JSON bytes), giving `null` for each NaN, Infinity and -Infinity outside strings.

    `count` says how many were rewritten so far and `first_line` the line of the first. A read never ends inside
    such a token; strings (and their escapes) are followed across reads.
    """

    def __init__(self, handle: Any, *, quote_long: bool = False) -> None:
        self._handle = handle
        self._quote_long = quote_long
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
        if self._quote_long and (_LONG_DECIMAL.search(part) is not None or number_range.may_hold(part)):
            part = self._quoted(part, start, start_in_string)  # adds whole strings: the state above holds
        if b"NaN" not in part and b"Infinity" not in part:
            return part
        position = _outside_strings_from(part, start, start_in_string)
        if position is None:
            return part
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

    def _quoted(self, part: bytes, start: int, start_in_string: bool) -> bytes:
        """`part` with each long decimal outside strings quoted."""
        position = _outside_strings_from(part, start, start_in_string)
        if position is None:
            return part
        pieces, last = [], 0
        for match in _STRING_OR_NUMBER.finditer(part, position):
            token = match.group()
            if token.startswith(b'"') or (_LONG_DECIMAL.search(token) is None and not number_range.out_of_range(token)):
                continue
            if (b"e" in token or b"E" in token) and _LONG_DECIMAL.search(token) is not None:  # as a preview's
                # records hold it (ijson's Decimal, written back); one out of a double's range stays as written
                token = str(Decimal(token.decode())).encode()
            pieces += [part[last : match.start()], b'"', token, b'"']
            last = match.end()
        return b"".join(pieces) + part[last:]

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
    conn: duckdb.DuckDBPyConnection,
    raw: str,
    leaves: list[tuple[str, str, str, int | None, str]],
    *,
    lenient: bool = False,
) -> tuple[list[tuple[str, str, str, int | None]], list[str]]:
    """(expression, name, type, scale) of each leaf over `raw` (a source read with `numbers_as_text`), and a
    warning per column read exactly. A number no double holds fails with number_out_of_range, or (`lenient`) makes
    its column text, with a warning. A number column holding an integer past BIGINT or a decimal of more than
    DOUBLE_DIGITS significant digits follows `exact_number_type` (text when it also holds an exponent); the
    others are cast back to their number type. One pass over the records counts what each column holds."""
    numbers = [(expr, kind) for expr, _, _, _, kind in leaves if kind in MAYBE_WIDE]
    parts = []
    for expr, _ in numbers:
        integer, decimal = f"regexp_full_match({expr}, {_INTEGER})", f"regexp_full_match({expr}, {_DECIMAL})"
        significant = f"length(ltrim(rtrim(replace(ltrim({expr}, '-'), '.', ''), '0'), '0'))"
        parts += [
            f"count(*) FILTER (WHERE {integer} AND TRY_CAST({expr} AS BIGINT) IS NULL)",
            f"count(*) FILTER (WHERE {decimal} AND {significant} > {DOUBLE_DIGITS})",
            f"count(*) FILTER (WHERE {expr} IS NOT NULL AND NOT {integer} AND NOT {decimal})",
            f"coalesce(max(length(ltrim(split_part(ltrim({expr}, '-'), '.', 1), '0'))), 0)",
            f"coalesce(max(length(rtrim(split_part({expr}, '.', 2), '0'))) FILTER (WHERE {decimal}), 0)",
            f"count(*) FILTER (WHERE {number_range.out_of_range_sql(expr)})",
        ]
    counted: tuple[Any, ...] = conn.execute(f"SELECT {', '.join(parts)} FROM {raw}").fetchall()[0] if parts else ()
    found = {expr: counted[6 * i : 6 * i + 5] for i, (expr, _) in enumerate(numbers)}
    beyond = {expr: _first_out_of_range(conn, raw, expr) for i, (expr, _) in enumerate(numbers) if counted[6 * i + 5]}
    if beyond and not lenient:
        expr, (row, value) = next(iter(beyond.items()))
        raise number_range.number_out_of_range(row, next(name for e, name, *_ in leaves if e == expr), value)
    typed: list[tuple[str, str, str, int | None]] = []
    warnings = []
    for expr, name, ours, scale, kind in leaves:
        if expr in beyond:  # lenient: the column as text, the literal as written (quoted in the text copy)
            typed.append((expr, name, "string", None))
            warnings.append(note(OutOfRangeAsText(column=name, row=beyond[expr][0], value=beyond[expr][1])))
            continue
        if kind not in MAYBE_WIDE:
            typed.append((expr, name, ours, scale))
            continue
        wide, long, other, digits, fraction = found[expr]
        if not wide and not long:
            typed.append((f"CAST({expr} AS {duckdb_type(ours)})", name, ours, None))
            continue
        exact_type, exact_scale = exact_number_type(digits, fraction) if not other else ("string", None)
        cast = f"CAST({expr} AS {duckdb_type(exact_type, exact_scale)})" if exact_type == "decimal" else expr
        typed.append((cast, name, exact_type, exact_scale))
        warnings.append(exact_warning(name, exact_type, exact_scale))
    return typed, warnings


def _first_out_of_range(conn: duckdb.DuckDBPyConnection, raw: str, expr: str) -> tuple[int, str]:
    """The first record of `raw` whose `expr` no double holds, and that literal."""
    row, value = conn.execute(
        f"SELECT n, v FROM (SELECT row_number() OVER () AS n, {expr} AS v FROM {raw}) "
        f"WHERE {number_range.out_of_range_sql('v')} ORDER BY n LIMIT 1"
    ).fetchall()[0]
    return row, value


def exact_warning(name: str, kind: str, scale: int | None) -> str:
    """What a preview and an import say of a number column read exactly rather than as doubles."""
    read_as: Literal["decimal", "text"] = "decimal" if kind == "decimal" else "text"
    return note(ExactNumbers(column=name, read_as=read_as, scale=scale, digits=DOUBLE_DIGITS))


def _outside_strings_from(part: bytes, start: int, start_in_string: bool) -> int | None:
    """Where `part`'s text outside strings begins: `start`, or past the string a previous read left open
    (None when that string does not close in `part`)."""
    if not start_in_string:
        return start
    closed = _STRING_REST.match(part, start)
    return None if closed is None else closed.end()
