"""A body is read only as a media type its operation takes: anything else is 415 `unsupported_media_type`.

Litestar decodes a route's typed `data` body as JSON whatever its Content-Type
says (application/xml, text/plain, a form...), so a client that sent the wrong
thing got an answer as if it had sent JSON. An operation takes JSON if it has a
typed body, plus what its `opt["accepts"]` documents (YAML, multipart); YAML was
turned into JSON by app/api/yaml_body.py before this check. A route taking
application/octet-stream takes any bytes, so it is not checked.

No operation decodes a content coding: a body sent with `Content-Encoding: gzip` (or any but identity) was
read as if it were plain, so it is 415 too (RFC 9110 15.5.16), whatever the operation takes.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from litestar.handlers import BaseRouteHandler
from litestar.types import Scope

from app.core.errors import DomainError

JSON = "application/json"
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class UnsupportedMediaType(DomainError):
    status, code, title = 415, "unsupported_media_type", "Unsupported media type"


@cache
def media_types_taken(handler: BaseRouteHandler) -> frozenset[str]:
    """The media types `handler` reads a body as; empty when any (or no body) will do."""
    taken = set(handler.opt.get("accepts") or ())
    if "data" in handler.parsed_fn_signature.parameters:
        taken.add(JSON)
    return frozenset() if "application/octet-stream" in taken else frozenset(taken)


def _reads_body(handler: BaseRouteHandler) -> bool:
    """Whether `handler` reads a body at all (one that reads none ignores it, as app/api/openapi.py documents)."""
    return "data" in handler.parsed_fn_signature.parameters or bool(handler.opt.get("accepts"))


def _has_body(headers: dict[bytes, bytes]) -> bool:
    length = headers.get(b"content-length", b"").strip()
    return b"transfer-encoding" in headers or (bool(length) and length != b"0")


def check_media_type(scope: Scope) -> None:
    handler: Any = scope.get("route_handler")
    if scope.get("method") not in _BODY_METHODS or not isinstance(handler, BaseRouteHandler):
        return
    taken = media_types_taken(handler)
    headers = dict(scope.get("headers", []))
    if not _has_body(headers):
        return
    coding = headers.get(b"content-encoding", b"").decode("latin-1").strip().lower()
    if coding not in ("", "identity") and _reads_body(handler):
        raise UnsupportedMediaType(
            f"the body has Content-Encoding {coding}; this API reads bodies as sent, not encoded"
        )
    if not taken:
        return
    sent = headers.get(b"content-type", b"").decode("latin-1").split(";")[0].strip().lower()
    if sent not in taken:
        said = f"Content-Type {sent}" if sent else "no Content-Type"
        raise UnsupportedMediaType(f"the body has {said}; this operation takes {', '.join(sorted(taken))}")
