"""The console's session: a refresh token kept in an httpOnly cookie, and permissions in GET /auth/me."""

from __future__ import annotations

from litestar.testing import TestClient
from sqlalchemy import Engine

from app.api.refresh_cookie import REFRESH_COOKIE, REFRESH_PATH
from app.settings import Settings
from tests.integration.conftest import ADMIN_PASSWORD, make_user


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def cookie_sign_in(client: TestClient, username: str) -> tuple[dict, str]:
    response = client.post(
        "/api/v1/auth/login", json={"username": username, "password": ADMIN_PASSWORD, "refresh_cookie": True}
    )
    assert response.status_code == 200, response.text
    return response.json(), response.headers["set-cookie"]


def test_the_console_gets_its_refresh_token_only_as_a_strict_http_only_cookie(
    anonymous: TestClient, engine: Engine, fast_settings: Settings
) -> None:
    make_user(engine, fast_settings, "ada")
    body, set_cookie = cookie_sign_in(anonymous, "ada")
    assert body["refresh_token"] is None
    assert anonymous.get("/api/v1/auth/me", headers=bearer(body["access_token"])).status_code == 200
    attributes = [part.strip().lower() for part in set_cookie.split(";")]
    assert f"path={REFRESH_PATH}".lower() in attributes
    assert "httponly" in attributes
    assert "samesite=strict" in attributes
    first_cookie = anonymous.cookies[REFRESH_COOKIE]

    renewed = anonymous.post("/api/v1/auth/refresh", json={})
    assert renewed.status_code == 200, renewed.text
    assert renewed.json()["refresh_token"] is None
    assert anonymous.cookies[REFRESH_COOKIE] != first_cookie  # rotated
    assert anonymous.get("/api/v1/auth/me", headers=bearer(renewed.json()["access_token"])).status_code == 200
    assert anonymous.get("/api/v1/auth/me", headers=bearer(body["access_token"])).status_code == 401

    # the old cookie, replayed, is a reuse: the whole sign-in is revoked
    anonymous.cookies.clear()
    anonymous.cookies.set(REFRESH_COOKIE, first_cookie, path=REFRESH_PATH)
    replay = anonymous.post("/api/v1/auth/refresh", json={})
    assert replay.status_code == 401
    assert replay.json()["code"] == "refresh_token_reused"
    assert anonymous.get("/api/v1/auth/me", headers=bearer(renewed.json()["access_token"])).status_code == 401


def test_signing_out_forgets_the_cookie_and_the_json_flow_is_unchanged(
    anonymous: TestClient, engine: Engine, fast_settings: Settings
) -> None:
    make_user(engine, fast_settings, "bo")
    body, _ = cookie_sign_in(anonymous, "bo")
    out = anonymous.post("/api/v1/auth/logout", headers=bearer(body["access_token"]))
    assert out.status_code == 204
    assert "max-age=0" in out.headers["set-cookie"].lower()
    assert REFRESH_COOKIE not in anonymous.cookies
    missing = anonymous.post("/api/v1/auth/refresh", json={})
    assert missing.status_code == 401
    assert missing.json()["code"] == "invalid_refresh_token"

    plain = anonymous.post("/api/v1/auth/login", json={"username": "bo", "password": ADMIN_PASSWORD})
    assert plain.json()["refresh_token"]
    assert "set-cookie" not in plain.headers
    swapped = anonymous.post("/api/v1/auth/refresh", json={"refresh_token": plain.json()["refresh_token"]})
    assert swapped.status_code == 200
    assert swapped.json()["refresh_token"]


def test_me_lists_what_each_role_may_do(anonymous: TestClient, engine: Engine, fast_settings: Settings) -> None:
    make_user(engine, fast_settings, "root", superuser=True)
    viewer_id = make_user(engine, fast_settings, "vic")
    root, _ = cookie_sign_in(anonymous, "root")
    added = anonymous.put(
        f"/api/v1/namespaces/default/members/{viewer_id}", json={"role": "viewer"}, headers=bearer(root["access_token"])
    )
    assert added.status_code in (200, 201), added.text

    me = anonymous.get("/api/v1/auth/me", headers=bearer(root["access_token"])).json()
    assert me["user"]["is_superuser"] is True
    assert {"self", "users:manage", "namespaces:manage"} <= set(me["permissions"])

    vic, _ = cookie_sign_in(anonymous, "vic")
    me = anonymous.get("/api/v1/auth/me", headers=bearer(vic["access_token"])).json()
    assert me["permissions"] == ["self"]
    (role,) = me["roles"]
    assert role["namespace"] == "default"
    assert role["role"] == "viewer"
    assert "runs:read" in role["permissions"]
    assert "runs:operate" not in role["permissions"]
    assert "pipelines:write" not in role["permissions"]
