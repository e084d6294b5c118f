"""A date-time query parameter takes an ISO 8601 / RFC 3339 date-time and nothing else.

Litestar converts query values in msgspec's lax mode, which reads a bare number
(`?created_before=0.5`, `?to=-23429213`) as Unix seconds, while the OpenAPI
document says `format: date-time`. One check, before any handler reads its
arguments, holds every such parameter to the strict reading: 400 `invalid_parameter`.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any
from urllib.parse import parse_qsl

import msgspec
from litestar.handlers import BaseRouteHandler
from litestar.params import KwargDefinition
from litestar.types import Scope

from app.core.errors import InvalidParameter

MESSAGE = "must be an ISO 8601 date-time, e.g. 2026-01-31T09:30:00Z"


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
            msgspec.convert(value, datetime, strict=True)
        except msgspec.ValidationError:
            raise InvalidParameter(f"`{name}` {MESSAGE}", errors=[{"field": name, "message": MESSAGE}]) from None
