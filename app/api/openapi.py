"""The OpenAPI document is the API's contract: its configuration, and what the route table says of each operation.

A client's types are generated from this document, so it states every response
a route can give. What follows from the route table is derived here once (as
the permission notes are): 401 for routes that need a sign-in, 403 where a role
or the password-change rule can refuse, 404 for path parameters, 400/413/422 for
parameters and bodies, 409 for idempotency keys, 429 past the rate limit, 503 where the
database is touched (the guard's token lookup, or a `db` dependency). A handler declares the rest in
its `opt`: `errors` (more statuses), `produces` (media types of a body that is
not JSON) and `accepts` (request bodies Litestar does not read itself).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterator
from typing import Any

import msgspec
from litestar import Litestar, Request, Router
from litestar.exceptions import ImproperlyConfiguredException
from litestar.handlers import HTTPRouteHandler
from litestar.openapi import OpenAPIConfig, ResponseSpec
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.openapi.spec import (
    Components,
    Example,
    OpenAPI,
    OpenAPIMediaType,
    OpenAPIResponse,
    Parameter,
    Reference,
    RequestBody,
    Schema,
    SecurityScheme,
)
from litestar.openapi.spec.enums import OpenAPIFormat, OpenAPIType
from litestar.routes import HTTPRoute
from msgspec.structs import fields

from app.api import instant_parameters
from app.api.errors import MEDIA_TYPE as PROBLEM_MEDIA_TYPE
from app.api.openapi_bounds import restore_bounds
from app.api.openapi_closed import close_objects
from app.api.openapi_enums import document_defaults
from app.api.openapi_notices import state_notices
from app.api.openapi_sent import state_sent_fields
from app.api.rate_limit import EXEMPT_PATHS
from app.api.schemas import Problem
from app.domain.permissions import PERMISSIONS, Permission, Scope

DOCS_PATH = "/api/docs"
ASSETS_PATH = f"{DOCS_PATH}/assets"
PUBLIC = {"permission": Permission.PUBLIC}

#: What each error status means, and a typical `code`, as the document shows them.
ERRORS: dict[int, tuple[str, str]] = {
    400: ("A parameter or header is malformed, or the body is not valid JSON", "invalid_parameter"),
    401: ("No valid credentials: sign in and send `Authorization: Bearer <token>`", "unauthorized"),
    403: ("Signed in, but not allowed (role, instance admin, or a password to change first)", "forbidden"),
    404: ("The resource does not exist, or the caller may not see it", "not_found"),
    409: ("The resource's state or an earlier request conflicts with this one", "conflict"),
    413: ("The body or file is larger than allowed", "limit_exceeded"),
    415: (
        "The body's Content-Type is not one this operation takes, or the file's format is not supported",
        "unsupported_media_type",
    ),
    416: ("The range lies outside the upload", "range_not_satisfiable"),
    422: (
        "The body is well-formed JSON but not valid, or a value holds a character that cannot be stored",
        "validation_failed",
    ),
    429: ("Too many attempts; retry after the `Retry-After` seconds", "too_many_requests"),
    503: (
        "The database (or another dependency) is unavailable, or a concurrent change got in the way "
        "(`transaction_conflict`); retry after the `Retry-After` seconds",
        "database_unavailable",
    ),
}
#: The dependency a handler reads or writes the database through (app.db.database.Database).
_DATABASE = "db"
#: Parameters that are not the client's: the request itself and injected dependencies.
_RESERVED = frozenset({"self", "request", "data", "state", "scope", "headers", "cookies", "query", "body", "socket"})
#: Names of parameters (and body fields) that name another resource, which may not exist.
_REFERENCES = frozenset({"namespace", "pipeline"})
_GENERIC_NAME = re.compile(r"^(?P<outer>[A-Za-z0-9]+)_(?:[A-Za-z0-9_]+\.)+(?P<inner>[A-Za-z0-9]+)_$")
#: `opt["accepts"]` of a route that also takes its JSON body as YAML (app.api.yaml_body).
YAML_BODY: dict[str, Schema | None] = {"application/yaml": None}
BINARY = Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY)
TEXT = Schema(type=OpenAPIType.STRING)


def require_operation_id(handler: HTTPRouteHandler, *_: Any) -> str:
    """Every operation names itself (`operation_id=` on its decorator): generated ids make poor function names."""
    raise ImproperlyConfiguredException(f"route {handler.handler_name!r} declares no operation_id")


def per_path(ids: dict[str, str]) -> Callable[..., str]:
    """An operation_id for a handler served on several paths: one id per path."""

    def operation_id(handler: HTTPRouteHandler, method: Any, components: list[Any]) -> str:
        path = "/" + "/".join(c if isinstance(c, str) else "{" + c.name + "}" for c in components)
        return ids[path]

    return operation_id


def openapi_config() -> OpenAPIConfig:
    """The document at /api/docs/openapi.json and its Swagger UI (served from local files: no internet needed)."""
    return OpenAPIConfig(
        title="Conveyor",
        version="1.0.0",
        description="An async job engine for data work. Sign in at POST /api/v1/auth/login and send the access "
        "token as `Authorization: Bearer <token>`. Errors are application/problem+json with a stable `code`.",
        openapi_router=Router(
            path=DOCS_PATH,
            route_handlers=[],
            opt=PUBLIC,
            include_in_schema=False,
            before_request=_finish_before_serving,
        ),
        render_plugins=[
            SwaggerRenderPlugin(
                path="/",
                js_url=f"{ASSETS_PATH}/swagger-ui-bundle.js",
                css_url=f"{ASSETS_PATH}/swagger-ui.css",
                standalone_preset_js_url=f"{ASSETS_PATH}/swagger-ui-standalone-preset.js",
                favicon=f"<link rel='icon' type='image/png' href='{ASSETS_PATH}/favicon-32x32.png'>",
            )
        ],
        components=Components(
            security_schemes={
                "bearer": SecurityScheme(
                    type="http", scheme="bearer", description="An access token from /api/v1/auth/login, or an API token"
                )
            }
        ),
        operation_id_creator=require_operation_id,
    )


def http_handlers(app: Litestar) -> Iterator[tuple[HTTPRoute, HTTPRouteHandler]]:
    for route in app.routes:
        if isinstance(route, HTTPRoute):
            for handler in route.route_handlers:
                if handler.resolve_include_in_schema():
                    yield route, handler


def document_routes(app: Litestar) -> None:
    """Before the document is built: each operation's permission, security and error responses."""
    for route, handler in http_handlers(app):
        permission = handler.opt.get("permission")
        if not isinstance(permission, Permission):
            continue
        _note_permission(handler, permission)
        declared = dict(handler.responses or {})
        statuses = sorted(error_statuses(route, handler, permission))
        handler.responses = {
            **{status: problem_response(status) for status in statuses},
            **({409: IDEMPOTENCY_CONFLICT} if "idempotency_key" in handler.parsed_fn_signature.parameters else {}),
            **declared,
        }


def _note_permission(handler: HTTPRouteHandler, permission: Permission) -> None:
    who = PERMISSIONS[permission]
    note = (
        {
            Scope.PUBLIC: "no sign-in needed",
            Scope.SIGNED_IN: "any signed-in account",
            Scope.SUPERUSER: "instance admins",
        }.get(who)
        if isinstance(who, Scope)
        else f"role `{who.label}` or higher in the resource's namespace"
    )
    line = f"Permission: `{permission.value}` ({note})."
    if line not in (handler.description or ""):
        handler.description = f"{handler.description}\n\n{line}" if handler.description else line
    if who is not Scope.PUBLIC and handler.security is None:
        handler.security = [{"bearer": []}]


def error_statuses(route: HTTPRoute, handler: HTTPRouteHandler, permission: Permission) -> set[int]:
    """The error statuses this operation can answer with, from its permission, parameters, body and `opt`."""
    who = PERMISSIONS[permission]
    statuses = set(handler.opt.get("errors", ()))
    if who is not Scope.PUBLIC:
        statuses.add(401)
    if who not in (Scope.PUBLIC, Scope.SIGNED_IN):
        statuses.add(403)  # a role or instance admin is needed; or the password must be changed first
    dependencies = set(handler.resolve_dependencies())
    fields = handler.parsed_fn_signature.parameters
    params = {name for name in fields if name not in _RESERVED and name not in dependencies}
    if route.path_parameters or (params | _body_fields(handler)) & _REFERENCES:
        statuses.add(404)
    if params or route.path_parameters or "data" in fields:
        statuses |= {400, 422}  # 422 also for text no database can store (NUL): app/api/text_boundary.py
    if "data" in fields or handler.opt.get("accepts"):
        statuses |= {400, 413, 415, 422}  # 415: a body of a media type it does not take (app/api/media_types.py)
    if "idempotency_key" in params:
        statuses.add(409)  # the key was used with another body
    if route.path not in EXEMPT_PATHS:
        statuses.add(429)  # the guard's rate limit (app/api/rate_limit.py), per token or per address
    if who is not Scope.PUBLIC or _DATABASE in fields:
        statuses.add(503)  # the guard's token lookup or the handler's session: database_unavailable (app/api/errors.py)
    return statuses


def _body_fields(handler: HTTPRouteHandler) -> set[str]:
    """Top-level field names of the handler's JSON body (a Struct, possibly optional)."""
    data = handler.parsed_fn_signature.parameters.get("data")
    if data is None:
        return set()
    types = [data.annotation, *(t.annotation for t in data.inner_types)]
    return {f.name for t in types if isinstance(t, type) and issubclass(t, msgspec.Struct) for f in fields(t)}


def problem_response(status: int, *, code: str | None = None, description: str | None = None) -> ResponseSpec:
    """A problem+json response with an example; `code` and `description` default to those of ERRORS."""
    description = description or ERRORS[status][0]
    code = code or ERRORS[status][1]
    example = {
        "type": f"urn:conveyor:problem:{code}",
        "title": description.split(";")[0].split(":")[0],
        "status": status,
        "detail": description,
        "code": code,
        "trace_id": "5f0c6a1e9b3d4c2a",
    }
    return ResponseSpec(
        data_container=Problem,
        media_type=PROBLEM_MEDIA_TYPE,
        description=description,
        generate_examples=False,
        examples=[Example(summary=code, value=example)],
    )


def openapi_document(app: Litestar) -> OpenAPI:
    """The finished document (the same that /api/docs/openapi.json serves)."""
    openapi = app.openapi_schema
    if app.state.get("openapi_finished") != id(openapi):
        finish(openapi, app)
        app.state["openapi_finished"] = id(openapi)
    return openapi


def _finish_before_serving(request: Request[Any, Any, Any]) -> None:
    openapi_document(request.app)


def finish(openapi: OpenAPI, app: Litestar) -> None:
    """After Litestar built the document: media types and bodies it cannot know, and schema names."""
    paths = openapi.paths or {}
    for route, handler in http_handlers(app):
        for method in handler.http_methods:
            item = paths.get(route.path_format or "/")
            operation = getattr(item, method.lower(), None)
            if operation is None:
                continue
            if produces := handler.opt.get("produces"):
                success = operation.responses[str(handler.status_code)]
                assert isinstance(success, OpenAPIResponse)
                success.content = {kind: OpenAPIMediaType(schema=_raw_schema(kind)) for kind in produces}
            if accepts := handler.opt.get("accepts"):
                operation.request_body = _request_body(operation.request_body, accepts)
            data = handler.parsed_fn_signature.parameters.get("data")
            if data is not None and data.has_default and isinstance(operation.request_body, RequestBody):
                operation.request_body.required = False  # `data: X | None = None`: the body may be left out
            for parameter in operation.parameters or []:
                if isinstance(parameter, Parameter):
                    instant_parameters.document(parameter)
                    document_defaults(openapi, handler, parameter)
            for name, schema in handler.opt.get("headers", {}).items():
                header = Parameter(name=name, param_in="header", required=True, schema=schema)
                operation.parameters = [*(operation.parameters or []), header]
    rename_schemas(openapi)
    close_objects(openapi)
    state_sent_fields(openapi, _references)
    restore_bounds(openapi)
    state_notices(openapi)


#: One event of a run's live log (text/event-stream): `log` carries a log line as JSON, `end` the final status.
SSE_EVENT = Schema(
    type=OpenAPIType.OBJECT,
    required=["event", "data"],
    properties={
        "event": Schema(type=OpenAPIType.STRING, enum=["log", "end"]),
        "id": Schema(type=OpenAPIType.STRING, description="The line number (log events): send it as Last-Event-ID"),
        "data": Schema(
            type=OpenAPIType.STRING,
            description='JSON: a log line {"n", "ts", "level", "message", "attempt", "step"}, '
            'or at the end {"status", "lines"}',
        ),
    },
)


def _raw_schema(media_type: str) -> Schema:
    if media_type == "text/event-stream":
        return SSE_EVENT
    return TEXT if media_type.startswith("text/") or "ndjson" in media_type else BINARY


def _request_body(existing: Any, accepts: dict[str, Schema | None]) -> RequestBody:
    """Extra media types: None means `the same schema as the JSON body` (e.g. a YAML spec)."""
    content = dict(existing.content) if isinstance(existing, RequestBody) else {}
    json_schema = content.get("application/json")
    for kind, schema in accepts.items():
        content[kind] = json_schema if schema is None and json_schema else OpenAPIMediaType(schema=schema)
    return RequestBody(content=content, required=True, description=getattr(existing, "description", None))


def rename_schemas(openapi: OpenAPI) -> None:
    """`Page_app.api.schemas.RunOut_` (Litestar's name for a generic) becomes `RunOutPage`, everywhere."""
    schemas = openapi.components.schemas if openapi.components else None
    if not schemas:
        return
    renames = {
        old: f"{m['inner']}{m['outer']}" for old in schemas if (m := _GENERIC_NAME.match(old)) and m["inner"] != ""
    }
    if not renames:
        return
    openapi.components.schemas = dict(sorted((renames.get(name, name), s) for name, s in schemas.items()))
    prefix = "#/components/schemas/"
    for reference in _references(openapi):
        name = reference.ref.removeprefix(prefix)
        if name in renames:
            reference.ref = prefix + renames[name]


def _references(value: Any) -> Iterator[Reference]:
    if isinstance(value, Reference):
        yield value
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for field in dataclasses.fields(value):
            yield from _references(getattr(value, field.name))
    elif isinstance(value, dict):
        for item in value.values():
            yield from _references(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _references(item)


#: The 409 of an operation that takes Idempotency-Key (app/api/idempotent.py), besides its own conflicts.
IDEMPOTENCY_CONFLICT = problem_response(
    409,
    code="idempotency_key_reused",
    description="The Idempotency-Key was used with another body (`idempotency_key_reused`); on a create whose "
    "answer shows a secret once, the key already created the resource, its id in `errors` "
    "(`idempotency_key_replayed_secret`: revoke it if the first answer was lost); or the resource's state or an "
    "earlier request conflicts with this one",
)
