"""Accept YAML where a route says so: an `application/yaml` body is parsed (safely) and handed on as JSON.

The route keeps its typed JSON body, so validation, errors and the OpenAPI
document are the same whichever of the two a client sends.
"""

from __future__ import annotations

import msgspec
import yaml
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from app.domain.errors import DomainError, InvalidInput

#: Content types read as YAML.
YAML_TYPES = frozenset({b"application/yaml", b"application/x-yaml", b"text/yaml", b"text/x-yaml"})
#: Largest YAML document accepted (a pipeline spec is small).
MAX_YAML_BYTES = 1024 * 1024


class TooLarge(DomainError):
    status, code, title = 413, "limit_exceeded", "Limit exceeded"


class YamlBodyMiddleware(ASGIMiddleware):
    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        headers = dict(scope.get("headers", []))
        kind = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
        if kind not in YAML_TYPES:
            await next_app(scope, receive, send)
            return
        body = bytearray()
        while True:
            message = await receive()
            body += message.get("body", b"")
            if len(body) > MAX_YAML_BYTES:
                raise TooLarge(f"a YAML document may hold at most {MAX_YAML_BYTES} bytes")
            if not message.get("more_body"):
                break
        try:
            document = yaml.safe_load(bytes(body))
        except yaml.YAMLError as exc:
            message = f"the body is not valid YAML: {exc}"
            raise InvalidInput(message, code="invalid_yaml", errors=[{"field": "body", "message": str(exc)}]) from None
        encoded = msgspec.json.encode(document)
        scope["headers"] = [
            (k, v) for k, v in scope.get("headers", []) if k not in (b"content-type", b"content-length")
        ] + [(b"content-type", b"application/json"), (b"content-length", str(len(encoded)).encode())]
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": encoded, "more_body": False}

        await next_app(scope, replay, send)
