"""The document states a notice's `message` as required: it is always sent (it has a default only so that code
builds a notice from its parameters, and the text from them)."""

from __future__ import annotations

from collections.abc import Iterator

from litestar.openapi.spec import OpenAPI, Schema

from app.core.notices import Notice


def state_notices(openapi: OpenAPI) -> None:
    schemas = openapi.components.schemas if openapi.components else None
    for kind in _kinds(Notice):
        schema = (schemas or {}).get(kind.__name__)
        if isinstance(schema, Schema) and "message" in (schema.properties or {}):
            schema.required = sorted({*(schema.required or []), "message"})


def _kinds(cls: type[Notice]) -> Iterator[type[Notice]]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _kinds(sub)
