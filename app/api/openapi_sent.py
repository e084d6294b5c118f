"""Object schemas state what the server sends and takes, field by field, from the Structs they are made of.

Litestar marks a Struct field with a default as optional, and copies an enum
field's default onto the enum's one shared component. Both read wrong in a
response: msgspec sends every field of a Struct (unless it omits defaults or
the value is UNSET), so `Series.label` was typed `label?:` in the console though
always sent, and `MisfirePolicy` said `default: run_once` wherever it appeared
(in DeploymentOut too, where nothing is defaulted). Here a component only
responses use lists every field it always sends as required, and an enum
field's default moves from the component to the property that has it.
"""

from __future__ import annotations

import typing
from collections.abc import Iterator
from enum import Enum
from typing import Any

import msgspec
from litestar.openapi.spec import OpenAPI, Operation, Reference, Schema
from msgspec.structs import FieldInfo, fields

from app.api.openapi_closed import encoded_names, structs_named

_PREFIX = "#/components/schemas/"


def state_sent_fields(openapi: OpenAPI, references: typing.Callable[[Any], Iterator[Reference]]) -> None:
    """Required fields of response-only components, and enum defaults on the properties that have them."""
    schemas = openapi.components.schemas if openapi.components else None
    if not schemas:
        return
    structs = structs_named(lambda _: True)
    requests, responses = _used(openapi, schemas, references)
    for name, schema in schemas.items():
        struct = structs.get((schema.title or name).split("[", 1)[0]) if isinstance(schema, Schema) else None
        if struct is None or not isinstance(schema, Schema) or not schema.properties:
            continue
        by_key = {f.encode_name: f for f in fields(struct)}
        if set(schema.properties) != encoded_names(struct):
            continue  # not this Struct's fields: leave it as Litestar made it
        _enum_defaults(schemas, schema, by_key)
        if name in responses and name not in requests and not struct.__struct_config__.omit_defaults:
            schema.required = sorted(k for k in schema.properties if k not in by_key or not _may_be_unset(by_key[k]))
    for component in schemas.values():
        if isinstance(component, Schema) and component.enum:
            component.default = None


def _enum_defaults(schemas: dict[str, Any], schema: Schema, by_key: dict[str, FieldInfo]) -> None:
    """A property that is a bare reference to an enum component gets its field's default beside the reference."""
    for key, value in (schema.properties or {}).items():
        default = by_key[key].default if key in by_key else None  # not a field: a tagged union's tag
        if not isinstance(value, Reference) or not isinstance(default, Enum):
            continue
        component = schemas.get(value.ref.removeprefix(_PREFIX))
        if isinstance(component, Schema) and component.enum:
            schema.properties[key] = Schema(all_of=[value], default=default.value)  # type: ignore[index]


def _may_be_unset(field: FieldInfo) -> bool:
    return msgspec.UnsetType in typing.get_args(field.type) or field.type is msgspec.UnsetType


def _used(
    openapi: OpenAPI, schemas: dict[str, Any], references: typing.Callable[[Any], Iterator[Reference]]
) -> tuple[set[str], set[str]]:
    """The components requests use (bodies, parameters) and those responses use, each with what they refer to."""
    requests: set[str] = set()
    responses: set[str] = set()
    for item in (openapi.paths or {}).values():
        for method in ("get", "put", "post", "delete", "patch", "head", "options", "trace"):
            operation = getattr(item, method, None)
            if isinstance(operation, Operation):
                _follow([operation.request_body, operation.parameters], schemas, references, requests)
                _follow(operation.responses, schemas, references, responses)
    return requests, responses


def _follow(
    value: Any, schemas: dict[str, Any], references: typing.Callable[[Any], Iterator[Reference]], into: set[str]
) -> None:
    for reference in references(value):
        name = reference.ref.removeprefix(_PREFIX)
        if name not in into and name in schemas:
            into.add(name)
            _follow(schemas[name], schemas, references, into)
