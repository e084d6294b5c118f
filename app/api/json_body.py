"""A JSON body the decoder chokes on is the caller's malformed input (400 `malformed_json`), not a 500.

msgspec raises DecodeError for most bad JSON, which Litestar turns into a 400,
but RecursionError for nesting past the interpreter's recursion limit (`[[[[…`
a few thousand deep, well under the body size limit) and UnicodeDecodeError for
a string holding bytes that are not UTF-8; both reached the catch-all as 500.
"""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.exceptions import SerializationException


class JsonBodyRequest(Request[Any, Any, Any]):
    """Litestar's request, whose `json()` (the one place a route's JSON body is decoded) refuses those bodies."""

    async def json(self) -> Any:
        try:
            return await super().json()
        except RecursionError:
            raise SerializationException("the JSON nests too deeply") from None
        except UnicodeDecodeError:
            raise SerializationException("the JSON holds bytes that are not UTF-8") from None
