"""The API with its database unreachable: 503 `database_unavailable` with Retry-After, never 500."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import msgspec
import pytest
from litestar.testing import TestClient

from app.api.app import create_app
from app.settings import Settings


@pytest.fixture
def unreachable(fast_settings: Settings, redis_client) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    """The API configured with a database on a port that refuses connections (bound, never listening)."""
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
        settings = msgspec.structs.replace(
            fast_settings, database_url=f"postgresql://postgres@127.0.0.1:{port}/conveyor"
        )
        with TestClient(app=create_app(settings)) as client:
            yield client


def assert_database_unavailable(response) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 503, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.headers["retry-after"].isdigit()
    body = response.json()
    assert (body["status"], body["code"]) == (503, "database_unavailable")
    assert body["trace_id"] == response.headers["x-request-id"]


def test_calls_that_need_the_database_answer_503_with_a_code(unreachable: TestClient) -> None:
    # Signing in, a signed-in read, and a submission all need the database
    assert_database_unavailable(unreachable.post("/api/v1/auth/login", json={"username": "a", "password": "b"}))
    unreachable.headers["Authorization"] = "Bearer cvy_not_checked_because_the_database_is_down"
    assert_database_unavailable(unreachable.get("/api/v1/runs"))
    assert_database_unavailable(unreachable.post("/api/v1/runs", json={"pipeline": "noop"}))


def test_readiness_names_the_database_and_liveness_still_answers(unreachable: TestClient) -> None:
    ready = unreachable.get("/readyz")
    assert ready.status_code == 503, ready.text
    assert ready.json()["code"] == "not_ready"
    assert "database: unreachable" in ready.json()["detail"]
    assert "redis: unreachable" not in ready.json()["detail"]
    assert unreachable.get("/healthz").status_code == 200
