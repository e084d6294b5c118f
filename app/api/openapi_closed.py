"""The document says which objects are closed: a body Struct with `forbid_unknown_fields`, and a pipeline spec.

Litestar's schemas leave `additionalProperties` out, so a client (or a fuzzer)
reading the document may send fields the server refuses with 422. Every
component named after a Struct that forbids unknown fields, whose properties
are that Struct's fields, gets `additionalProperties: false`; every free-form
`spec` object becomes the PipelineSpec component: its top-level keys, closed,
with the whole language at GET /api/v1/pipelines/schema.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import msgspec
from litestar.openapi.spec import OpenAPI, Reference, Schema
from litestar.openapi.spec.enums import OpenAPIType
from msgspec.structs import fields

from app.pipeline.spec import CATALOG

SPEC_NAME = "PipelineSpec"
SPEC_REFERENCE = Reference(ref=f"#/components/schemas/{SPEC_NAME}")


def close_objects(openapi: OpenAPI) -> None:
    schemas = openapi.components.schemas if openapi.components else None
    if schemas is None:
        return
    closed = structs_named(lambda struct: struct.__struct_config__.forbid_unknown_fields)
    for name, schema in schemas.items():
        if not isinstance(schema, Schema):
            continue
        struct = closed.get(name)
        if struct is not None and set(schema.properties or {}) == encoded_names(struct):
            schema.additional_properties = False
        spec = (schema.properties or {}).get("spec")
        if isinstance(spec, Schema) and spec.type == OpenAPIType.OBJECT and not spec.properties:
            schema.properties["spec"] = SPEC_REFERENCE  # type: ignore[index]
    schemas[SPEC_NAME] = _spec_schema()


def encoded_names(struct: type[msgspec.Struct]) -> set[str]:
    """The keys a Struct's JSON has: its fields, and the tag field of a tagged union's member (`kind`)."""
    tag_field = struct.__struct_config__.tag_field
    return {f.encode_name for f in fields(struct)} | ({tag_field} if tag_field else set())


def _spec_schema() -> Schema:
    spec_type = CATALOG.spec_type
    return Schema(
        type=OpenAPIType.OBJECT,
        title=SPEC_NAME,
        description=f"{(spec_type.__doc__ or '').strip()} Its whole language (steps included) is the JSON Schema "
        "at GET /api/v1/pipelines/schema; the server refuses any other key.",
        properties={f.encode_name: Schema() for f in fields(spec_type)},
        required=[f.encode_name for f in fields(spec_type) if f.required] or None,
        additional_properties=False,
    )


def structs_named(chosen: Callable[[type[msgspec.Struct]], bool]) -> dict[str, type[msgspec.Struct]]:
    """Every loaded Struct `chosen` keeps, by name (a name two of them share is left out)."""
    found: dict[str, type[msgspec.Struct]] = {}
    shared: set[str] = set()
    for struct in _subclasses(msgspec.Struct):
        if not chosen(struct):
            continue
        if struct.__name__ in found and found[struct.__name__] is not struct:
            shared.add(struct.__name__)
        found[struct.__name__] = struct
    return {name: struct for name, struct in found.items() if name not in shared}


def _subclasses(cls: type[msgspec.Struct]) -> Iterator[type[msgspec.Struct]]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)
