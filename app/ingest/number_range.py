"""Numbers no double holds in a JSON number.

`1e400` in a JSON number or a CSV float column became +infinity (shown as null) and `1e-400` became 0.0, both
silently. Such a literal in a JSON number now fails a strict import (and preview) naming its row, column and
value: there is no number type it could be kept in (a float overflows, a decimal holds 38 digits), and reading
the whole column as text unasked would hide the other values' numbers. A lenient one reads that column as text,
with a notice naming the value (OutOfRangeAsText), as a CSV's does (app.ingest.csv_range).

It is kept cheap: `may_hold` looks at the bytes at C speed (bytes.translate and find) for an exponent of three or
more digits or a run of 309 or more digits; only a file it flags is read again as text, where OUT_OF_RANGE_SQL
finds the row.

A CSV float column is not checked by `may_hold`: hex digests and ids (`36660e5985`) have the shape of such
literals, so the byte check flagged most files with such a column and each was read again as text for its float
columns (the 256 MiB bench CSV: import 1.98 -> 2.93 s). The COPY's own statistics find it there
(app.ingest.csv_range), with `out_of_range_sql` and `number_out_of_range` from here.
"""

from __future__ import annotations

import codecs
import math
import mmap
import os
import re

from app.ingest.errors import ImportFailed

#: Bytes in which each digit is "0" and each point "0": what `may_hold` searches.
_DIGITS_AS_ZERO = bytes(ord("0") if chr(byte).isdigit() or byte == ord(".") else byte for byte in range(256))
#: A digit, `e` or `E`, an optional sign and three digits: an exponent a double may not reach.
_EXPONENTS = (b"0e000", b"0E000", b"0e+000", b"0E+000", b"0e-000", b"0E-000")
#: Digits (and a point) in a row that may be past a double's range without an exponent (1e308 has 309 digits).
LONG_RUN = 309
#: A number literal around a candidate, for `out_of_range`.
_NUMBER = re.compile(rb"-?[0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?")
#: What `may_underflow` searches for: a negative exponent of three digits or more, in C (a literal first).
_UNDERFLOW = (re.compile(rb"e-[0-9]{3}"), re.compile(rb"E-[0-9]{3}"))
#: Bytes of a read `may_hold`'s caller keeps for the next read, so a literal cut between two reads is seen.
TAIL_BYTES = LONG_RUN + 16


def out_of_range(literal: str | bytes) -> bool:
    """Whether a number literal reads as a double only as infinity, or as 0 though it is not zero."""
    text = literal.decode() if isinstance(literal, bytes) else literal
    try:
        value = float(text)
    except ValueError:
        return False
    if math.isinf(value):
        return True
    mantissa = text.lower().split("e")[0]
    return value == 0 and any(ch in "123456789" for ch in mantissa)


def may_hold(data: bytes) -> bool:
    """Whether `data` may hold a number literal `out_of_range` (inside a string or a text cell too: the caller
    checks what it flags by column). A candidate is checked with `out_of_range`; only its shape is searched for."""
    runs = data.translate(_DIGITS_AS_ZERO)
    for needle in (*_EXPONENTS, b"0" * LONG_RUN):
        start = runs.find(needle)
        while start >= 0:
            begin = start
            while begin > 0 and runs[begin - 1] in b"0-":
                begin -= 1
            found = _NUMBER.match(data, begin)
            if found is not None and _alone(data, begin, found.end()) and out_of_range(found.group()):
                return True
            start = runs.find(needle, start + 1)
    return False


#: `_DIGITS_AS_ZERO` with `E` as `e` and `+` as `-`: two needles find every exponent of three digits or more.
_EXPONENT_SHAPES = bytes(
    ord("e") if byte == ord("E") else ord("-") if byte == ord("+") else _DIGITS_AS_ZERO[byte] for byte in range(256)
)


def may_hold_exponent(data: bytes) -> bool:
    """Whether `data` holds a digit, an exponent of three digits or more (`1e-400`, `1E+400`): `may_hold` for text
    whose numbers never run to 309 digits (a workbook's XML: Excel writes 17 significant digits at most, and a
    cell of 309 reads as infinity, which its reader refuses). Two finds after one translate: 0.27 CPU-s a 107 MB
    sheet, where `may_hold`'s seven cost 0.7 (a third of the pass over the sheet it rides on, 0.3)."""
    shapes = data.translate(_EXPONENT_SHAPES)
    return shapes.find(b"0e000") >= 0 or shapes.find(b"0e-000") >= 0


def _alone(data: bytes, start: int, end: int) -> bool:
    """Whether data[start:end] is a whole number value, not part of a word nor a JSON string: hex digests and ids
    (`c81e728d9d`, `550e8400-e29b-…`, `"36660e5985"`) hold digit-e-digit runs that read as huge exponents, and
    flagged most files with such a column, each then read again as text (a 256 MiB CSV's import 1.98 -> 2.93 s;
    a JSON file's every number column read as text for one text column of such ids). A JSON number never touches
    a quote (`quoted`): a string's text is read as text whatever it spells, so it decides nothing."""
    before = data[start - 1 : start] if start else b""
    after = data[end : end + 1]
    word = before.isalnum() or before in (b"_", b".") or after.isalnum() or after in (b"_", b".", b"-")
    return not word and not quoted(data, start, end)


def quoted(data: bytes, start: int, end: int) -> bool:
    """Whether the token data[start:end] touches a double quote: JSON text (a string's whole value such as
    "1e500" or "6222021234567890123"), never a JSON number, which a delimiter or space always ends."""
    return data[start - 1 : start] == b'"' or data[end : end + 1] == b'"'


def may_underflow(data: bytes | mmap.mmap) -> bool:
    """Whether `data` holds a number literal, alone (not in a word nor a quoted JSON string), that reads as 0 though
    it is not zero (`1e-400`). Only `e-` or `E-` and three digits are searched for (in C: about 0.05 s a 64 MiB;
    `may_hold` also flags the long digit runs and big exponents of ids), each hit then checked in Python."""
    for pattern in _UNDERFLOW:
        for hit in pattern.finditer(data):
            begin = hit.start()
            while begin > 0 and data[begin - 1] in b"0123456789.-":
                begin -= 1
            found = _NUMBER.match(data, begin)
            whole = found is not None and found.end() >= hit.end() and _alone(data, begin, found.end())
            if whole and found is not None and out_of_range(found.group()):
                return True
    return False


def file_may_underflow(path: str, encoding: str = "utf-8", chunk_bytes: int = 16 << 20) -> bool:
    """`may_underflow` over a whole file, `chunk_bytes` at a time, each piece overlapping the next by TAIL_BYTES: as
    UTF-8 or Latin-1 mapped into memory a window at a time (0.26 CPU-s a 256 MiB file, half of what reading it
    costs; mapping it whole made the import's peak RSS count every page of the file, 1.46 GB for a 1 GiB CSV); in
    another encoding (DuckDB's UTF-16) read and decoded."""
    if encoding in ("utf-8", "utf-8-sig", "latin-1"):
        window = max(mmap.ALLOCATIONGRANULARITY, chunk_bytes - chunk_bytes % mmap.ALLOCATIONGRANULARITY)
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            for offset in range(0, size, window):
                length = min(window + TAIL_BYTES, size - offset)
                with mmap.mmap(handle.fileno(), length, access=mmap.ACCESS_READ, offset=offset) as mapped:
                    if may_underflow(mapped):
                        return True
        return False
    decoder = codecs.getincrementaldecoder(encoding)("replace")
    tail = b""
    with open(path, "rb") as handle:
        while chunk := handle.read(chunk_bytes):
            data = tail + decoder.decode(chunk).encode()
            if may_underflow(data):
                return True
            tail = data[-TAIL_BYTES:]
    return False


def out_of_range_sql(text: str) -> str:
    """SQL: whether `text` (a VARCHAR of a number literal) reads as a double only as infinity, or as 0 though
    not zero: `out_of_range` for a column. Written `inf` or `NaN` is no literal of this kind."""
    value = f"TRY_CAST({text} AS DOUBLE)"
    mantissa = f"regexp_replace({text}, '[eE].*$', '')"
    return (
        f"(({value} IN ('inf'::DOUBLE, '-inf'::DOUBLE) AND NOT regexp_matches({text}, '[a-df-zA-DF-Z]'))"
        f" OR ({value} = 0 AND regexp_matches({mantissa}, '[1-9]')))"
    )


class NumberOutOfRange(ImportFailed):
    """A number literal no double holds (422), named by row, column and value."""

    code = "number_out_of_range"


def nonfinite_text(value: float) -> str:
    """A non-finite double (an xls/xlsb cell can store one) as a text column and a message show it."""
    return "NaN" if math.isnan(value) else ("-inf" if value < 0 else "inf")


def beyond(value: str) -> str:
    """What is wrong with the literal `value` (`out_of_range`, or a stored NaN), in the words every reader uses."""
    shown = value if len(value) <= 40 else value[:37] + "..."
    if math.isnan(float(value)):
        return f"the cell holds {shown} (not a number), which no number column keeps"
    became = ("-infinity" if value.strip().startswith("-") else "infinity") if math.isinf(float(value)) else "0"
    return (
        f"the number {shown} is beyond what a float holds (about 1.8e308 down to 5e-324 in size) and would have "
        f"been read as {became}"
    )


def number_out_of_range(row: int, column: str, value: str) -> NumberOutOfRange:
    """The error for `value` at `row` of `column`, whichever reader met it."""
    message = f"row {row}, column {column!r}: {beyond(value)}: write it as text (quoted), or in other units"
    return NumberOutOfRange(message, errors=[{"row": row, "column": column, "message": message}])
