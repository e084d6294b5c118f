"""A file wrapper that refuses JSON nested deeper than a limit before ijson builds it.

ijson (yajl2_c) keeps the dotted prefix of every open level (`item.item.item…`), so a document nested n deep
costs memory in n²: 200 KB of `[[[[…]]]]` (100,000 levels) took an API process past 17 GB in a preview. DuckDB
refuses such nesting itself (maximum_depth); ijson has no such option, so every chunk ijson reads is checked
first, at C speed: escapes are dropped, strings are cut out, and only the brackets left are counted (the exact
running depth is walked only when a chunk could pass the limit).
"""

from __future__ import annotations

import re
from itertools import accumulate
from typing import Any

from app.ingest.errors import ImportFailed

_ESCAPE = re.compile(rb"\\.", re.DOTALL)
#: Every byte but the four brackets and the double quote, dropped before strings are cut out.
_NOT_STRUCTURE = bytes(b for b in range(256) if b not in b'[]{}"')
_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


class TooDeep(ImportFailed):
    """A JSON document nests arrays or objects deeper than the limit (422)."""

    code = "too_deep"


class DepthGuard:
    """Reads through `handle`, raising TooDeep once the bytes read so far open more than `max_depth` levels."""

    def __init__(self, handle: Any, max_depth: int) -> None:
        self._handle = handle
        self.max_depth = max_depth
        self._depth = 0
        self._in_string = False
        self._carry = b""  # a backslash that ended the last chunk: it escapes the next chunk's first byte

    def read(self, size: int = -1) -> bytes:
        chunk = self._handle.read(size)
        self.check(chunk)
        return chunk

    def check(self, chunk: bytes) -> None:
        data = self._carry + chunk
        self._carry = b""
        if b"\\" in data:
            data = _ESCAPE.sub(b"", data)
            if data.endswith(b"\\"):
                self._carry, data = b"\\", data[:-1]
        # Two quotes with nothing kept between them are an empty string, or the end of one string and the start
        # of the next: dropping both changes no other quote's side. Most strings hold no bracket, so most go here.
        marks = data.translate(None, _NOT_STRUCTURE).replace(b'""', b"")
        if b'"' in marks or self._in_string:
            parts = marks.split(b'"')
            marks = b"".join(parts[1::2] if self._in_string else parts[0::2])
            self._in_string ^= len(parts) % 2 == 0
        opens = marks.count(b"[") + marks.count(b"{")
        if self._depth + opens > self.max_depth:
            deepest = max(accumulate((_STEP[b] for b in marks), initial=self._depth))
            if deepest > self.max_depth:
                raise TooDeep(
                    f"the JSON is nested deeper than the maximum depth of {self.max_depth} levels of arrays or "
                    "objects; flatten it or export the records as NDJSON"
                )
        self._depth = max(self._depth + opens - marks.count(b"]") - marks.count(b"}"), 0)

    def tell(self) -> int:
        return int(self._handle.tell())

    def close(self) -> None:
        self._handle.close()

    def __enter__(self) -> DepthGuard:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
