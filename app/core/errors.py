"""Domain errors: each carries a stable `code` that clients can rely on."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A failure the caller can act on. The API maps it to problem+json."""

    status: int = 400
    code: str = "bad_request"
    title: str = "Bad request"

    def __init__(self, detail: str, *, code: str | None = None, errors: list[dict[str, Any]] | None = None):
        super().__init__(detail)
        self.detail = detail
        if code is not None:
            self.code = code
        self.errors = errors or []


class NotFound(DomainError):
    status, code, title = 404, "not_found", "Not found"


class Conflict(DomainError):
    status, code, title = 409, "conflict", "Conflict"


class InvalidInput(DomainError):
    status, code, title = 422, "validation_failed", "Invalid input"


class Unavailable(DomainError):
    status, code, title = 503, "unavailable", "Service unavailable"


class InvalidParameter(DomainError):
    """A query or header parameter is malformed (400, unlike a body that fails validation: 422)."""

    status, code, title = 400, "invalid_parameter", "Invalid parameter"


class Unauthorized(DomainError):
    """No valid credentials (401); the client should sign in."""

    status, code, title = 401, "unauthorized", "Unauthorized"


class Forbidden(DomainError):
    status, code, title = 403, "forbidden", "Forbidden"


class TooManyRequests(DomainError):
    status, code, title = 429, "too_many_requests", "Too many requests"

    def __init__(self, detail: str, *, retry_after: int, code: str | None = None) -> None:
        super().__init__(detail, code=code)
        self.retry_after = retry_after


class ImproperlyDeclared(DomainError):
    """A route without a declared permission: a programming error, refused rather than left open."""

    status, code, title = 500, "route_without_permission", "Internal server error"
