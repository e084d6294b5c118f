"""Headers every response carries: the request id and a conservative set of security headers."""

from __future__ import annotations

from litestar.datastructures import MutableScopeHeaders
from litestar.types import Message, Scope

from app.api.head_requests import with_head
from app.api.request_id import HEADER, request_id_of

#: The docs page runs Swagger UI's scripts, from this server only.
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data:"
)
API_CSP = "default-src 'none'; frame-ancestors 'none'"
SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
}


async def add_response_headers(message: Message, scope: Scope) -> None:
    """`before_send` hook: request id, security headers, and no caching of API answers."""
    if message["type"] != "http.response.start":
        return
    headers = MutableScopeHeaders.from_message(message)
    headers[HEADER] = request_id_of(scope)
    for name, value in SECURITY_HEADERS.items():
        headers.setdefault(name, value)
    if "allow" in headers:  # an OPTIONS reply, or a 405
        allow = (scope.get("method") == "OPTIONS" and allowed_methods(scope)) or headers["allow"]
        headers["allow"] = ", ".join(sorted(with_head({m.strip() for m in allow.split(",") if m.strip()})))
    path = scope.get("path", "")
    headers.setdefault("content-security-policy", DOCS_CSP if path.startswith("/api/docs") else API_CSP)
    if path.startswith("/api/v1/") and "cache-control" not in headers:
        headers["cache-control"] = "no-store"


def allowed_methods(scope: Scope) -> str | None:
    """Every method the matched path answers to, for an OPTIONS reply's `Allow`.

    Litestar's automatic OPTIONS handler lists only the methods of the first controller
    that registered the path (`GET, OPTIONS` for /auth/me, which also takes PATCH), so the
    header is worked out again from the app's route table.
    """
    template, app = scope.get("path_template"), scope.get("app")
    routes = getattr(app, "routes", [])
    methods = {
        method
        for route in routes
        if template in (route.path, getattr(route, "path_format", None))
        for method in getattr(route, "methods", ())
    }
    return ", ".join(sorted(methods)) or None
