"""Values a route accepts from a fixed list are enums in the OpenAPI document, taken from the list's one definition,
so a generated client (and a fuzzer) knows them; the `code` of a refused value stays what clients knew."""

from __future__ import annotations

from typing import Any

import pytest

from app.api.app import create_app
from app.api.openapi import openapi_document
from app.db.accounts import ROLES
from app.domain.metric_catalog import CATALOG
from app.domain.metric_sources import COLUMNS
from app.domain.metrics import BUCKETS
from app.settings import Settings


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    settings = Settings(database_url="postgresql://nobody@127.0.0.1:1/none", redis_url="redis://127.0.0.1:1/0")
    return openapi_document(create_app(settings)).to_schema()


def _parameters(document: dict[str, Any], path: str) -> dict[str, dict[str, Any]]:
    return {p["name"]: p["schema"] for p in document["paths"][path]["get"]["parameters"]}


def _enum(document: dict[str, Any], schema: dict[str, Any]) -> list[str]:
    """The values of the enum component `schema` refers to (directly, or as its one allOf/oneOf reference)."""
    refs = [s["$ref"] for s in [schema, *schema.get("allOf", []), *schema.get("oneOf", [])] if "$ref" in s]
    assert len(refs) == 1, schema
    return document["components"]["schemas"][refs[0].rsplit("/", 1)[1]]["enum"]


def test_roles_metrics_buckets_and_dimensions_are_enums_from_their_definitions(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    for body in ("MemberIn", "NamedMemberIn", "NewApiToken", "InviteIn"):
        assert _enum(document, schemas[body]["properties"]["role"]) == list(ROLES), body
    dimensions = list(dict.fromkeys(d for columns in COLUMNS.values() for d in columns))
    for path in ("/api/v1/metrics/timeseries", "/api/v1/metrics/breakdown"):
        parameters = _parameters(document, path)
        assert _enum(document, parameters["metric"]) == [m.name for m in CATALOG], path
        assert _enum(document, parameters["by"]) == dimensions, path
    assert _enum(document, _parameters(document, "/api/v1/metrics/timeseries")["bucket"]) == list(BUCKETS)


def test_each_parameter_states_its_own_default_not_the_shared_enum(document: dict[str, Any]) -> None:
    timeseries = _parameters(document, "/api/v1/metrics/timeseries")
    breakdown = _parameters(document, "/api/v1/metrics/breakdown")
    assert (timeseries["metric"]["default"], timeseries["bucket"]["default"]) == ("runs", "1h")
    assert "default" not in timeseries["by"]  # no split unless asked
    assert breakdown["by"]["default"] == "status"
    for name in ("MetricName", "MetricBucket", "MetricDimension", "RoleName"):
        assert "default" not in document["components"]["schemas"][name], name


def test_a_struct_field_s_enum_default_is_stated_on_its_property_not_the_enum(document: dict[str, Any]) -> None:
    """Litestar copied DeploymentIn's `misfire_policy` default onto the MisfirePolicy component, so DeploymentOut
    (where nothing is defaulted) read as if the server might leave it to `run_once`."""
    schemas = document["components"]["schemas"]
    for enum, field, default in (
        ("MisfirePolicy", "misfire_policy", "run_once"),
        ("OverlapPolicy", "overlap_policy", "skip"),
    ):
        assert "default" not in schemas[enum], enum
        reference = {"$ref": f"#/components/schemas/{enum}"}
        assert schemas["DeploymentIn"]["properties"][field] == {"allOf": [reference], "default": default}
        assert schemas["DeploymentOut"]["properties"][field] == reference
    assert not [name for name, schema in schemas.items() if "enum" in schema and "default" in schema]


def test_a_response_schema_requires_every_field_the_server_always_sends(document: dict[str, Any]) -> None:
    """msgspec sends a Struct's fields with defaults too: `Series.label` was documented optional (`label?:` in
    the console's types) though always sent. A field that may be UNSET, a Struct that omits defaults (Problem) and
    a request body keep their optional fields."""
    schemas = document["components"]["schemas"]
    assert set(schemas["Series"]["required"]) == {"key", "label", "points"}
    assert {"versions", "version_count", "versions_next_cursor"} <= set(schemas["DatasetOut"]["required"])
    assert "runs" not in schemas["SlowPipeline"]["required"]  # UNSET unless asked for
    assert "errors" not in schemas["Problem"].get("required", [])  # omit_defaults
    assert "misfire_policy" not in schemas["DeploymentIn"].get("required", [])  # a request body
