"""A cursor is good only for the list and filters it came from: elsewhere it would start a page at a position that
means something else there (a wrong page, or rows skipped), so it is 400 `invalid_cursor`."""

from __future__ import annotations

import pytest
from litestar.testing import TestClient


@pytest.fixture
def runs(client: TestClient) -> list[str]:
    assert client.post("/api/v1/pipelines", json={"name": "noop", "spec": {"steps": []}}).status_code == 201
    made = [client.post("/api/v1/runs", json={"pipeline": "noop"}) for _ in range(3)]
    assert [r.status_code for r in made] == [201] * 3, made[-1].text
    return [r.json()["id"] for r in made]


def _refused(response) -> bool:  # type: ignore[no-untyped-def]
    return (response.status_code, response.json().get("code")) == (400, "invalid_cursor")


def test_a_cursor_pages_its_own_list_whatever_the_order_of_the_filters_or_the_page_size(
    client: TestClient, runs: list[str]
) -> None:
    query = [("kind", "pipeline"), ("trigger", "api")]
    first = client.get("/api/v1/runs", params=[*query, ("limit", "1")]).json()
    again = [*reversed(query), ("limit", "2"), ("cursor", first["next_cursor"])]
    second = client.get("/api/v1/runs", params=again)
    assert second.status_code == 200, second.text
    seen = [r["id"] for r in first["items"] + second.json()["items"]]
    assert sorted(seen) == sorted(runs)
    assert second.json()["next_cursor"] is None


def test_a_cursor_of_another_list_or_other_filters_is_refused(client: TestClient, runs: list[str]) -> None:
    cursor = client.get("/api/v1/runs", params={"limit": 1}).json()["next_cursor"]
    assert _refused(client.get("/api/v1/runs", params={"limit": 1, "status": "FAILED", "cursor": cursor}))
    assert _refused(client.get("/api/v1/runs", params={"limit": 1, "kind": "ingest", "cursor": cursor}))
    assert _refused(client.get("/api/v1/pipelines", params={"cursor": cursor}))
    assert _refused(client.get("/api/v1/datasets", params={"cursor": cursor}))
    # a cursor from before cursors carried their list (the position alone): start again from the first page
    assert _refused(client.get("/api/v1/runs", params={"limit": 1, "cursor": cursor.partition(".")[2]}))


def test_a_cursor_of_one_pipelines_versions_does_not_page_anothers(client: TestClient) -> None:
    for name in ("a", "b"):
        assert client.post("/api/v1/pipelines", json={"name": name, "spec": {"steps": []}}).status_code == 201
        for _ in range(2):
            changed = client.put(
                f"/api/v1/pipelines/{name}", json={"spec": {"steps": [{"type": "log", "message": "x"}]}}
            )
            assert changed.status_code in (200, 201), changed.text
    cursor = client.get("/api/v1/pipelines/a/versions", params={"limit": 1}).json()["next_cursor"]
    assert client.get("/api/v1/pipelines/a/versions", params={"limit": 1, "cursor": cursor}).status_code == 200
    assert _refused(client.get("/api/v1/pipelines/b/versions", params={"limit": 1, "cursor": cursor}))
