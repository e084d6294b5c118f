"""PATCH /deployments/{id} checks every field as create does, and `null` resets the fields that may be unset."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import TestClient

CREATE = {
    "name": "patched",
    "pipeline": "noop",
    "schedule": {"kind": "cron", "cron": "*/5 * * * *"},
    "pipeline_version": 1,
    "start_at": "2030-01-01T00:00:00Z",
    "end_at": "2031-01-01T00:00:00Z",
    "dst_policy": {"nonexistent": "skip", "ambiguous": "both"},
    "max_retries": 3,
    "retry_backoff_seconds": 2.0,
    "retry_backoff_max_seconds": 60.0,
    "retry_jitter": 0.5,
    "timeout_seconds": 600,
}


@pytest.fixture
def deployment(client: TestClient, pipeline: dict) -> dict:
    response = client.post("/api/v1/deployments", json=CREATE)
    assert response.status_code == 201, response.text
    return response.json()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("timeout_seconds", -5),
        ("timeout_seconds", 0),
        ("timeout_seconds", 2**31),
        ("max_retries", -1),
        ("max_retries", 101),
        ("max_catch_up", 0),
        ("max_catch_up", 10_001),
        ("max_catch_up", None),
        ("misfire_grace_seconds", -1),
        ("misfire_grace_seconds", 604_801),
        ("max_concurrent_runs", 0),
        ("max_concurrent_runs", 1001),
        ("retry_backoff_seconds", -1),
        ("retry_backoff_seconds", 86_401),
        ("retry_backoff_max_seconds", -0.5),
        ("retry_jitter", 1.5),
        ("misfire_policy", "sometimes"),
        ("misfire_policy", None),
        ("overlap_policy", "queue"),
        ("description", "x" * 2001),
        ("description", None),
        ("params", None),
        ("pipeline_version", 0),
        ("schedule", None),
        ("schedule", {"kind": "interval", "seconds": 60, "every": 2}),
        ("dst_policy", {"nonexistent": "later"}),
        ("dst_policy", {"ambiguous": "middle"}),
        ("end_at", "2029-01-01T00:00:00Z"),
        ("schedule", {"kind": "cron", "cron": "61 * * * *"}),
        ("schedule", {"kind": "cron", "cron": "0 0 30 2 *"}),
        ("schedule", {"kind": "interval", "seconds": 0}),
        ("schedule", {"kind": "once", "at": "2001-01-01T00:00:00Z"}),
    ],
)
def test_a_bad_value_is_422_naming_the_field_and_changes_nothing(
    client: TestClient, deployment: dict, field: str, value: Any
) -> None:
    response = client.patch(f"/api/v1/deployments/{deployment['id']}", json={field: value})
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["errors"][0]["field"].startswith(field)
    after = client.get(f"/api/v1/deployments/{deployment['id']}").json()
    assert {k: after[k] for k in CREATE if k not in ("pipeline",)} == {
        k: deployment[k] for k in CREATE if k not in ("pipeline",)
    }


def test_an_unknown_field_is_422(client: TestClient, deployment: dict) -> None:
    response = client.patch(f"/api/v1/deployments/{deployment['id']}", json={"timeout": 5})
    assert response.status_code == 422
    assert "timeout" in response.json()["errors"][0]["message"]


def test_a_cron_that_never_fires_names_its_code(client: TestClient, deployment: dict) -> None:
    response = client.patch(
        f"/api/v1/deployments/{deployment['id']}", json={"schedule": {"kind": "cron", "cron": "0 0 31 4 *"}}
    )
    assert (response.status_code, response.json()["code"]) == (422, "schedule_never_fires")


@pytest.mark.parametrize(
    ("field", "reset"),
    [
        ("pipeline_version", None),
        ("start_at", None),
        ("end_at", None),
        ("retry_backoff_seconds", None),
        ("retry_backoff_max_seconds", None),
        ("retry_jitter", None),
        ("timeout_seconds", None),
        ("max_retries", 0),  # the instance default, as create gives when it is left out
        ("dst_policy", {"nonexistent": "shift", "ambiguous": "first"}),
    ],
)
def test_null_resets_a_field_that_may_be_unset(client: TestClient, deployment: dict, field: str, reset: Any) -> None:
    response = client.patch(f"/api/v1/deployments/{deployment['id']}", json={field: None})
    assert response.status_code == 200, response.text
    assert client.get(f"/api/v1/deployments/{deployment['id']}").json()[field] == reset


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("timeout_seconds", 1),
        ("max_retries", 0),
        ("max_catch_up", 10_000),
        ("misfire_grace_seconds", 0),
        ("max_concurrent_runs", 1000),
        ("retry_jitter", 1.0),
        ("misfire_policy", "catch_up"),
        ("overlap_policy", "buffer_all"),
        ("description", "nightly"),
        ("params", {"who": "ops"}),
        ("dst_policy", {"nonexistent": "shift", "ambiguous": "last"}),
    ],
)
def test_a_good_value_is_kept(client: TestClient, deployment: dict, field: str, value: Any) -> None:
    response = client.patch(f"/api/v1/deployments/{deployment['id']}", json={field: value})
    assert response.status_code == 200, response.text
    assert client.get(f"/api/v1/deployments/{deployment['id']}").json()[field] == value


def test_cron_last_weekday_and_nth_weekday_are_accepted_and_previewed(client: TestClient, deployment: dict) -> None:
    draft = {"name": "third-friday", "pipeline": "noop", "schedule": {"kind": "cron", "cron": "0 9 * * FRI#3"}}
    times = client.post("/api/v1/deployments/validate", params={"n": 3}, json=draft).json()["fire_times"]
    assert len(times) == 3
    assert all(15 <= int(t[8:10]) <= 21 for t in times)  # the third Friday falls on the 15th to the 21st
    response = client.patch(
        f"/api/v1/deployments/{deployment['id']}", json={"schedule": {"kind": "cron", "cron": "0 9 LW * *"}}
    )
    assert response.status_code == 200, response.text


def test_validate_refuses_a_cron_that_never_fires(client: TestClient, pipeline: dict) -> None:
    draft = {"name": "never", "pipeline": "noop", "schedule": {"kind": "cron", "cron": "0 0 31 4,6,9,11 *"}}
    response = client.post("/api/v1/deployments/validate", json=draft)
    assert (response.status_code, response.json()["code"]) == (422, "schedule_never_fires")


def test_an_error_echoes_a_bounded_part_of_the_input(client: TestClient, pipeline: dict) -> None:
    """100,000 unknown dst_policy keys answered a 2 MB 422; a 500 KB time zone was echoed whole."""
    keys = {f"k{i:06d}": "x" for i in range(100_000)}
    many = client.post("/api/v1/deployments", json={**CREATE, "dst_policy": keys})
    assert many.status_code == 422, many.text[:300]
    assert len(many.content) < 8_000
    assert "k000000" in many.json()["detail"]
    assert "more characters)" in many.json()["detail"]
    assert "more characters)" in many.json()["errors"][0]["message"]
    zone = "Z" * 500_000
    huge = client.post("/api/v1/deployments", json={**CREATE, "schedule": {**CREATE["schedule"], "timezone": zone}})
    assert (huge.status_code, huge.json()["code"]) == (422, "unknown_timezone")
    assert len(huge.content) < 8_000
