"""NUL characters and lone surrogates are refused with 422 naming the field, on every way into the API."""

from __future__ import annotations

import pytest
from litestar.testing import TestClient

NUL = "a\u0000b"
ANY_ID = "0190f5e2-0000-7000-8000-000000000000"  # fixed: test ids must be the same in every xdist worker

#: (method, path, JSON body or None, the field the answer names)
CASES = [
    ("POST", "/api/v1/auth/login", {"username": NUL, "password": "x"}, "username"),
    ("GET", "/api/v1/runs?pipeline=%00", None, "pipeline"),
    ("GET", "/api/v1/datasets?search=a%00", None, "search"),
    ("GET", "/api/v1/users?search=%00", None, "search"),
    ("GET", "/api/v1/deployments?search=%00", None, "search"),
    ("GET", "/api/v1/pipelines?search=%00", None, "search"),
    ("GET", "/api/v1/webhooks?search=%00", None, "search"),
    ("GET", "/api/v1/runs?search=%00", None, "search"),
    ("GET", "/api/v1/tokens?search=%00", None, "search"),
    ("GET", "/api/v1/uploads?search=%00", None, "search"),
    ("GET", "/api/v1/audit?resource_id=%00", None, "resource_id"),
    ("GET", "/api/v1/audit/export?action=%00", None, "action"),
    ("GET", "/api/v1/pipelines/a%00b", None, "pipeline_ref"),
    ("GET", "/api/v1/runs?pipeline=%ff", None, "pipeline"),
    ("GET", "/api/v1/pipelines/%FF", None, "pipeline_ref"),  # were U+FFFD and 404, unlike the same in a query
    ("GET", "/api/v1/pipelines/a%ED%A0%80b/versions", None, "pipeline_ref"),
    ("GET", "/api/v1/namespaces/%C3/members", None, "namespace"),
    ("POST", "/api/v1/runs", {"pipeline": NUL}, "pipeline"),
    ("POST", "/api/v1/tokens", {"name": NUL, "namespace": "default", "role": "viewer"}, "name"),
    ("PATCH", "/api/v1/auth/me", {"display_name": NUL}, "display_name"),
    ("PATCH", f"/api/v1/datasets/{ANY_ID}", {"description": NUL}, "description"),
    (
        "POST",
        "/api/v1/pipelines",
        {"name": "nul", "spec": {"steps": [{"type": "log", "message": NUL}]}},
        "spec.steps[0].message",
    ),
    ("POST", "/api/v1/runs", {"pipeline": "noop", "params": {NUL: 1}}, "params"),
]


@pytest.mark.parametrize(("method", "path", "body", "field"), CASES, ids=[f"{c[0]} {c[1]} {c[3]}" for c in CASES])
def test_nul_is_refused_naming_the_field(
    client: TestClient, method: str, path: str, body: dict | None, field: str
) -> None:
    response = client.request(method, path, json=body)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["code"] == "invalid_character"
    assert [e["field"] for e in problem["errors"]] == [field]


def test_a_lone_surrogate_in_json_is_refused_naming_the_field(client: TestClient) -> None:
    response = client.post(
        "/api/v1/runs", content=b'{"pipeline": "x\\ud800y"}', headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "invalid_character"
    assert [e["field"] for e in response.json()["errors"]] == ["pipeline"]


def test_text_that_only_looks_like_an_escape_is_kept(client: TestClient, pipeline: dict) -> None:
    response = client.patch("/api/v1/auth/me", json={"display_name": "back\\u0000slash"})
    assert response.status_code == 200, response.text
    assert response.json()["display_name"] == "back\\u0000slash"


def test_text_read_outside_json_still_gets_a_422_not_a_500(client: TestClient) -> None:
    """A multipart form field is not JSON: the driver's refusal is mapped to the same answer."""
    response = client.post(
        "/api/v1/datasets", files={"file": ("s.csv", b"a,b\n1,2\n", "text/csv")}, data={"description": NUL}
    )
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "invalid_character"
    assert client.get("/api/v1/datasets").json()["items"] == []


@pytest.mark.parametrize("content_type", ["text/plain", None])
def test_a_json_body_sent_as_another_type_is_refused_before_it_is_read(
    client: TestClient, content_type: str | None
) -> None:
    """Litestar decoded the body as JSON whatever its type and the NUL reached JSONB (500); now it is never read."""
    body = b'{"name": "nul", "spec": {"steps": [{"type": "log", "message": "a\\u0000b"}]}}'
    response = client.post("/api/v1/pipelines", content=body, headers={"Content-Type": content_type or ""})
    assert response.status_code == 415, response.text
    assert response.json()["code"] == "unsupported_media_type"
    assert client.get("/api/v1/pipelines/nul").status_code == 404
