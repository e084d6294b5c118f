"""DuckDB work done inside an API request is bounded: validation binds without running, and previews, rows and
validation stop at CONVEYOR_REQUEST_QUERY_SECONDS with 422 `query_too_expensive`."""

from __future__ import annotations

from collections.abc import Iterator

import msgspec
import pytest
from litestar.testing import TestClient
from sqlalchemy import Engine

from app.api.app import create_app
from app.settings import Settings
from tests.integration.conftest import make_user, sign_in
from tests.integration.dataset_support import SALES, run_import, upload
from tests.integration.engine_parts import Engine_

#: What an outside tester sent as a viewer: a scan of 10^12 rows that held an API core for 15 minutes.
HUGE = "select count(*) from range(1000000000000) t(i) where i % 7 = 3"


@pytest.fixture
def impatient(fast_settings: Settings, engine: Engine, redis_client) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    """The API with a request query limit so small that any DuckDB work hits it, signed in as an admin."""
    settings = msgspec.structs.replace(fast_settings, request_query_seconds=0.001)
    make_user(engine, settings, "hasty", superuser=True)
    with TestClient(app=create_app(settings)) as client:
        client.headers["Authorization"] = f"Bearer {sign_in(client, 'hasty')['access_token']}"
        yield client


@pytest.mark.timeout(120)
def test_validating_a_huge_scan_answers_at_once_without_running_it(client: TestClient) -> None:
    response = client.post("/api/v1/pipelines/validate", json={"spec": {"steps": [{"type": "sql", "sql": HUGE}]}})
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["valid"] is True
    assert [(c["name"], c["type"]) for c in report["output_columns"]] == [("count_star()", "integer")]


@pytest.mark.timeout(120)
def test_validation_over_the_time_limit_is_422_query_too_expensive(impatient: TestClient) -> None:
    response = impatient.post("/api/v1/pipelines/validate", json={"spec": {"steps": [{"type": "sql", "sql": HUGE}]}})
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "query_too_expensive"


@pytest.mark.timeout(120)
def test_validation_that_would_fold_a_huge_constant_is_422_query_too_expensive(
    fast_settings: Settings,
    engine: Engine,
    redis_client,  # type: ignore[no-untyped-def]
) -> None:
    """Binding evaluates a table function's argument: 1 GB of text here, past a 64 MB request memory limit."""
    settings = msgspec.structs.replace(fast_settings, request_query_memory_mb=64)
    make_user(engine, settings, "frugal", superuser=True)
    sql = "select * from range(length(repeat('x', 1000000000)))"
    with TestClient(app=create_app(settings)) as client:
        client.headers["Authorization"] = f"Bearer {sign_in(client, 'frugal')['access_token']}"
        response = client.post("/api/v1/pipelines/validate", json={"spec": {"steps": [{"type": "sql", "sql": sql}]}})
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "query_too_expensive"


@pytest.mark.timeout(120)
def test_a_preview_over_the_time_limit_is_422_query_too_expensive(client: TestClient, impatient: TestClient) -> None:
    dataset = upload(client, SALES)
    response = impatient.post(f"/api/v1/datasets/{dataset['id']}/preview", json={})
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "query_too_expensive"
    assert client.post(f"/api/v1/datasets/{dataset['id']}/preview", json={}).status_code == 200


@pytest.mark.timeout(120)
def test_rows_over_the_time_limit_are_422_query_too_expensive(
    client: TestClient, impatient: TestClient, parts: Engine_
) -> None:
    dataset = upload(client, SALES)
    assert run_import(client, parts, dataset["id"])["status"] == "SUCCEEDED"
    response = impatient.get(f"/api/v1/datasets/{dataset['id']}/rows", params={"filter": "name:contains:a"})
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "query_too_expensive"
    assert client.get(f"/api/v1/datasets/{dataset['id']}/rows").json()["total"] == 4
