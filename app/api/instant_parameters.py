"""A date-time query parameter takes an RFC 3339 date-time, with its UTC offset, and nothing else.

Litestar converts query values in msgspec's lax mode, which reads a bare number
(`?created_before=0.5`, `?to=-23429213`) as Unix seconds, while the OpenAPI
document says `format: date-time`. One check, before any handler reads its
arguments, holds every such parameter to the strict reading: 400 `invalid_parameter`.

A date-time without an offset (`2026-01-31T09:30:00`) names no instant: read as
UTC by one comparison and as the server's zone by another, it shifted a filter by
hours without a word. RFC 3339 (what `format: date-time` means) requires the offset,
so it is refused too, with its own code, `date_time_without_offset`, whose message
says what to add. The console sends `Date.toISOString()` (`…Z`), which has one.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any
from urllib.parse import parse_qsl

import msgspec
from litestar.handlers import BaseRouteHandler
from litestar.openapi.spec import Parameter, Schema
from litestar.openapi.spec.enums import OpenAPIFormat
from litestar.params import KwargDefinition
from litestar.types import Scope

from app.core.errors import InvalidParameter

MESSAGE = "must be an ISO 8601 date-time, e.g. 2026-01-31T09:30:00Z"
#: Why a date-time without an offset is refused; `+` must be escaped (%2B) in a query, else it reads as a space.
NO_OFFSET = "needs its UTC offset (Z or ±hh:mm, a + sent as %2B), e.g. 2026-01-31T09:30:00Z"
NO_OFFSET_CODE = "date_time_without_offset"
#: What the OpenAPI document says of every date-time query parameter (app.api.openapi.finish adds it).
RULE = f"RFC 3339 date-time with a UTC offset, e.g. 2026-01-31T09:30:00Z; without one: 400 `{NO_OFFSET_CODE}`"


@cache
def instant_names(handler: BaseRouteHandler) -> frozenset[str]:
    """The query names of `handler`'s date-time parameters (aliases such as `from` included)."""
    names = set()
    for name, field in handler.parsed_fn_signature.parameters.items():
        if not (field.is_subclass_of(datetime) or any(t.is_subclass_of(datetime) for t in field.inner_types)):
            continue
        kwarg = field.kwarg_definition
        if isinstance(kwarg, KwargDefinition) and (kwarg.header or kwarg.cookie):
            continue
        names.add(getattr(kwarg, "query", None) or getattr(kwarg, "name", None) or name)
    return frozenset(names)


def check_instants(scope: Scope) -> None:
    handler: Any = scope.get("route_handler")
    names = instant_names(handler) if isinstance(handler, BaseRouteHandler) else frozenset()
    if not names:
        return
    query = scope.get("query_string", b"").decode("latin-1")
    for name, value in parse_qsl(query, keep_blank_values=True):
        if name not in names:
            continue
        try:
            instant = msgspec.convert(value, datetime, strict=True)
        except msgspec.ValidationError:
            raise InvalidParameter(f"`{name}` {MESSAGE}", errors=[{"field": name, "message": MESSAGE}]) from None
        if instant.tzinfo is None:
            raise InvalidParameter(
                f"`{name}` {NO_OFFSET}", code=NO_OFFSET_CODE, errors=[{"field": name, "message": NO_OFFSET}]
            )


def document(parameter: Parameter) -> None:
    """State the rule on `parameter` (an OpenAPI query parameter) if it takes a date-time."""
    schema = parameter.schema
    choices = [schema, *(getattr(schema, "one_of", None) or [])] if isinstance(schema, Schema) else []
    if (
        parameter.param_in != "query"
        or RULE in (parameter.description or "")
        or not any(getattr(s, "format", None) == OpenAPIFormat.DATE_TIME for s in choices)
    ):
        return
    parameter.description = f"{parameter.description}. {RULE}" if parameter.description else RULE
    if isinstance(schema, Schema):
        schema.description = parameter.description
