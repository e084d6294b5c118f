"""The OpenAPI document is a contract a client's types are generated from: names, ids, errors, media types."""

from __future__ import annotations

import re
from typing import Any

import pytest

from app.api.app import create_app
from app.api.openapi import openapi_document
from app.api.schemas import MAX_SEARCH
from app.settings import Settings

METHODS = ("get", "put", "post", "delete", "patch")


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    # Building the app connects to nothing: the engine and Redis client are lazy.
    settings = Settings(database_url="postgresql://nobody@127.0.0.1:1/none", redis_url="redis://127.0.0.1:1/0")
    return openapi_document(create_app(settings)).to_schema()


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(m.upper(), p, op) for p, item in document["paths"].items() for m, op in item.items() if m in METHODS]


def test_schema_names_carry_no_module_paths(document: dict[str, Any]) -> None:
    names = list(document["components"]["schemas"])
    assert "RunOutPage" in names
    assert [n for n in names if not re.fullmatch(r"[A-Z][A-Za-z0-9]*", n)] == []


def test_every_operation_has_a_readable_unique_operation_id(document: dict[str, Any]) -> None:
    ids = [op.get("operationId", "") for _, _, op in operations(document)]
    assert [i for i in ids if not re.fullmatch(r"[a-z][A-Za-z]*", i)] == []
    assert len(ids) == len(set(ids))
    by_path = {(m, p): op["operationId"] for m, p, op in operations(document)}
    assert by_path["GET", "/api/v1/runs"] == "listRuns"
    assert by_path["GET", "/api/v1/runs/{run_id}"] == "getRun"
    assert by_path["POST", "/api/v1/auth/login"] == "login"


def test_every_error_is_a_problem_and_every_signed_in_route_documents_401(document: dict[str, Any]) -> None:
    for method, path, op in operations(document):
        for status, response in op["responses"].items():
            if status.startswith(("4", "5")):
                content = response.get("content", {})
                assert list(content) == ["application/problem+json"], (method, path, status)
                assert content["application/problem+json"]["schema"] == {"$ref": "#/components/schemas/Problem"}
        if op.get("security"):
            assert "401" in op["responses"], (method, path)
        if "{" in path:
            assert "404" in op["responses"], (method, path)


def test_an_occurrence_and_its_webhooks_document_the_reason_code(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    occurrence = schemas["OccurrenceOut"]["properties"]
    assert occurrence["reason_code"] == {"$ref": "#/components/schemas/ReasonCode"}
    assert "reason_code" in occurrence["reason"]["description"]
    assert "stable code" in schemas["ReasonCode"]["description"]
    payload = schemas["WebhookDeliveryOut"]["properties"]["payload"]["description"]
    assert "deployment.misfired" in payload
    assert "reason_code" in payload


def test_statuses_and_kinds_are_enums(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    run = schemas["RunOut"]["properties"]
    assert run["status"] == {"$ref": "#/components/schemas/RunStatus"}
    assert "TIMED_OUT" in schemas["RunStatus"]["enum"]
    assert run["kind"] == {"$ref": "#/components/schemas/RunKind"}
    assert run["trigger"] == {"$ref": "#/components/schemas/RunTrigger"}
    deployment = schemas["DeploymentOut"]["properties"]
    assert deployment["overlap_policy"] == {"$ref": "#/components/schemas/OverlapPolicy"}
    assert set(schemas["OverlapPolicy"]["enum"]) >= {"skip", "allow"}
    assert deployment["misfire_policy"] == {"$ref": "#/components/schemas/MisfirePolicy"}


def test_streams_downloads_and_raw_bodies_have_their_real_media_types(document: dict[str, Any]) -> None:
    paths = document["paths"]

    def success(path: str, method: str = "get") -> list[str]:
        return list(paths[path][method]["responses"]["200"]["content"])

    assert success("/api/v1/runs/{run_id}/logs/stream") == ["text/event-stream"]
    stream = paths["/api/v1/runs/{run_id}/logs/stream"]["get"]["responses"]["200"]["content"]["text/event-stream"]
    assert stream["schema"]["properties"]["event"]["enum"] == ["log", "end"]  # each event, not one string
    assert success("/api/v1/audit/export") == ["text/csv", "application/x-ndjson"]
    assert "application/vnd.apache.parquet" in success("/api/v1/datasets/{dataset_id}/download")
    upload = paths["/api/v1/datasets"]["post"]["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert upload["properties"]["file"] == {"type": "string", "format": "binary", "description": "The file to upload"}
    chunk = paths["/api/v1/uploads/{upload_id}"]["put"]
    assert list(chunk["requestBody"]["content"]) == ["application/octet-stream"]
    assert {p["name"]: p["required"] for p in chunk["parameters"] if p["in"] == "header"} == {"Content-Range": True}
    assert "application/yaml" in paths["/api/v1/pipelines"]["post"]["requestBody"]["content"]


def test_every_operation_taking_parameters_documents_the_422_for_unstorable_text(document: dict[str, Any]) -> None:
    """A NUL in any query or path parameter is a 422 `invalid_character` (app/api/text_boundary.py)."""
    missing = [
        f"{method.upper()} {path}"
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if operation.get("parameters") and "422" not in operation["responses"]
    ]
    assert missing == []


def test_every_rate_limited_operation_documents_429(document: dict[str, Any]) -> None:
    """The guard answers 429 rate_limited on every route but the probes; a fuzzer past 1200 a minute met it
    undocumented."""
    without = {(m, p) for m, p, op in operations(document) if "429" not in op["responses"]}
    assert without == {("GET", p) for p in ("/healthz", "/readyz", "/api/v1/healthz", "/api/v1/readyz")}


def test_every_operation_that_touches_the_database_documents_503(document: dict[str, Any]) -> None:
    """An unreachable database is 503 database_unavailable (app/api/errors.py) on every operation that reads or writes
    it, the guard's token lookup included; the document stated it only on the readiness probe."""
    without = {(m, p) for m, p, op in operations(document) if "503" not in op["responses"]}
    no_database = ("/healthz", "/api/v1/healthz", "/api/v1/auth/password-rules")
    assert without == {("GET", p) for p in no_database}
    examples = {
        p: op["responses"]["503"]["content"]["application/problem+json"]["examples"]
        for m, p, op in operations(document)
        if (m, p) in {("GET", "/api/v1/runs"), ("GET", "/readyz")}
    }
    codes = {p: [e["value"]["code"] for e in found.values()] for p, found in examples.items()}
    assert codes == {"/api/v1/runs": ["database_unavailable"], "/readyz": ["not_ready"]}


def test_deployment_and_backfill_times_state_the_years_rule(document: dict[str, Any]) -> None:
    """check_time refuses times outside 1900-8999 (time_out_of_range); the document now says so at each field."""
    schemas = document["components"]["schemas"]
    fields = {
        "DeploymentIn": ("start_at", "end_at"),
        "DeploymentPatch": ("start_at", "end_at"),
        "BackfillIn": ("start", "end"),
        "OnceSpec": ("at",),
        "IntervalSpec": ("anchor",),
    }
    silent = [
        (name, field)
        for name, names in fields.items()
        for field in names
        if "years 1900 to 8999" not in schemas[name]["properties"][field].get("description", "")
    ]
    assert silent == []


def test_a_body_that_refuses_unknown_fields_says_so(document: dict[str, Any]) -> None:
    """msgspec's forbid_unknown_fields refuses them, but the document let any through (schemathesis)."""
    schemas = document["components"]["schemas"]
    for name in ("ImportConfig", "PipelineIn", "PipelineChange", "DraftIn", "DeploymentIn", "DatasetPatch"):
        assert schemas[name]["additionalProperties"] is False, name
    assert "additionalProperties" not in schemas["RunOut"]  # a response may grow fields


def test_a_schedule_of_each_kind_is_closed(document: dict[str, Any]) -> None:
    """A schedule with an unknown key is a 422 (schemathesis sent one the document allowed): its `kind` tag is no
    Struct field, so the closed-object rule did not recognise the three members of the union."""
    schemas = document["components"]["schemas"]
    for name in ("CronSpec", "IntervalSpec", "OnceSpec"):
        assert schemas[name]["additionalProperties"] is False, name


def test_a_bound_of_zero_and_the_bounds_of_an_optional_lists_items_are_stated(document: dict[str, Any]) -> None:
    """Litestar drops a bound that is 0 on an optional field, and an optional list's item rules: the document let
    max_retries=-1 and tags=[""] through, which the server refuses with 422 (schemathesis' positive-data check)."""
    schemas = document["components"]["schemas"]
    for name in ("RunRequest", "PipelineRunIn", "DeploymentIn", "DeploymentPatch"):
        assert schemas[name]["properties"]["max_retries"]["minimum"] == 0, name
    for field in ("retry_backoff_seconds", "retry_backoff_max_seconds", "retry_jitter"):
        assert schemas["DeploymentPatch"]["properties"][field]["minimum"] == 0, field
    assert schemas["DeploymentPatch"]["properties"]["misfire_grace_seconds"]["minimum"] == 0
    tags = schemas["DatasetPatch"]["properties"]["tags"]
    array = next(s for s in tags["oneOf"] if s.get("type") == "array")
    assert (array["items"]["minLength"], array["items"]["maxLength"]) == (1, 64)


def test_a_body_the_server_lets_a_client_leave_out_is_not_required(document: dict[str, Any]) -> None:
    """These take no body at all (defaults), yet the document said one was required (schemathesis' negative-data
    check: "missing request body" was accepted)."""
    optional = {
        ("post", "/api/v1/datasets/{dataset_id}/preview"),
        ("post", "/api/v1/datasets/{dataset_id}/imports"),
        ("post", "/api/v1/deployments/{deployment_id}/trigger"),
        ("post", "/api/v1/pipelines/{pipeline_ref}/runs"),
        ("post", "/api/v1/webhooks/{webhook_id}/rotate-secret"),
    }
    for method, path, op in operations(document):
        if "requestBody" in op:
            assert op["requestBody"].get("required", False) is ((method.lower(), path) not in optional), (method, path)


def test_a_pipeline_spec_is_a_closed_object_pointing_at_the_language_schema(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    for name in ("PipelineIn", "PipelineChange", "DraftIn", "PipelineOut", "PipelineVersionOut"):
        assert schemas[name]["properties"]["spec"] == {"$ref": "#/components/schemas/PipelineSpec"}, name
    spec = schemas["PipelineSpec"]
    assert spec["additionalProperties"] is False
    assert {"inputs", "params", "steps", "output"} <= set(spec["properties"])
    assert "/api/v1/pipelines/schema" in spec["description"]


def test_the_upload_form_states_the_tags_rule(document: dict[str, Any]) -> None:
    form = document["paths"]["/api/v1/datasets"]["post"]["requestBody"]["content"]["multipart/form-data"]["schema"]
    pattern = re.compile(form["properties"]["tags"]["pattern"])
    for good in ("", "q1", "q1, finance:eu ,x-2", "a,,b"):
        assert pattern.match(good), good
    for bad in ("q 1", "-lead", "a;b", "x" * 65):
        assert not pattern.match(bad), bad


def test_every_date_time_query_parameter_states_the_offset_rule(document: dict[str, Any]) -> None:
    """A client learns from the document, not from a 400, that `2026-01-02T03:04:05` (no offset) is refused."""
    found = [
        (p, parameter["name"], parameter.get("description", ""))
        for _, p, op in operations(document)
        for parameter in op.get("parameters", [])
        if parameter["in"] == "query" and "date-time" in str(parameter["schema"])
    ]
    assert len(found) >= 18, found  # runs, audit (and its export), every metrics window
    assert [f for f in found if "UTC offset" not in f[2] or "date_time_without_offset" not in f[2]] == []
    assert {n for _, n, _ in found} == {"created_after", "created_before", "since", "until", "from", "to"}


def test_a_columns_format_is_one_format_or_a_list_tried_in_order(document: dict[str, Any]) -> None:
    spec = document["components"]["schemas"]["ColumnSpec"]["properties"]["format"]
    assert {"items": {"type": "string"}, "type": "array"} in spec["oneOf"]
    assert {"type": "string"} in spec["oneOf"]
    assert "tried in order" in spec["description"]


def test_every_json_response_states_its_fields(document: dict[str, Any]) -> None:
    """A generated client (or a fuzzer's response check) learns nothing from "an object": the metrics bodies were
    `dict[str, Any]`. The language's JSON Schema is the one body that is any object by nature."""
    untyped = [
        (method, path)
        for method, path, op in operations(document)
        for status, response in op["responses"].items()
        if status.startswith("2")
        for media, content in (response.get("content") or {}).items()
        if media == "application/json"
        and content.get("schema", {}).get("type") == "object"
        and "properties" not in content["schema"]
    ]
    assert untyped == [("GET", "/api/v1/pipelines/schema")]
    summary = document["components"]["schemas"]["MetricSummary"]
    assert {"from", "to", "metrics", "runs_by_status", "missed_by_outcome", "now"} <= set(summary["properties"])


def test_every_list_s_search_is_the_one_name_search_rule(document: dict[str, Any]) -> None:
    """Runs, uploads and webhooks each wrote their own `search` block (without the `%`/`_` note), users none at
    all (no length bound): every `search` now states the one rule of app/domain/name_search.py and MAX_SEARCH."""
    searches = {
        path: parameter
        for method, path, operation in operations(document)
        if method == "GET"
        for parameter in operation.get("parameters", [])
        if parameter["name"] == "search"
    }
    for path in ("pipelines", "deployments", "datasets", "runs", "uploads", "webhooks", "tokens", "users"):
        assert f"/api/v1/{path}" in searches, path
    for path, parameter in searches.items():
        assert parameter["schema"]["maxLength"] == MAX_SEARCH, path
        assert re.fullmatch(r"Part of .+, in any case; `%` and `_` match themselves", parameter["description"]), path
