"""Pipelines API, and the OpenAPI document with a docs page that needs no internet."""

from __future__ import annotations

import re

from litestar.testing import TestClient


def test_creating_and_listing_pipelines(client: TestClient) -> None:
    spec = {"steps": [{"type": "log", "message": "hello"}, {"type": "sleep", "seconds": 1}]}
    created = client.post("/api/v1/pipelines", json={"name": "greet", "description": "says hi", "spec": spec})
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["version"] == 1
    assert body["spec"]["steps"][0] == {"type": "log", "message": "hello", "level": "info"}
    listed = client.get("/api/v1/pipelines").json()
    assert [p["name"] for p in listed["items"]] == ["greet"]
    assert client.get(f"/api/v1/pipelines/{body['id']}").json()["name"] == "greet"
    assert client.get("/api/v1/pipelines/greet").json()["id"] == body["id"]


def test_a_list_page_leaves_specs_out_whatever_they_weigh(client: TestClient) -> None:
    spec = {"steps": [{"type": "log", "message": "x" * 9_000} for _ in range(50)]}  # ~450 KB of spec
    created = client.post("/api/v1/pipelines", json={"name": "heavy", "spec": spec})
    assert created.status_code == 201, created.text
    listed = client.get("/api/v1/pipelines")
    (item,) = listed.json()["items"]
    assert "spec" not in item
    assert (item["name"], item["steps"], item["version"]) == ("heavy", 50, 1)
    assert len(listed.content) < 2_000
    assert len(client.get("/api/v1/pipelines/heavy").json()["spec"]["steps"]) == 50


def test_a_duplicate_name_is_a_conflict(client: TestClient) -> None:
    client.post("/api/v1/pipelines", json={"name": "dup", "spec": {"steps": []}})
    response = client.post("/api/v1/pipelines", json={"name": "dup", "spec": {"steps": []}})
    assert response.status_code == 409
    assert response.json()["code"] == "pipeline_name_taken"


def test_an_unknown_step_type_names_the_step(client: TestClient) -> None:
    response = client.post("/api/v1/pipelines", json={"name": "bad", "spec": {"steps": [{"type": "rm -rf"}]}})
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid_pipeline_spec"
    assert body["errors"][0]["field"].startswith("spec.steps[0]")
    assert client.get("/api/v1/pipelines").json()["items"] == []


def test_pipeline_list_paginates(client: TestClient) -> None:
    for i in range(5):
        client.post("/api/v1/pipelines", json={"name": f"p{i}", "spec": {"steps": []}})
    first = client.get("/api/v1/pipelines", params={"limit": 3}).json()
    second = client.get("/api/v1/pipelines", params={"limit": 3, "cursor": first["next_cursor"]}).json()
    assert [p["name"] for p in first["items"] + second["items"]] == ["p4", "p3", "p2", "p1", "p0"]
    assert second["next_cursor"] is None


def test_openapi_document_describes_the_api(client: TestClient) -> None:
    document = client.get("/api/docs/openapi.json").json()
    assert document["openapi"].startswith("3.")
    for path in (
        "/api/v1/runs",
        "/api/v1/runs/batch",
        "/api/v1/runs/{run_id}",
        "/api/v1/runs/{run_id}/cancel",
        "/api/v1/runs/{run_id}/logs/stream",
        "/api/v1/pipelines",
        "/healthz",
        "/readyz",
    ):
        assert path in document["paths"], path


def test_docs_page_loads_its_assets_from_this_server(client: TestClient) -> None:
    page = client.get("/api/docs")
    assert page.status_code == 200
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert sources, page.text
    assert all(not s.startswith(("http://", "https://", "//")) for s in sources), sources
    for source in sources:
        if source.endswith((".js", ".css")):
            assert client.get(source).status_code == 200, source


def test_the_written_document_is_the_served_one(client: TestClient) -> None:
    """The console's types come from `python -m app.api.openapi_document`: it must be what clients download."""
    from app.api.openapi_document import openapi_document

    served = client.get("/api/docs/openapi.json").json()
    written = openapi_document()
    assert written["paths"] == served["paths"]
    assert written["components"] == served["components"]
