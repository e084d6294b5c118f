"""The document states every bound a body Struct enforces: those Litestar leaves out are put back from msgspec.

Litestar copies a field's bound to its schema only when the bound is truthy,
and drops the bounds of an optional list's items: `max_retries: Annotated[int,
Meta(ge=0)] | None` was documented with no minimum, `tags: list[Annotated[str,
Meta(min_length=1)]] | None` with no rule on a tag. A client generated from the
document (or a fuzzer reading it) sent -1 or "" and met a 422 the document did
not announce. Each component named after a Struct gets, on each property (and
on its array's items), the bounds msgspec's own JSON Schema of that Struct
states and the component lacks.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import msgspec
from litestar.openapi.spec import OpenAPI, Schema
from litestar.openapi.spec.enums import OpenAPIType

#: JSON Schema bound keywords, and the Schema attribute each is held in.
BOUNDS = {
    "minimum": "minimum",
    "maximum": "maximum",
    "exclusiveMinimum": "exclusive_minimum",
    "exclusiveMaximum": "exclusive_maximum",
    "minLength": "min_length",
    "maxLength": "max_length",
    "minItems": "min_items",
    "maxItems": "max_items",
}


def restore_bounds(openapi: OpenAPI) -> None:
    schemas = openapi.components.schemas if openapi.components else None
    if not schemas:
        return
    structs = _structs_by_name()
    for name, component in schemas.items():
        struct = structs.get(name)
        if struct is None or not isinstance(component, Schema) or not component.properties:
            continue
        try:
            (_,), definitions = msgspec.json.schema_components([struct])
        except (TypeError, ValueError):  # a field type msgspec cannot describe: nothing to compare with
            continue
        own = definitions.get(struct.__name__, {})
        for field, stated in (own.get("properties") or {}).items():
            documented = component.properties.get(field)
            if isinstance(documented, Schema):
                _add_bounds(documented, stated)


def _add_bounds(documented: Schema, stated: dict[str, Any]) -> None:
    """`documented` (a property, optional or not) takes the bounds of `stated` (msgspec's) it lacks."""
    stated = _not_null(stated)
    for keyword, attribute in BOUNDS.items():
        if keyword in stated and not _has(documented, attribute):
            setattr(documented, attribute, stated[keyword])
    items = stated.get("items")
    array = next((s for s in _alternatives(documented) if s.type == OpenAPIType.ARRAY), None)
    if isinstance(items, dict) and array is not None and isinstance(array.items, Schema):
        _add_bounds(array.items, items)


def _not_null(stated: dict[str, Any]) -> dict[str, Any]:
    """msgspec's schema of `T | None` is anyOf [T, null]: the bounds are T's."""
    others = [s for s in stated.get("anyOf", []) if s.get("type") != "null"]
    return others[0] if len(others) == 1 else stated


def _alternatives(schema: Schema) -> Iterator[Schema]:
    yield schema
    for alternative in [*(schema.one_of or []), *(schema.any_of or [])]:
        if isinstance(alternative, Schema):
            yield alternative


def _has(schema: Schema, attribute: str) -> bool:
    return any(getattr(s, attribute, None) is not None for s in _alternatives(schema))


def _structs_by_name() -> dict[str, type[msgspec.Struct]]:
    """Every loaded Struct by name; a name two Structs share is left out (which one a component is, is unknown)."""
    found: dict[str, type[msgspec.Struct]] = {}
    shared: set[str] = set()
    stack = list(msgspec.Struct.__subclasses__())
    while stack:
        struct = stack.pop()
        stack.extend(struct.__subclasses__())
        if found.get(struct.__name__, struct) is not struct:
            shared.add(struct.__name__)
        found[struct.__name__] = struct
    return {name: struct for name, struct in found.items() if name not in shared}
