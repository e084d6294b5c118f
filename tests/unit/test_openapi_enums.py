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
