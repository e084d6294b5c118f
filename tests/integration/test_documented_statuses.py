"""Statuses a route answered that its OpenAPI document did not list (Schemathesis against a live API found them:
the in-process fuzz test cannot reach them, as it never holds the id of a resource in that state)."""

from __future__ import annotations

from litestar.testing import TestClient

from tests.integration.dataset_support import SALES, upload


def documented(client: TestClient, method: str, path: str) -> set[int]:
    operation = client.get("/api/docs/openapi.json").json()["paths"][path][method]
    return {int(status) for status in operation["responses"]}


def test_rows_of_a_dataset_never_imported_is_a_documented_409(client: TestClient) -> None:
    dataset = upload(client, SALES)
    response = client.get(f"/api/v1/datasets/{dataset['id']}/rows")
    assert (response.status_code, response.json()["code"]) == (409, "dataset_not_imported")
    assert 409 in documented(client, "get", "/api/v1/datasets/{dataset_id}/rows")
