"""A value that matches its pattern but for a trailing newline is refused (422), never stored nor a 500."""

from __future__ import annotations

import pytest
from litestar.testing import TestClient

#: (path, body): each answered 201 with the newline stored, or 500 where a role was parsed.
CASES = [
    ("/api/v1/namespaces", {"name": "ns\n"}),
    ("/api/v1/pipelines", {"name": "p\n", "spec": {"steps": []}}),
    ("/api/v1/deployments", {"name": "d\n", "pipeline": "noop", "schedule": {"kind": "interval", "seconds": 60}}),
    ("/api/v1/users", {"username": "bob\n", "password": "correct horse battery staple"}),
    ("/api/v1/tokens", {"name": "t", "namespace": "default", "role": "viewer\n"}),
    ("/api/v1/invites", {"namespace": "default", "role": "viewer\n"}),
    ("/api/v1/uploads", {"filename": "a.csv", "size": 10, "sha256": "a" * 64 + "\n"}),
]


@pytest.mark.parametrize(("path", "body"), CASES, ids=[path for path, _ in CASES])
def test_a_trailing_newline_is_refused(client: TestClient, pipeline: dict, path: str, body: dict) -> None:
    response = client.post(path, json=body)
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "validation_failed"
