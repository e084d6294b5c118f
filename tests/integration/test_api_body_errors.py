"""A body refused for its shape names, in `errors`, the field a form shows the message beside, or `$` for the whole
body: never `data`, the handler's own parameter (found by an outside tester's frontend probes)."""

from __future__ import annotations

import pytest
from litestar.testing import TestClient


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "pipeline"),
        ({"params": {"day": "x"}}, "pipeline"),
        (None, "$"),
        ([], "$"),
    ],
)
def test_a_refused_run_body_names_its_field(client: TestClient, body: object, field: str) -> None:
    response = client.post("/api/v1/runs", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "validation_failed"
    assert [e["field"] for e in response.json()["errors"]] == [field]


def test_a_missing_field_of_a_nested_object_is_named_by_its_path(client: TestClient) -> None:
    response = client.post("/api/v1/deployments", json={"name": "d", "pipeline": "p", "schedule": {"kind": "cron"}})
    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == ["schedule.cron"]


@pytest.mark.parametrize("path", ["/api/v1/runs", "/api/v1/pipelines", "/api/v1/uploads"])
def test_a_request_with_no_body_says_a_body_is_required(client: TestClient, path: str) -> None:
    response = client.post(path)
    assert response.status_code == 422, response.text
    assert response.json()["errors"] == [{"field": "$", "message": "a body is required"}]
