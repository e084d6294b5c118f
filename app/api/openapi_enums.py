"""An enum query parameter's default is stated on the parameter, never on the enum's shared component.

Litestar makes one component of an enum (`MetricName`, `MetricDimension`) from the
first parameter that uses it, with that parameter's default and description: the
breakdown's `by=status` default then read as the default of every `by`, the
timeseries' too (whose default is none), and the parameter itself stated none. Here
each enum parameter gets its own default (and description) beside its reference, and
the component keeps only what the type says.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

from litestar.handlers import HTTPRouteHandler
from litestar.openapi.spec import OpenAPI, Parameter, Reference, Schema

_PREFIX = "#/components/schemas/"


def document_defaults(openapi: OpenAPI, handler: HTTPRouteHandler, parameter: Parameter) -> None:
    """Give `parameter` (of `handler`) its own default when it takes an enum that has a component."""
    field = handler.parsed_fn_signature.parameters.get(parameter.name)
    if field is None or parameter.param_in != "query":
        return
    reference = _reference(parameter.schema)
    component = _component(openapi, reference)
    if reference is None or component is None:
        return
    component.default = None
    if component.description == parameter.description or (
        isinstance(parameter.schema, Schema) and component.description == parameter.schema.description
    ):
        component.description = None
    default = field.default.value if isinstance(field.default, Enum) else None
    if default is not None:
        parameter.schema = Schema(all_of=[reference], default=default, description=parameter.description)


def _reference(schema: Any) -> Reference | None:
    if isinstance(schema, Reference):
        return schema
    if isinstance(schema, Schema):
        for choices in (schema.all_of, schema.one_of):
            found = [c for c in choices or [] if isinstance(c, Reference)]
            if len(found) == 1:
                return found[0]
    return None


def _component(openapi: OpenAPI, reference: Reference | None) -> Schema | None:
    schemas = openapi.components.schemas if openapi.components else None
    if reference is None or not schemas or not reference.ref.startswith(_PREFIX):
        return None
    component = schemas.get(reference.ref.removeprefix(_PREFIX))
    return component if isinstance(component, Schema) and component.enum else None
