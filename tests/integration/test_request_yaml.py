"""YAML request bodies: parsed only after the caller is authenticated, and never expanded from aliases."""

from __future__ import annotations

import uuid

import pytest
from litestar.testing import TestClient

YAML = {"Content-Type": "application/yaml"}

#: 407 bytes that a YAML loader turns into 10^9 strings when it expands the aliases ("billion laughs").
BILLION_LAUGHS = b"""name: laughs
spec:
  steps: []
  description: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]
  b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]
  c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]
  d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]
  e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]
  f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]
  g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f,*f]
  h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g,*g]
  i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""


@pytest.mark.timeout(60)
@pytest.mark.parametrize("route", ["/api/v1/pipelines", "/api/v1/pipelines/validate"])
def test_an_alias_bomb_is_refused_before_it_expands(client: TestClient, route: str) -> None:
    response = client.post(route, content=BILLION_LAUGHS, headers=YAML)
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "invalid_yaml"
    assert "aliases" in response.json()["errors"][0]["message"]


def test_deep_nesting_is_invalid_yaml_not_a_crash(client: TestClient) -> None:
    response = client.post("/api/v1/pipelines", content=b"name: x\nspec: " + b"[" * 5000, headers=YAML)
    assert (response.status_code, response.json()["code"]) == (422, "invalid_yaml")


def test_an_anonymous_yaml_body_is_not_parsed(anonymous: TestClient) -> None:
    """The guard answers first: the body (here not even YAML) is never read."""
    response = anonymous.post("/api/v1/pipelines", content=b"name: [", headers=YAML)
    assert (response.status_code, response.json()["code"]) == (401, "unauthorized")


def test_plain_yaml_still_creates_and_changes_a_pipeline(client: TestClient) -> None:
    name = f"y-{uuid.uuid4().hex[:8]}"
    body = f"name: {name}\nspec:\n  steps: []\n".encode()
    created = client.post("/api/v1/pipelines", content=body, headers=YAML)
    assert created.status_code == 201, created.text
    changed = client.put(f"/api/v1/pipelines/{name}", content=b"spec: {steps: []}\nmessage: again\n", headers=YAML)
    assert (changed.status_code, changed.json()["version"]) == (200, 2)
