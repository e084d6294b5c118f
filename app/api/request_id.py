"""X-Request-ID: taken from the client when sane, made up otherwise, echoed on every response.

The id is fixed the first time anything asks for it (the middleware, an error
handler, or the response hook), so even a request that matches no route gets
one, and its problem+json `trace_id` equals the header.
"""

from __future__ import annotations

import re
import uuid

from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send

from app.logs import bind, log_context

HEADER = "x-request-id"
_SANE = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")


def request_id_of(scope: Scope) -> str:
    """This request's id, chosen on first use."""
    state = scope.setdefault("state", {})  # type: ignore[typeddict-item]
    if "request_id" not in state:
        incoming = next((v.decode("latin-1") for k, v in scope.get("headers", []) if k == b"x-request-id"), "")
        state["request_id"] = incoming if _SANE.match(incoming) else uuid.uuid4().hex
    return str(state["request_id"])


class RequestIdMiddleware(ASGIMiddleware):
    """Binds the request id to the log context while the request is handled."""

    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        token = bind(request_id=request_id_of(scope))
        try:
            await next_app(scope, receive, send)
        finally:
            log_context.reset(token)
