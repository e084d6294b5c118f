"""An invite's email follows the one email rule of accounts (users.Email)."""

from __future__ import annotations

import pytest
from litestar.testing import TestClient


@pytest.mark.parametrize("email", ["x" * 100_000, "a" * 400 + "@example.com", "not an email", "a@b\n"])
def test_an_invite_email_follows_the_account_email_rule(client: TestClient, email: str) -> None:
    """It was any text: past the column's 320 characters a 500 internal_error, shorter any junk was stored."""
    response = client.post("/api/v1/invites", json={"email": email})
    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == ["email"]
    assert client.get("/api/v1/invites").json()["items"] == []


def test_an_invite_keeps_a_valid_email(client: TestClient) -> None:
    assert client.post("/api/v1/invites", json={"email": "ana@example.com"}).status_code == 201
    assert [i["email"] for i in client.get("/api/v1/invites").json()["items"]] == ["ana@example.com"]
