"""Lists that answered every row at once are paged like the others, or bounded by a limit refused on write."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import Engine

from app.domain import members
from app.settings import Settings
from tests.integration.conftest import make_user


def every_page(client: TestClient, path: str, limit: int, **params: Any) -> list[list[dict[str, Any]]]:
    """The pages of the list at `path`, `limit` items each, following `next_cursor` with the same filters."""
    pages: list[list[dict[str, Any]]] = []
    cursor = None
    while True:
        response = client.get(path, params={**params, "limit": limit, **({"cursor": cursor} if cursor else {})})
        assert response.status_code == 200, response.text
        body = response.json()
        pages.append(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            return pages


def test_api_tokens_are_paged_newest_first_with_a_cursor_of_the_search(client: TestClient) -> None:
    for name in ["ci one", "ci two", "ci three", "laptop"]:
        made = client.post("/api/v1/tokens", json={"name": name, "namespace": "default", "role": "viewer"})
        assert made.status_code == 201, made.text

    pages = every_page(client, "/api/v1/tokens", 3)
    assert [[t["name"] for t in p] for p in pages] == [["laptop", "ci three", "ci two"], ["ci one"]]
    found = every_page(client, "/api/v1/tokens", 2, search="ci")
    assert [[t["name"] for t in p] for p in found] == [["ci three", "ci two"], ["ci one"]]

    first = client.get("/api/v1/tokens", params={"limit": 2, "search": "ci"}).json()
    other = client.get("/api/v1/tokens", params={"limit": 2, "search": "la", "cursor": first["next_cursor"]})
    assert (other.status_code, other.json()["code"]) == (400, "invalid_cursor")


def test_invites_are_paged_newest_first(client: TestClient) -> None:
    for n in range(3):
        assert client.post("/api/v1/invites", json={"email": f"u{n}@example.org"}).status_code == 201

    pages = every_page(client, "/api/v1/invites", 2)
    assert [[i["email"] for i in p] for p in pages] == [["u2@example.org", "u1@example.org"], ["u0@example.org"]]


def test_namespace_members_are_paged_newest_first(client: TestClient, engine: Engine, fast_settings: Settings) -> None:
    names = ["ana", "bo", "cy"]
    for name in names:
        make_user(engine, fast_settings, name)
        added = client.post("/api/v1/namespaces/default/members", json={"username": name, "role": "viewer"})
        assert added.status_code == 200, added.text

    pages = every_page(client, "/api/v1/namespaces/default/members", 2)
    assert all(len(p) <= 2 for p in pages)
    assert len(pages) >= 2
    listed = [m["username"] for p in pages for m in p]
    assert listed[:3] == ["cy", "bo", "ana"]
    assert len(listed) == len(set(listed))


def test_a_runs_events_are_paged_oldest_first(client: TestClient, pipeline: dict) -> None:
    run = client.post("/api/v1/runs", json={"pipeline": "noop"}).json()
    assert client.post(f"/api/v1/runs/{run['id']}/cancel").status_code in (200, 202)
    path = f"/api/v1/runs/{run['id']}/events"
    whole = client.get(path, params={"limit": 500}).json()
    assert len(whole["items"]) >= 2
    assert whole["next_cursor"] is None

    pages = every_page(client, path, 1)
    assert [p for p in pages if p] == [[e] for e in whole["items"]]
    ids = [e["id"] for e in whole["items"]]
    assert ids == sorted(ids)


def test_namespaces_past_the_documented_limit_are_refused(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    held = len(client.get("/api/v1/namespaces").json())
    monkeypatch.setattr(members, "MAX_NAMESPACES", held + 1)

    assert client.post("/api/v1/namespaces", json={"name": "last-one"}).status_code == 201
    refused = client.post("/api/v1/namespaces", json={"name": "one-too-many"})
    assert (refused.status_code, refused.json()["code"]) == (409, "too_many_namespaces")
    assert "one-too-many" not in [n["name"] for n in client.get("/api/v1/namespaces").json()]


def test_recent_failures_are_bounded_by_their_limit(client: TestClient) -> None:
    too_many = client.get("/api/v1/metrics/recent-failures", params={"limit": 201})
    assert too_many.status_code == 400
