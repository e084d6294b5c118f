"""Text Postgres cannot store is refused where it enters: 422 `invalid_character`, naming the field.

A NUL character (`\\u0000`, `%00`) or a lone UTF-16 surrogate (`\\ud800`, or
bytes that are not UTF-8 in a query or a path) reaches Postgres as an error, so every
route that stored or filtered on one answered 500. One hook looks at the
decoded path parameters, the query parameters and JSON bodies before any
handler runs; `unstorable` is the rule, for anything read another way, and
errors.py maps what still reaches the driver to the same 422.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qsl, unquote_to_bytes

import msgspec
from litestar import Request
from litestar.types import Scope

from app.core.errors import InvalidInput

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: In valid JSON a NUL or a UTF-16 surrogate can only be written as an escape; a body without one needs no decoding.
_SUSPECT_ESCAPE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])")


def unstorable(text: str) -> str | None:
    """Why `text` cannot be stored as Postgres text, or None if it can."""
    if "\x00" in text:
        return "contains a NUL character (\\u0000), which cannot be stored"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "contains a lone surrogate or bytes that are not UTF-8, which cannot be stored"
    return None


def find_unstorable(value: Any) -> tuple[str, str] | None:
    """The first (field path, reason) in a decoded JSON value whose text cannot be stored (keys included)."""
    stack: list[tuple[str, Any]] = [("", value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, str):
            if reason := unstorable(item):
                return path or "body", reason
        elif isinstance(item, dict):
            for key, child in reversed(item.items()):
                if reason := unstorable(str(key)):
                    return path or "body", f"has a key that {reason}"
                stack.append((f"{path}.{key}" if path else str(key), child))
        elif isinstance(item, list):
            stack.extend((f"{path}[{i}]", child) for i, child in reversed(list(enumerate(item))))
    return None


def refuse(field: str, reason: str) -> InvalidInput:
    return InvalidInput(f"`{field}` {reason}", code="invalid_character", errors=[{"field": field, "message": reason}])


def check_parameters(scope: Scope) -> None:
    """Path and query parameters, as the handler would see them decoded."""
    path_params = scope.get("path_params") or {}
    for name, value in path_params.items():
        if isinstance(value, str) and (reason := unstorable(value)):
            raise refuse(name, reason)
    if reason := _path_not_utf8(scope):
        # The router decoded those bytes to U+FFFD; the parameter holding one is the one to name.
        suspects = [n for n, v in path_params.items() if isinstance(v, str) and "\ufffd" in v]
        raise refuse(suspects[0] if len(suspects) == 1 else "path", reason)
    query = scope.get("query_string", b"").decode("latin-1")
    for name, value in parse_qsl(query, keep_blank_values=True, errors="surrogateescape"):
        reason = unstorable(name) or unstorable(value)
        if reason:
            raise refuse(name if not unstorable(name) else "query", reason)


def _path_not_utf8(scope: Scope) -> str | None:
    """Why the request's raw path is not UTF-8 once its escapes are decoded (`%FF`, `%ED%A0%80`), or None."""
    raw = (scope.get("raw_path") or b"").split(b"?", 1)[0]  # some servers leave the query on it
    if b"%" not in raw:
        return None
    try:
        unquote_to_bytes(raw).decode("utf-8")
    except UnicodeDecodeError:
        return "contains a lone surrogate or bytes that are not UTF-8, which cannot be stored"
    return None


def check_json(body: bytes) -> None:
    """A JSON body's strings and keys; a body that is not JSON is left to the route's own 400."""
    if not _SUSPECT_ESCAPE.search(body):
        return  # the common case: the body is decoded once, by the route
    try:
        document = msgspec.json.decode(body)
    except RecursionError:
        return  # nested too deeply to decode: the route's own decoding answers 400
    except msgspec.DecodeError:
        try:  # msgspec refuses lone surrogates outright; the standard library decodes them, to name the field
            document = json.loads(body)
        except (ValueError, RecursionError):
            return
    found = find_unstorable(document)
    if found:
        raise refuse(*found)


async def refuse_unstorable_text(request: Request[Any, Any, Any]) -> None:
    """`before_request` hook (after the guard, before the handler's arguments are read): check the request.

    The body is read only for routes that take a typed `data` body, and Litestar keeps it for the handler;
    its media type was checked first (app/api/media_types.py), so it is JSON.
    """
    check_parameters(request.scope)
    handler = request.scope.get("route_handler")
    takes_data = handler is not None and "data" in handler.parsed_fn_signature.parameters
    if takes_data and request.method in _BODY_METHODS:
        check_json(await request.body())
