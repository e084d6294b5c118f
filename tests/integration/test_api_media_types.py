"""Responses carry the media type the OpenAPI document states, once and well-formed."""

from __future__ import annotations

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
