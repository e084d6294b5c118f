"""Signing in and out, refresh rotation, passwords, API tokens, registration, throttling."""

from __future__ import annotations

import msgspec
import pytest
from litestar.testing import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from app.api.app import create_app
from app.settings import Settings
from tests.integration.conftest import ADMIN_PASSWORD, make_user, sign_in


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_sign_in_me_and_sign_out(anonymous: TestClient, engine: Engine, fast_settings: Settings) -> None:
    make_user(engine, fast_settings, "ada")
    tokens = sign_in(anonymous, "ada")
    assert tokens["token_type"] == "bearer"
    assert tokens["expires_in"] == fast_settings.access_token_minutes * 60
    me = anonymous.get("/api/v1/auth/me", headers=bearer(tokens["access_token"]))
    assert me.status_code == 200
    assert me.json()["user"]["username"] == "ada"
    assert anonymous.post("/api/v1/auth/logout", headers=bearer(tokens["access_token"])).status_code == 204
    after = anonymous.get("/api/v1/auth/me", headers=bearer(tokens["access_token"]))
    assert after.status_code == 401
    assert after.json()["code"] == "invalid_token"
    assert anonymous.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}).status_code == 401


def test_wrong_password_and_unknown_user_look_the_same(
    anonymous: TestClient, engine: Engine, fast_settings: Settings
) -> None:
    make_user(engine, fast_settings, "bob")
    wrong = anonymous.post("/api/v1/auth/login", json={"username": "bob", "password": "nope nope nope"})
    unknown = anonymous.post("/api/v1/auth/login", json={"username": "nobody", "password": "nope nope nope"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["code"] == unknown.json()["code"] == "invalid_credentials"
    assert wrong.json()["detail"] == unknown.json()["detail"]


def test_a_refresh_token_rotates_and_its_reuse_revokes_the_family(
    anonymous: TestClient, engine: Engine, fast_settings: Settings
) -> None:
    make_user(engine, fast_settings, "cy")
    first = sign_in(anonymous, "cy")
    second = anonymous.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]}).json()
    assert second["refresh_token"] != first["refresh_token"]
    assert anonymous.get("/api/v1/auth/me", headers=bearer(first["access_token"])).status_code == 401
    assert anonymous.get("/api/v1/auth/me", headers=bearer(second["access_token"])).status_code == 200
    reused = anonymous.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert reused.status_code == 401
    assert reused.json()["code"] == "refresh_token_reused"
    # the thief's reuse also ends the legitimate session
    assert anonymous.get("/api/v1/auth/me", headers=bearer(second["access_token"])).status_code == 401
    assert anonymous.post("/api/v1/auth/refresh", json={"refresh_token": second["refresh_token"]}).status_code == 401


def test_password_reset_flow(
    client: TestClient, anonymous: TestClient, engine: Engine, fast_settings: Settings
) -> None:
    user_id = make_user(engine, fast_settings, "dee")
    old = sign_in(anonymous, "dee")
    temporary = client.post(f"/api/v1/users/{user_id}/reset-password").json()["temporary_password"]
    assert anonymous.get("/api/v1/auth/me", headers=bearer(old["access_token"])).status_code == 401
    assert anonymous.post("/api/v1/auth/login", json={"username": "dee", "password": ADMIN_PASSWORD}).status_code == 401
    session = anonymous.post("/api/v1/auth/login", json={"username": "dee", "password": temporary}).json()
    blocked = anonymous.get("/api/v1/runs", headers=bearer(session["access_token"]))
    assert blocked.status_code == 403
    assert blocked.json()["code"] == "password_change_required"
    assert (
        anonymous.get("/api/v1/auth/me", headers=bearer(session["access_token"])).json()["user"]["must_change_password"]
        is True
    )
    weak = anonymous.post(
        "/api/v1/auth/password",
        headers=bearer(session["access_token"]),
        json={"current_password": temporary, "new_password": "password123"},
    )
    assert weak.status_code == 422
    assert weak.json()["code"] == "weak_password"
    changed = anonymous.post(
        "/api/v1/auth/password",
        headers=bearer(session["access_token"]),
        json={"current_password": temporary, "new_password": "a brand new passphrase"},
    )
    assert changed.status_code == 204
    assert anonymous.get("/api/v1/runs", headers=bearer(session["access_token"])).status_code == 200
    assert sign_in(anonymous, "dee", "a brand new passphrase")["access_token"]


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("short", "at least"),
        ("qwertyuiop", "common"),
        ("iloveyou123", "common"),
        ("xx-newbie-xx-1", "username"),
        # Not in the leaked-password list, but zxcvbn scores them below 3: repeats, l33t variants of "password".
        ("aaaaaaaaaa", "too easy to guess"),
        ("Password1!", "too easy to guess"),
        ("P@ssw0rd123", "too easy to guess"),
    ],
)
def test_weak_passwords_are_refused(client: TestClient, password: str, reason: str) -> None:
    response = client.post("/api/v1/users", json={"username": "newbie", "password": password})
    assert response.status_code == 422
    assert response.json()["code"] == "weak_password"
    assert reason in response.json()["errors"][0]["message"]


def test_disabling_an_account_stops_its_tokens_at_once(
    client: TestClient, anonymous: TestClient, engine: Engine, fast_settings: Settings
) -> None:
    user_id = make_user(engine, fast_settings, "eve")
    tokens = sign_in(anonymous, "eve")
    assert client.post(f"/api/v1/users/{user_id}/disable").json()["is_disabled"] is True
    assert anonymous.get("/api/v1/auth/me", headers=bearer(tokens["access_token"])).status_code == 401
    assert anonymous.post("/api/v1/auth/login", json={"username": "eve", "password": ADMIN_PASSWORD}).status_code == 401
    client.post(f"/api/v1/users/{user_id}/enable")
    assert sign_in(anonymous, "eve")["access_token"]


def test_argon2_parameters_changed_means_rehash_at_next_login(
    anonymous: TestClient, engine: Engine, fast_settings: Settings, redis_client
) -> None:  # type: ignore[no-untyped-def]
    make_user(engine, fast_settings, "fay")
    with engine.connect() as connection:
        before = connection.execute(text("SELECT password_hash FROM users WHERE username = 'fay'")).scalar_one()
    stronger = msgspec.structs.replace(fast_settings, argon2_time_cost=2)
    with TestClient(app=create_app(stronger)) as other:
        sign_in(other, "fay")
    with engine.connect() as connection:
        after = connection.execute(text("SELECT password_hash FROM users WHERE username = 'fay'")).scalar_one()
    assert "t=1" in before
    assert "t=2" in after


def test_api_token_lifecycle(
    client: TestClient, anonymous: TestClient, engine: Engine, fast_settings: Settings, pipeline: dict
) -> None:
    user_id = make_user(engine, fast_settings, "batch")
    client.put(f"/api/v1/namespaces/default/members/{user_id}", json={"role": "operator"})
    session = sign_in(anonymous, "batch")
    too_high = anonymous.post(
        "/api/v1/tokens",
        headers=bearer(session["access_token"]),
        json={"name": "nightly", "namespace": "default", "role": "admin"},
    )
    assert too_high.status_code == 403
    assert too_high.json()["code"] == "role_above_own"
    created = anonymous.post(
        "/api/v1/tokens",
        headers=bearer(session["access_token"]),
        json={"name": "nightly", "namespace": "default", "role": "operator", "expires_in_days": 30},
    )
    assert created.status_code == 201
    token = created.json()["token"]
    assert token.startswith("cvt_")
    run = anonymous.post("/api/v1/runs", headers=bearer(token), json={"pipeline": "noop"})
    assert run.status_code == 201
    listed = anonymous.get("/api/v1/tokens", headers=bearer(session["access_token"])).json()["items"]
    assert [t["name"] for t in listed] == ["nightly"]
    assert "token" not in listed[0]
    with engine.connect() as connection:
        stored = connection.execute(text("SELECT token_hash FROM auth_tokens WHERE kind = 'api'")).scalar_one()
    assert token not in stored
    revoked = anonymous.delete(f"/api/v1/tokens/{created.json()['id']}", headers=bearer(session["access_token"]))
    assert revoked.status_code == 204
    assert anonymous.post("/api/v1/runs", headers=bearer(token), json={"pipeline": "noop"}).status_code == 401


def test_an_api_token_is_capped_by_its_role_ceiling(client: TestClient, anonymous: TestClient, pipeline: dict) -> None:
    token = client.post("/api/v1/tokens", json={"name": "ro", "namespace": "default", "role": "viewer"}).json()
    assert anonymous.get("/api/v1/runs", headers=bearer(token["token"])).status_code == 200
    submit = anonymous.post("/api/v1/runs", headers=bearer(token["token"]), json={"pipeline": "noop"})
    assert submit.status_code == 403


def test_registration_modes(engine: Engine, fast_settings: Settings, redis_client, client: TestClient) -> None:  # type: ignore[no-untyped-def]
    body = {"username": "newcomer", "password": "a fine long passphrase"}
    closed = client.post("/api/v1/auth/register", json=body)
    assert closed.status_code == 403
    assert closed.json()["code"] == "registration_closed"
    with TestClient(app=create_app(msgspec.structs.replace(fast_settings, registration="open"))) as open_app:
        assert open_app.post("/api/v1/auth/register", json=body).status_code == 201
        assert open_app.post("/api/v1/auth/register", json=body).json()["code"] == "username_taken"
    invite = client.post("/api/v1/invites", json={"namespace": "default", "role": "operator"}).json()["token"]
    with TestClient(app=create_app(msgspec.structs.replace(fast_settings, registration="invite"))) as invite_app:
        assert invite_app.post("/api/v1/auth/register", json={**body, "username": "x1"}).status_code == 403
        ok = invite_app.post("/api/v1/auth/register", json={**body, "username": "x2", "invite": invite})
        assert ok.status_code == 201
        again = invite_app.post("/api/v1/auth/register", json={**body, "username": "x3", "invite": invite})
        assert again.json()["code"] == "invalid_invite"
        me = invite_app.get(
            "/api/v1/auth/me", headers=bearer(sign_in(invite_app, "x2", "a fine long passphrase")["access_token"])
        )
        assert me.json()["roles"] == [
            {
                "namespace_id": me.json()["roles"][0]["namespace_id"],
                "namespace": "default",
                "role": "operator",
                "permissions": ["runs:read", "runs:operate", "pipelines:read", "datasets:read", "namespaces:read"],
            }
        ]


def test_failed_logins_lock_the_account_with_retry_after(
    anonymous: TestClient, engine: Engine, fast_settings: Settings
) -> None:
    make_user(engine, fast_settings, "gus")
    for _ in range(fast_settings.login_max_failures):
        assert (
            anonymous.post("/api/v1/auth/login", json={"username": "gus", "password": "bad bad bad"}).status_code == 401
        )
    locked = anonymous.post("/api/v1/auth/login", json={"username": "gus", "password": ADMIN_PASSWORD})
    assert locked.status_code == 429
    assert locked.json()["code"] == "login_locked"
    assert 1 <= int(locked.headers["retry-after"]) <= fast_settings.login_lock_seconds
    with engine.connect() as connection:
        outcomes = connection.execute(
            text(
                "SELECT outcome, count(*) FROM audit_log WHERE action = 'auth.login' AND details->>'username' = 'gus' "
                "GROUP BY outcome"
            )
        ).all()
    assert dict(outcomes) == {"failure": fast_settings.login_max_failures, "denied": 1}


def test_security_headers_and_cors(engine: Engine, fast_settings: Settings, redis_client) -> None:  # type: ignore[no-untyped-def]
    spa = "https://app.example.com"
    with TestClient(app=create_app(msgspec.structs.replace(fast_settings, cors_origins=spa))) as api:
        response = api.get("/healthz")
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert "default-src 'none'" in response.headers["content-security-policy"]
        preflight = api.options(
            "/api/v1/runs",
            headers={
                "Origin": spa,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization,content-type",
            },
        )
        assert preflight.headers["access-control-allow-origin"] == spa
        other = api.get("/healthz", headers={"Origin": "https://evil.example.com"})
        assert "access-control-allow-origin" not in other.headers


def test_openapi_shows_the_bearer_scheme_and_each_permission(client: TestClient) -> None:
    document = client.get("/api/docs/openapi.json").json()
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    submit = document["paths"]["/api/v1/runs"]["post"]
    assert submit["security"] == [{"bearer": []}]
    assert "runs:operate" in submit["description"]
    assert "security" not in document["paths"]["/api/v1/auth/login"]["post"]


def test_cli_creates_an_account(engine: Engine, settings: Settings) -> None:
    import os
    import subprocess
    import sys

    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": settings.redis_url,
        "CONVEYOR_ARGON2_MEMORY_KIB": "1024",
        "CONVEYOR_ARGON2_TIME_COST": "1",
    }
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "app",
            "users",
            "create",
            "--username",
            "cli-user",
            "--namespace",
            "default",
            "--role",
            "editor",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "password (shown once):" in done.stdout
    with Session(engine) as session:
        role = session.execute(
            text(
                "SELECT m.role FROM namespace_members m JOIN users u ON u.id = m.user_id WHERE u.username = 'cli-user'"
            )
        ).scalar_one()
    assert role == "editor"
