"""NaN and Infinity in JSON: not JSON numbers, imported as NULL.

`NaN`, `Infinity` and `-Infinity` are not JSON, but Python's `json.dumps` writes them (for missing or overflowed
floats, as pandas means NaN). yajl (ijson) refused them, so a preview failed, while DuckDB read them as IEEE
values that sort above every number and turn sums and averages into NaN. They are imported as NULL, with a
warning: `NonFiniteAsNull` rewrites them to `null` in the bytes ijson reads (never inside a string), and a file
DuckDB would read directly is sent through ijson instead when `scan` finds one.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec

#: Bytes read at a time by `scan`; each read also looks at the end of the one before, for a token it cut.
SCAN_CHUNK_BYTES = 1024 * 1024
#: Longest token rewritten (`-Infinity`): a read never ends inside one.
_TOKEN_CHARS = len("-Infinity")
_NON_FINITE = re.compile(rb'"(?:[^"\\]|\\.)*"?|-?(?:NaN|Infinity)', re.DOTALL)
_STRING_REST = re.compile(rb'(?:[^"\\]|\\.)*"', re.DOTALL)
_ESCAPE = re.compile(rb"\\.", re.DOTALL)
_WORD_TAIL = re.compile(rb"[A-Za-z-]+\Z")


class NumberScan(msgspec.Struct, frozen=True):
    """What `scan` found in a JSON file's bytes."""

    #: A `NaN`, `Infinity` or `-Infinity` token (or those letters inside a string: checked when read).
    non_finite: bool


def scan(path: str) -> NumberScan:
    """Whether the file may hold non-finite tokens, at memchr speed (no JSON parsing)."""
    tail = b""
    with open(path, "rb") as handle:
        while chunk := handle.read(SCAN_CHUNK_BYTES):
            data = tail + chunk
            if b"NaN" in data or b"Infinity" in data:
                return NumberScan(non_finite=True)
            tail = data[-_TOKEN_CHARS:]
    return NumberScan(non_finite=False)


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
