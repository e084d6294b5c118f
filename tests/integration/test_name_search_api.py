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


def test_runs_are_found_by_part_of_the_name_of_their_pipeline_deployment_or_dataset(client: TestClient) -> None:
    """Runs have no name of their own: a person knows one by what it ran, so `search` looks at those names."""
    for name in ("Nightly-Sales", "hourly-costs"):
        assert client.post("/api/v1/pipelines", json={"name": name, "spec": {"steps": []}}).status_code == 201
    sales = client.post("/api/v1/runs", json={"pipeline": "Nightly-Sales"}).json()["id"]
    costs = client.post("/api/v1/runs", json={"pipeline": "hourly-costs"}).json()["id"]
    deployment = client.post(
        "/api/v1/deployments",
        json={
            "name": "weekly_report",
            "pipeline": "hourly-costs",
            "enabled": False,
            "schedule": {"kind": "cron", "cron": "0 3 * * 1", "timezone": "UTC"},
        },
    )
    assert deployment.status_code == 201, deployment.text
    triggered = client.post(f"/api/v1/deployments/{deployment.json()['id']}/trigger", json={})
    assert triggered.status_code == 201, triggered.text
    imported = client.post(
        "/api/v1/datasets", files={"file": ("s.csv", b"a\n1\n", "text/csv")}, data={"name": "销售日报"}
    ).json()
    import_run = client.post(f"/api/v1/datasets/{imported['id']}/imports", json={}).json()["id"]

    assert names(client, "/api/v1/runs", "id", search="SALES") == [sales]  # the pipeline's name, any case
    assert names(client, "/api/v1/runs", "id", search="costs") == [triggered.json()["id"], costs]
    assert names(client, "/api/v1/runs", "id", search="Y_R") == [triggered.json()["id"]]  # the deployment's
    assert names(client, "/api/v1/runs", "id", search="日报") == [import_run]  # the dataset's, in Chinese
    assert names(client, "/api/v1/runs", "id", search="%") == []
    assert names(client, "/api/v1/runs", "id", search="costs", kind="pipeline", namespace="default") == [
        triggered.json()["id"],
        costs,
    ]
    too_long = client.get("/api/v1/runs", params={"search": "x" * 201})
    assert (too_long.status_code, too_long.json()["errors"][0]["field"]) == (400, "search")


def test_api_tokens_are_found_by_part_of_their_name(client: TestClient) -> None:
    for name in ("CI nightly_build", "夜间导入", "laptop"):
        made = client.post("/api/v1/tokens", json={"name": name, "namespace": "default", "role": "viewer"})
        assert made.status_code == 201, made.text
    assert names(client, "/api/v1/tokens", search="NIGHTLY") == ["CI nightly_build"]
    assert names(client, "/api/v1/tokens", search="导入") == ["夜间导入"]
    assert names(client, "/api/v1/tokens", search="y_b") == ["CI nightly_build"]
    assert names(client, "/api/v1/tokens", search="%") == []
    assert names(client, "/api/v1/tokens", search="T", namespace="default") == ["laptop", "CI nightly_build"]
    too_long = client.get("/api/v1/tokens", params={"search": "x" * 201})
    assert (too_long.status_code, too_long.json()["errors"][0]["field"]) == (400, "search")


def test_uploads_are_listed_and_found_by_part_of_their_file_name(client: TestClient) -> None:
    """The audit log names an upload by id; a person remembers its file name."""
    for filename in ("Sales_2026.xlsx", "销售明细.csv", "costs.csv"):
        made = client.post("/api/v1/uploads", json={"filename": filename, "size": 10})
        assert made.status_code == 201, made.text
    assert names(client, "/api/v1/uploads", "filename") == ["costs.csv", "销售明细.csv", "Sales_2026.xlsx"]
    assert names(client, "/api/v1/uploads", "filename", search="SALES") == ["Sales_2026.xlsx"]
    assert names(client, "/api/v1/uploads", "filename", search="明细") == ["销售明细.csv"]
    assert names(client, "/api/v1/uploads", "filename", search="s_2") == ["Sales_2026.xlsx"]
    assert names(client, "/api/v1/uploads", "filename", search="%") == []
    first = client.get("/api/v1/uploads", params={"search": ".csv", "limit": 1}).json()
    rest = client.get("/api/v1/uploads", params={"search": ".csv", "cursor": first["next_cursor"]}).json()
    assert [u["filename"] for u in first["items"] + rest["items"]] == ["costs.csv", "销售明细.csv"]
    assert client.get("/api/v1/uploads", params={"namespace": "nowhere"}).status_code == 404
    too_long = client.get("/api/v1/uploads", params={"search": "x" * 201})
    assert (too_long.status_code, too_long.json()["errors"][0]["field"]) == (400, "search")


def test_users_are_found_by_part_of_their_username_or_email(client: TestClient) -> None:
    """An account without an email is still found by its username (the search reads both, a missing email as none)."""
    for username, email in (("ops_lead", None), ("analyst", "Ops.Desk@example.com"), ("viewer", "v@example.org")):
        made = client.post(
            "/api/v1/users", json={"username": username, "password": "a long passphrase", "email": email}
        )
        assert made.status_code == 201, made.text
    assert names(client, "/api/v1/users", "username", search="OPS") == ["analyst", "ops_lead"]
    assert names(client, "/api/v1/users", "username", search="s_l") == ["ops_lead"]  # `_` is not a wildcard
    assert names(client, "/api/v1/users", "username", search="example.org") == ["viewer"]
    assert names(client, "/api/v1/users", "username", search="%") == []
