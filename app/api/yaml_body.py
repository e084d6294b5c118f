"""Accept YAML where a route says so: an `application/yaml` body is parsed (safely) and handed on as JSON.

The route keeps its typed JSON body, so validation, errors and the OpenAPI
document are the same whichever of the two a client sends. The body is read
and parsed only when the route reads it, which is after the permission guard:
an unauthenticated client cannot make the API parse anything. Aliases
(`*name`) are refused while parsing, before anything is built, so a small
document cannot expand into a huge one ("billion laughs").
"""

from __future__ import annotations

from typing import Any

import anyio
import msgspec
import yaml
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from app.api import yaml_document
from app.core.errors import DomainError, InvalidInput

#: Content types read as YAML.
YAML_TYPES = frozenset({b"application/yaml", b"application/x-yaml", b"text/yaml", b"text/x-yaml"})
#: Largest YAML document accepted (a pipeline spec is small).
MAX_YAML_BYTES = 1024 * 1024
#: Deepest nesting of mappings and lists accepted (a pipeline spec is shallow; the parser recurses).
MAX_YAML_DEPTH = 64
_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class TooLarge(DomainError):
    status, code, title = 413, "limit_exceeded", "Limit exceeded"


def _invalid(message: str) -> InvalidInput:
    return InvalidInput(
        f"the body is not valid YAML: {message}", code="invalid_yaml", errors=[{"field": "body", "message": message}]
    )


def yaml_as_json(body: bytes) -> bytes:
    """The YAML document in `body`, encoded as JSON; InvalidInput (`invalid_yaml`) for bad YAML, an alias, or
    nesting deeper than MAX_YAML_DEPTH. An alias is refused at its event, never expanded: the document is built from
    the events as they are checked (app/api/yaml_document.py), or, where that gives up, checked whole and loaded."""
    try:
        try:
            document = yaml_document.build(body, _LOADER, MAX_YAML_DEPTH)
        except yaml_document.NeedsPyYaml:
            document = yaml_document.checked_load(body, _LOADER, MAX_YAML_DEPTH)
        return msgspec.json.encode(document)
    except yaml_document.Refused as refused:
        raise _invalid(refused.message) from None
    except yaml.YAMLError as exc:
        raise _invalid(str(exc)) from None
    except (TypeError, ValueError) as exc:  # e.g. a mapping key JSON cannot hold
        raise _invalid(f"the document cannot be read as JSON: {exc}") from None


class YamlBodyMiddleware(ASGIMiddleware):
    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        headers = dict(scope.get("headers", []))
        kind = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
        if kind not in YAML_TYPES:
            await next_app(scope, receive, send)
            return
        # The JSON's length is known only once parsed: the route reads the body to its end instead.
        scope["headers"] = [
            (k, v) for k, v in scope.get("headers", []) if k not in (b"content-type", b"content-length")
        ] + [(b"content-type", b"application/json")]
        converted = False

        async def as_json() -> Message:
            """The first read gets the whole body, parsed and encoded as JSON; later ones go on to the client."""
            nonlocal converted
            if converted:
                return await receive()
            converted = True
            body = bytearray()
            while True:
                message = await receive()
                body += message.get("body", b"")
                if len(body) > MAX_YAML_BYTES:
                    raise TooLarge(f"a YAML document may hold at most {MAX_YAML_BYTES} bytes")
                if not message.get("more_body"):
                    break
            encoded = await anyio.to_thread.run_sync(yaml_as_json, bytes(body))
            return {"type": "http.request", "body": encoded, "more_body": False}

        await next_app(scope, as_json, send)
