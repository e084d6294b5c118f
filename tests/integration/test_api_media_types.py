"""Responses carry the media type the OpenAPI document states, once and well-formed."""

from __future__ import annotations

import pytest
from litestar.testing import TestClient


def test_the_csv_export_names_its_charset_once(client: TestClient) -> None:
    response = client.get("/api/v1/audit/export", params={"format": "csv"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.text.startswith("id,at,")


def test_the_ndjson_export_is_ndjson(client: TestClient) -> None:
    response = client.get("/api/v1/audit/export", params={"format": "ndjson"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/x-ndjson"


PIPELINE = b'{"name": "typed", "spec": {"steps": []}}'


@pytest.mark.parametrize(
    "content_type", ["application/xml", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data", None]
)
def test_a_json_body_of_another_media_type_is_415_and_nothing_is_written(
    client: TestClient, content_type: str | None
) -> None:
    """It was parsed as JSON whatever it said it was (an outside tester's finding)."""
    headers = {"Content-Type": content_type} if content_type else {}
    if content_type is None:
        client.headers.pop("Content-Type", None)
    response = client.post("/api/v1/pipelines", content=PIPELINE, headers=headers)
    assert response.status_code == 415, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "unsupported_media_type"
    assert "application/json" in response.json()["detail"]
    assert client.get("/api/v1/pipelines/typed").status_code == 404


@pytest.mark.parametrize("coding", ["gzip", "br", "x-custom"])
def test_an_encoded_body_is_415_and_nothing_is_written(client: TestClient, coding: str) -> None:
    """A body sent with Content-Encoding gzip was read as if it were plain JSON (an outside tester's finding)."""
    import gzip

    body = gzip.compress(PIPELINE) if coding == "gzip" else PIPELINE
    response = client.post(
        "/api/v1/pipelines", content=body, headers={"Content-Type": "application/json", "Content-Encoding": coding}
    )
    assert response.status_code == 415, response.text
    assert response.json()["code"] == "unsupported_media_type"
    assert f"Content-Encoding {coding}" in response.json()["detail"]
    assert client.get("/api/v1/pipelines/typed").status_code == 404


def test_an_identity_coded_body_is_read(client: TestClient) -> None:
    response = client.post(
        "/api/v1/pipelines",
        content=PIPELINE,
        headers={"Content-Type": "application/json", "Content-Encoding": "identity"},
    )
    assert response.status_code == 201, response.text


@pytest.mark.parametrize("content_type", ["application/json", "application/json; charset=utf-8", "APPLICATION/JSON"])
def test_json_is_taken_with_or_without_a_charset(client: TestClient, content_type: str) -> None:
    response = client.post("/api/v1/pipelines", content=PIPELINE, headers={"Content-Type": content_type})
    assert response.status_code == 201, response.text


def test_yaml_is_taken_where_documented_and_only_there(client: TestClient) -> None:
    yaml_body = b"name: typed\nspec:\n  steps: []\n"
    created = client.post("/api/v1/pipelines", content=yaml_body, headers={"Content-Type": "application/yaml"})
    assert created.status_code == 201, created.text
    refused = client.post("/api/v1/runs", content=b"pipeline: typed\n", headers={"Content-Type": "application/yaml"})
    assert (refused.status_code, refused.json()["code"]) == (415, "unsupported_media_type")


def test_an_upload_that_is_not_multipart_is_415(client: TestClient) -> None:
    response = client.post("/api/v1/datasets", content=b'{"name": "x"}', headers={"Content-Type": "application/json"})
    assert (response.status_code, response.json()["code"]) == (415, "unsupported_media_type")


def test_415_is_documented_where_a_body_is_taken(client: TestClient) -> None:
    paths = client.get("/api/docs/openapi.json").json()["paths"]
    assert "415" in paths["/api/v1/pipelines"]["post"]["responses"]
    assert "415" in paths["/api/v1/runs"]["post"]["responses"]
    assert "415" in paths["/api/v1/datasets"]["post"]["responses"]
    assert "415" not in paths["/api/v1/runs"]["get"]["responses"]
