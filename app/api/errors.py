"""One place that turns every error into application/problem+json with a stable `code`."""

from __future__ import annotations

import logging
import re
from typing import Any

import msgspec
import psycopg
from litestar import Request, Response
from litestar.exceptions import HTTPException, NotFoundException, SerializationException, ValidationException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from sqlalchemy.exc import DataError, DBAPIError

from app.api.head_requests import client_method
from app.api.request_id import request_id_of
from app.api.schemas import Problem, ProblemFieldError
from app.core import display_text
from app.core.errors import DomainError, Unauthorized
from app.db.outage import database_unavailable
from app.db.unit_of_work import transaction_conflict

logger = logging.getLogger(__name__)

MEDIA_TYPE = "application/problem+json"
_TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Content too large",
    415: "Unsupported media type",
    422: "Invalid input",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
}
_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "content_too_large",
    415: "unsupported_media_type",
    429: "too_many_requests",
    503: "unavailable",
}
#: Most characters of a detail, field or message echoed back: an error names the input, it does not return it.
MAX_ECHO_CHARS = 1000
#: Most per-field errors in one problem; the rest are counted.
MAX_FIELD_ERRORS = 100


def bounded(text: str, limit: int = MAX_ECHO_CHARS) -> str:
    """`text`, cut at `limit` characters with an ellipsis and the count of what was cut."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text) - limit} more characters)"


def bounded_errors(errors: list[dict[str, str]]) -> list[ProblemFieldError]:
    """At most MAX_FIELD_ERRORS field errors, each bounded; one more entry counts those left out."""
    kept = [
        ProblemFieldError(field=bounded(str(e.get("field", "$"))), message=bounded(str(e.get("message", ""))))
        for e in errors[:MAX_FIELD_ERRORS]
    ]
    if len(errors) > MAX_FIELD_ERRORS:
        kept.append(ProblemFieldError(field="$", message=f"… and {len(errors) - MAX_FIELD_ERRORS} more errors"))
    return kept


def problem(
    request: Request[Any, Any, Any],
    *,
    status: int,
    code: str,
    detail: str,
    errors: list[dict[str, str]] | None = None,
    title: str | None = None,
    headers: dict[str, str] | None = None,
) -> Response[Problem]:
    body = Problem(
        type=f"urn:conveyor:problem:{code}",
        title=title or _TITLES.get(status, "Error"),
        status=status,
        detail=bounded(detail),
        code=code,
        trace_id=request_id_of(request.scope),
        errors=bounded_errors(errors or []),
    )
    return Response(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def on_domain_error(request: Request[Any, Any, Any], exc: DomainError) -> Response[Problem]:
    headers = {}
    retry_after = getattr(exc, "retry_after", None)  # TooManyRequests, and a 503 that knows when to come back
    if isinstance(retry_after, int):
        headers["Retry-After"] = str(retry_after)
    if isinstance(exc, Unauthorized):
        headers["WWW-Authenticate"] = 'Bearer realm="conveyor"'
    return problem(
        request,
        status=exc.status,
        code=exc.code,
        detail=exc.detail,
        errors=exc.errors,
        title=exc.title,
        headers=headers,
    )


def on_validation_error(request: Request[Any, Any, Any], exc: ValidationException) -> Response[Problem]:
    """Malformed JSON is 400 `malformed_json`; a body of the wrong shape is 422; bad parameters 400. A route's
    `opt["invalid"]` ({field: code}) gives the `code` when every refused field is one of it (e.g. `invalid_role`
    for a role not in the document's enum), so a code clients knew stays when a value list moves into the types."""
    extra = exc.extra if isinstance(exc.extra, list) else []
    errors = [_field_error(item) for item in extra if isinstance(item, dict)]
    codes: dict[str, str] = getattr(request.scope.get("route_handler"), "opt", {}).get("invalid", {})
    own = [codes.get(e["field"]) for e in errors]
    code = own[0] if own and all(own) else None
    if "json" in (exc.detail or "").lower() and not errors:
        return problem(request, status=400, code="malformed_json", detail="the request body is not valid JSON")
    # Litestar says `body` for any parameter whose name starts with "data" (e.g. ?dataset_id=): check the query.
    in_body = any(
        item.get("source") == "body" and item.get("key") not in request.query_params
        for item in extra
        if isinstance(item, dict)
    )
    if in_body:
        return problem(
            request, status=422, code=code or "validation_failed", detail="the request body is not valid", errors=errors
        )
    return problem(
        request, status=400, code=code or "invalid_parameter", detail=exc.detail or "invalid parameter", errors=errors
    )


#: Keys Litestar gives an error of the whole body: `data` is every handler's body parameter, no field of the API's.
WHOLE_BODY = ("", "$", "body", "data")
#: msgspec's refusal of an object without a required field, which it reports at the object, not at the field.
MISSING_FIELD = re.compile(r"^Object missing required field `(?P<field>[^`]+)`$")


def _field_error(item: dict[str, Any]) -> dict[str, str]:
    key = str(item.get("key") or "$")
    message = str(item.get("message", ""))
    if key == "data" and message == "'data'":  # no body at all: Litestar's KeyError for the missing `data`
        return {"field": "$", "message": "a body is required"}
    if key in WHOLE_BODY and " - at `$." in message:
        message, _, path = message.rpartition(" - at `$.")
        key = path.rstrip("`")
    message = message.removesuffix(" - at `$`")
    if rule := display_text.pattern_message(message):
        message = rule  # the rule in words, not the regular expression
    elif found := display_text.FIELD_MESSAGE.match(message):  # a Normalised Struct's refusal, reported at the Struct
        message = found["reason"]
        key = found["field"] if key in WHOLE_BODY else f"{key}.{found['field']}"
    elif missing := MISSING_FIELD.match(message):  # named at the field a form shows it beside
        key = missing["field"] if key in WHOLE_BODY else f"{key}.{missing['field']}"
    elif key == "data":
        key = "$"
    return {"field": key.removeprefix("$.").removeprefix("body."), "message": message}


def on_http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Problem]:
    status = exc.status_code
    if isinstance(exc.__cause__, SerializationException):
        return problem(
            request, status=400, code="malformed_json", detail=f"the request body is not valid JSON ({exc.detail})"
        )
    if isinstance(exc, NotFoundException) and exc.detail in ("", "Not Found"):
        return problem(request, status=404, code="route_not_found", detail=f"no route for {request.url.path}")
    return problem(
        request, status=status, code=_CODES.get(status, "http_error"), detail=exc.detail, headers=exc.headers
    )


# ---- database outage (PostgreSQL down or restarting): 503, never 500 ---------------------------------

#: What a client is told to wait before trying again while the database is unavailable.
DATABASE_RETRY_AFTER_SECONDS = 5


#: What a client is told to wait before repeating a request whose transaction a concurrent one aborted.
CONFLICT_RETRY_AFTER_SECONDS = 1


def on_database_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Problem]:
    """A lost or refused database connection is 503 `database_unavailable`, a transaction PostgreSQL aborted for a
    concurrent one's sake (deadlock, serialization) 503 `transaction_conflict`; any other database error is a bug."""
    if transaction_conflict(exc):  # run once more already, if it had committed nothing (dropped_connections.py)
        logger.warning("transaction conflict on %s %s: %s", client_method(request.scope), request.url.path, exc)
        return problem(
            request,
            status=503,
            code="transaction_conflict",
            detail="a concurrent change to the same records got in the way; try again",
            headers={"Retry-After": str(CONFLICT_RETRY_AFTER_SECONDS)},
        )
    if not database_unavailable(exc):
        return on_unexpected_error(request, exc)
    logger.warning("database unavailable on %s %s: %s", client_method(request.scope), request.url.path, exc)
    return problem(
        request,
        status=503,
        code="database_unavailable",
        detail="the database is unavailable; try again shortly",
        headers={"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)},
    )


# ---- end of database outage -------------------------------------------------------------------------


def on_unexpected_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Problem]:
    logger.exception("unhandled error on %s %s", client_method(request.scope), request.url.path)
    return problem(
        request,
        status=HTTP_500_INTERNAL_SERVER_ERROR,
        code="internal_error",
        detail="an unexpected error occurred; the trace_id identifies it in the logs",
    )


def on_unstorable_text(request: Request[Any, Any, Any], exc: DataError | UnicodeEncodeError) -> Response[Problem]:
    """Last resort behind app/api/text_boundary.py: text the driver refused is the caller's bad input, not a 500."""
    message = str(getattr(exc, "orig", None) or exc)
    signs = ("NUL (0x00)", "invalid byte sequence", "surrogates not allowed", "unsupported Unicode escape sequence")
    if not any(sign in message for sign in signs):
        return on_unexpected_error(request, exc)
    reason = "contains a character that cannot be stored (NUL, or not UTF-8)"
    return problem(
        request,
        status=422,
        code="invalid_character",
        detail=f"the request {reason}",
        errors=[{"field": "$", "message": reason}],
    )


EXCEPTION_HANDLERS: dict[Any, Any] = {
    DataError: on_unstorable_text,
    UnicodeEncodeError: on_unstorable_text,
    DomainError: on_domain_error,
    ValidationException: on_validation_error,
    HTTPException: on_http_error,
    DBAPIError: on_database_error,
    psycopg.OperationalError: on_database_error,
    Exception: on_unexpected_error,
}


def decode_error(exc: msgspec.ValidationError) -> list[dict[str, str]]:
    """msgspec's message as a single field error (for bodies decoded by hand)."""
    return [_field_error({"message": str(exc)})]
