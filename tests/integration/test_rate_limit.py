"""The general rate limit: per token and per address, 429 problem+json with Retry-After, never on probes."""

from __future__ import annotations

from collections.abc import Iterator

import msgspec
import pytest
from litestar.testing import TestClient
from sqlalchemy import Engine

from app.api.app import create_app
from app.settings import Settings
from tests.integration.conftest import make_user, sign_in

PER_TOKEN = 5
PER_ADDRESS = 3


@pytest.fixture
def limited(fast_settings: Settings, redis_client) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    settings = msgspec.structs.replace(
        fast_settings, rate_limit_per_minute=PER_TOKEN, rate_limit_per_address_per_minute=PER_ADDRESS
    )
    with TestClient(app=create_app(settings)) as client:
        yield client


def assert_rate_limited(response) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 429, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "rate_limited"
    assert int(response.headers["retry-after"]) >= 1


def test_a_token_past_its_limit_gets_429_with_retry_after(
    limited: TestClient, engine: Engine, fast_settings: Settings
) -> None:
    make_user(engine, fast_settings, "busy")
    headers = {"Authorization": f"Bearer {sign_in(limited, 'busy')['access_token']}"}
    for _ in range(PER_TOKEN):
        assert limited.get("/api/v1/auth/me", headers=headers).status_code == 200
    assert_rate_limited(limited.get("/api/v1/auth/me", headers=headers))


def test_an_address_without_a_valid_token_is_limited_even_when_it_rotates_made_up_tokens(
    limited: TestClient,
) -> None:
    for i in range(PER_ADDRESS):
        assert limited.get("/api/v1/runs", headers={"Authorization": f"Bearer made-up-{i}"}).status_code == 401
    assert_rate_limited(limited.get("/api/v1/runs", headers={"Authorization": "Bearer made-up-again"}))
    assert_rate_limited(limited.post("/api/v1/auth/login", json={"username": "a", "password": "b"}))


def test_probes_and_metrics_are_never_limited(limited: TestClient) -> None:
    for _ in range(PER_ADDRESS * 3):
        for path in ("/healthz", "/readyz", "/metrics"):
            assert limited.get(path).status_code == 200, path


def test_the_consoles_pages_and_files_are_never_limited_and_the_api_still_is(limited: TestClient) -> None:
    # One page load fetches some 50 assets: counted, two browsers' page loads a minute from one address used up
    # the limit and a 429 on a script left the page blank (two Playwright workers at once saw that).
    for _ in range(PER_ADDRESS * 3):
        for path in ("/", "/sign-in", "/runs/abc", "/favicon.svg", "/assets/index-abc123.js"):
            assert limited.get(path).status_code != 429, path  # 200, or 503/404 where no console is built
    for i in range(PER_ADDRESS):
        assert limited.get("/api/v1/runs", headers={"Authorization": f"Bearer made-up-{i}"}).status_code == 401
    assert_rate_limited(limited.post("/api/v1/auth/login", json={"username": "a", "password": "b"}))


def test_zero_switches_the_limit_off(fast_settings: Settings, redis_client) -> None:  # type: ignore[no-untyped-def]
    settings = msgspec.structs.replace(fast_settings, rate_limit_per_minute=0, rate_limit_per_address_per_minute=0)
    with TestClient(app=create_app(settings)) as client:
        for _ in range(50):
            assert client.get("/api/v1/runs").status_code == 401


def test_without_redis_the_limit_lets_requests_through(fast_settings: Settings) -> None:
    settings = msgspec.structs.replace(
        fast_settings, redis_url="redis://127.0.0.1:1/0", rate_limit_per_address_per_minute=1
    )
    with TestClient(app=create_app(settings)) as client:
        for _ in range(3):
            assert client.get("/api/docs/openapi.json").status_code == 200


def test_head_counts_against_the_limit_like_get(limited: TestClient, engine: Engine, fast_settings: Settings) -> None:
    make_user(engine, fast_settings, "peeker")
    headers = {"Authorization": f"Bearer {sign_in(limited, 'peeker')['access_token']}"}
    for _ in range(PER_TOKEN):
        assert limited.head("/api/v1/auth/me", headers=headers).status_code == 200
    refused = limited.head("/api/v1/auth/me", headers=headers)
    assert (refused.status_code, refused.content) == (429, b"")
    assert int(refused.headers["retry-after"]) >= 1
