"""Integration fixtures: an emptied schema per test, the API in-process, the engine's parts wired to real servers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from litestar.testing import TestClient

from app.api.app import create_app
from app.settings import Settings
from tests.integration.engine_parts import parts  # noqa: F401  (a fixture)


@pytest.fixture(autouse=True)
def _empty_schema(clean_db):  # type: ignore[no-untyped-def]
    return clean_db


@pytest.fixture
def client(settings: Settings, redis_client) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with TestClient(app=create_app(settings)) as test_client:
        yield test_client


@pytest.fixture
def pipeline(client: TestClient) -> dict:
    """A pipeline that does nothing, named `noop`."""
    response = client.post("/api/v1/pipelines", json={"name": "noop", "spec": {"steps": []}})
    assert response.status_code == 201, response.text
    return response.json()
