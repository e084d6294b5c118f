"""The API behind the console's settings pages: password rules, invites, members by name, audit export limit."""

from __future__ import annotations

import json

import msgspec
from litestar.testing import TestClient
from sqlalchemy import Engine

from app.api.app import create_app
from app.settings import Settings
from tests.integration.conftest import make_user


def test_password_rules_are_the_ones_the_password_change_enforces(
    anonymous: TestClient, fast_settings: Settings
) -> None:
    rules = anonymous.get("/api/v1/auth/password-rules")
    assert rules.status_code == 200, rules.text
    body = rules.json()
    assert body["min_length"] == fast_settings.password_min_length
    assert (body["max_length"], body["not_common"], body["not_username"], body["min_score"]) == (1024, True, True, 3)


def test_an_invite_is_listed_without_its_token_and_a_revoked_one_cannot_be_redeemed(
    client: TestClient, fast_settings: Settings
) -> None:
    created = client.post(
        "/api/v1/invites", json={"email": "new@example.org", "namespace": "default", "role": "editor"}
    )
    assert created.status_code == 201, created.text
    invite_id, token = created.json()["id"], created.json()["token"]

    [listed] = [i for i in client.get("/api/v1/invites").json()["items"] if i["id"] == invite_id]
    assert listed["revoked_at"] is None
    assert (listed["state"], listed["namespace"], listed["role"], listed["email"]) == (
        "pending",
        "default",
        "editor",
        "new@example.org",
    )
    assert token not in json.dumps(listed)

    assert client.delete(f"/api/v1/invites/{invite_id}").status_code == 204
    [revoked] = [i for i in client.get("/api/v1/invites").json()["items"] if i["id"] == invite_id]
    assert revoked["state"] == "revoked"  # not "expired": the list tells a revoked invite from one that ran out
    assert revoked["revoked_at"] is not None
    body = {"username": "latecomer", "password": "a long enough passphrase 42", "invite": token}
    with TestClient(app=create_app(msgspec.structs.replace(fast_settings, registration="invite"))) as invite_app:
        redeemed = invite_app.post("/api/v1/auth/register", json=body)
    assert (redeemed.status_code, redeemed.json()["code"]) == (403, "invalid_invite")
    assert client.delete("/api/v1/invites/00000000-0000-0000-0000-000000000000").json()["code"] == "invite_not_found"


def test_a_member_is_added_by_username_and_the_change_is_audited(
    client: TestClient, engine: Engine, fast_settings: Settings
) -> None:
    user_id = make_user(engine, fast_settings, "Alice")
    added = client.post("/api/v1/namespaces/default/members", json={"username": "alice", "role": "operator"})
    assert added.status_code == 200, added.text
    assert (added.json()["user_id"], added.json()["role"]) == (user_id, "operator")
    members = client.get("/api/v1/namespaces/default/members").json()["items"]
    assert {"username": "Alice", "role": "operator"}.items() <= next(
        m for m in members if m["user_id"] == user_id
    ).items()
    [entry] = client.get("/api/v1/audit", params={"action": "members.set", "resource_id": user_id}).json()["items"]
    assert entry["details"] == {"before": {"role": None}, "after": {"role": "operator"}}

    missing = client.post("/api/v1/namespaces/default/members", json={"username": "nobody", "role": "viewer"})
    assert (missing.status_code, missing.json()["code"]) == (404, "user_not_found")
    bad_role = client.post("/api/v1/namespaces/default/members", json={"username": "alice", "role": "owner"})
    assert (bad_role.status_code, bad_role.json()["code"]) == (422, "invalid_role")
    changed = client.put(f"/api/v1/namespaces/default/members/{user_id}", json={"role": "owner"})
    assert (changed.status_code, changed.json()["code"]) == (422, "invalid_role")
    assert [e["field"] for e in changed.json()["errors"]] == ["role"]


def test_the_audit_export_stops_at_limit_newest_first(client: TestClient) -> None:
    for n in range(3):
        assert client.post("/api/v1/namespaces", json={"name": f"limited{n}"}).status_code == 201
    exported = client.get(
        "/api/v1/audit/export", params={"format": "ndjson", "action": "namespaces.create", "limit": "2"}
    )
    assert exported.status_code == 200
    rows = [json.loads(line) for line in exported.text.splitlines()]
    assert [r["details"]["name"] for r in rows] == ["limited2", "limited1"]
    assert client.get("/api/v1/audit/export", params={"limit": "0"}).status_code == 400
