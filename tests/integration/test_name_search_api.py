"""The lists' `?search=`: part of a name, in any case, `%` and `_` as typed (app/domain/name_search.py), so a thing
past the first page is found by what a person remembers of its name."""

from __future__ import annotations

from litestar.testing import TestClient


def names(client: TestClient, path: str, key: str = "name", **params: object) -> list[str]:
    """What the list at `path` answers for `params`: each item's `key`, in the list's order."""
    response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    return [item[key] for item in (body["items"] if isinstance(body, dict) else body)]


def test_pipelines_are_found_by_part_of_their_name_in_any_case(client: TestClient) -> None:
    """The console's pipeline list and pickers ask with `search`: it matched only an exact-case prefix before."""
    for name in ("nightly-sales", "Nightly_Costs", "hourly", "nightlyXcosts"):
        assert client.post("/api/v1/pipelines", json={"name": name, "spec": {"steps": []}}).status_code == 201
    for n in range(55):  # more than a page of newer pipelines
        assert client.post("/api/v1/pipelines", json={"name": f"filler-{n}", "spec": {"steps": []}}).status_code == 201

    assert names(client, "/api/v1/pipelines", search="NIGHTLY") == ["nightlyXcosts", "Nightly_Costs", "nightly-sales"]
    assert names(client, "/api/v1/pipelines", search="costs") == ["nightlyXcosts", "Nightly_Costs"]  # mid-name
    assert names(client, "/api/v1/pipelines", search="y_c") == ["Nightly_Costs"]  # `_` is not a wildcard
    assert names(client, "/api/v1/pipelines", search="%") == []
    assert names(client, "/api/v1/pipelines", search="夜间") == []  # Chinese is matched as typed, not an error
    assert names(client, "/api/v1/pipelines", search="sales", namespace="default") == ["nightly-sales"]
    assert names(client, "/api/v1/pipelines", name_prefix="Nightly") == ["Nightly_Costs"]  # unchanged: exact prefix
    first = client.get("/api/v1/pipelines", params={"search": "nightly", "limit": 2}).json()
    rest = client.get("/api/v1/pipelines", params={"search": "nightly", "cursor": first["next_cursor"]}).json()
    assert [p["name"] for p in first["items"] + rest["items"]] == ["nightlyXcosts", "Nightly_Costs", "nightly-sales"]
    too_long = client.get("/api/v1/pipelines", params={"search": "x" * 201})
    assert (too_long.status_code, too_long.json()["errors"][0]["field"]) == (400, "search")
