"""OPTIONS answers on every path (no 500), and a browser's CORS preflight works, resumable uploads included."""

from __future__ import annotations

import re
import uuid

import msgspec
import pytest
from litestar.testing import TestClient

from app.api.app import create_app
from app.settings import Settings


def every_path(client: TestClient) -> list[str]:
    """Each route path of the app, its parameters filled with a plausible value."""

    def fill(match: re.Match[str]) -> str:
        return "1" if match.group(0).endswith(":int}") else str(uuid.uuid4())

    return sorted({re.sub(r"\{[^}]+\}", fill, route.path) for route in client.app.routes})


def test_options_on_every_path_answers_without_an_error(anonymous: TestClient) -> None:
    paths = every_path(anonymous)
    assert len(paths) > 40
    failures = {}
    for path in paths:
        response = anonymous.options(path)
        if response.status_code not in (204, 405):
            failures[path] = (response.status_code, response.text[:200])
    assert failures == {}


def test_options_says_which_methods_a_path_allows(anonymous: TestClient) -> None:
    response = anonymous.options("/api/v1/runs")
    assert response.status_code == 204
    assert "GET" in {m.strip() for m in response.headers["allow"].split(",")}


@pytest.mark.parametrize(
    ("path", "methods"),
    [
        ("/api/v1/auth/me", {"GET", "HEAD", "PATCH", "OPTIONS"}),  # Litestar's own handler said GET, OPTIONS
        ("/api/v1/runs", {"GET", "HEAD", "POST", "OPTIONS"}),
        ("/api/v1/deployments/0190f5e2-0000-7000-8000-000000000000", {"GET", "HEAD", "PATCH", "DELETE", "OPTIONS"}),
        ("/api/v1/auth/login", {"POST", "OPTIONS"}),
    ],
)
def test_allow_lists_every_method_of_the_path(anonymous: TestClient, path: str, methods: set[str]) -> None:
    response = anonymous.options(path)
    assert response.status_code == 204
    assert {m.strip() for m in response.headers["allow"].split(",")} == methods


@pytest.fixture
def cross_origin(fast_settings: Settings, redis_client) -> TestClient:  # type: ignore[no-untyped-def]
    settings = msgspec.structs.replace(fast_settings, cors_origins="https://spa.example")
    with TestClient(app=create_app(settings)) as client:
        yield client


def test_a_preflight_for_a_resumable_upload_chunk_is_allowed(cross_origin: TestClient) -> None:
    response = cross_origin.options(
        f"/api/v1/uploads/{uuid.uuid4()}",
        headers={
            "Origin": "https://spa.example",
            "Access-Control-Request-Method": "PUT",
            "Access-Control-Request-Headers": "authorization, content-range",
        },
    )
    assert response.status_code == 204, response.text
    assert response.headers["access-control-allow-origin"] == "https://spa.example"
    allowed = {h.strip().lower() for h in response.headers["access-control-allow-headers"].split(",")}
    assert {"authorization", "content-range"} <= allowed
