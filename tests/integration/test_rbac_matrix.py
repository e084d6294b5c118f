"""Every route x every kind of caller gets the status the permission table promises.

The test walks the application's own route table: a route without a declared
permission, or one this matrix has no request for, fails it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from litestar.handlers import HTTPRouteHandler
from litestar.testing import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from app.api.app import DOCS_PATH
from app.domain.members import NewNamespace, create_namespace, set_member
from app.domain.permissions import ALLOWED_BEFORE_PASSWORD_CHANGE, PERMISSIONS, Permission, Role, Scope
from app.domain.sessions import _issue
from app.domain.users import NewUser, create_user
from app.settings import Settings
from tests.integration.rbac_routes import ROUTES
from tests.integration.rbac_world import PASSWORD, Multipart, World

UNAUTHENTICATED = ("anonymous", "disabled", "revoked", "expired")


@dataclass
class Caller:
    name: str
    role_in_default: Role | None = None
    role_elsewhere: Role | None = None
    superuser: bool = False
    must_change: bool = False


CALLERS = [
    Caller("anonymous"),
    Caller("viewer", Role.VIEWER),
    Caller("operator", Role.OPERATOR),
    Caller("editor", Role.EDITOR),
    Caller("admin", Role.ADMIN),
    Caller("other_namespace", role_elsewhere=Role.ADMIN),
    Caller("disabled", Role.OPERATOR),
    Caller("revoked", Role.OPERATOR),
    Caller("expired", Role.OPERATOR),
    Caller("must_change", Role.ADMIN, must_change=True),
    Caller("root", superuser=True),
]


def expected(permission: Permission, kind: str, caller: Caller) -> set[str]:
    """The outcomes the permission table allows for this caller."""
    needed = PERMISSIONS[permission]
    if needed is Scope.PUBLIC:
        return {"allowed", "hidden"}
    if caller.name in UNAUTHENTICATED:
        return {"unauthorized"}
    if caller.must_change and permission not in ALLOWED_BEFORE_PASSWORD_CHANGE:
        return {"password_change_required"}
    if needed is Scope.SIGNED_IN:
        return {"allowed", "hidden"}
    if caller.superuser:
        return {"allowed"}
    if needed is Scope.SUPERUSER:
        return {"forbidden"}
    assert isinstance(needed, Role)
    anywhere = max((r for r in (caller.role_in_default, caller.role_elsewhere) if r), default=None)
    if needed > Role.VIEWER and (anywhere is None or anywhere < needed):
        return {"forbidden"}
    if kind == "list":
        return {"allowed"}
    if caller.role_in_default is None:
        return {"hidden"}
    return {"allowed"} if caller.role_in_default >= needed else {"forbidden"}


def send(client: TestClient, method: str, url: str, body: Any, headers: dict[str, str]) -> Any:
    if isinstance(body, Multipart):
        return client.request(method, url, files=body.files, data=body.data, headers=headers)
    return client.request(method, url, json=body, headers=headers)


def outcome(response: Any) -> str:
    code = (
        response.json().get("code", "")
        if response.headers.get("content-type", "").startswith("application/problem+json")
        else ""
    )
    if response.status_code == 401 and code in ("unauthorized", "invalid_token"):
        return "unauthorized"
    if response.status_code == 403 and code == "password_change_required":
        return "password_change_required"
    if response.status_code == 403 and code == "forbidden":
        return "forbidden"
    if response.status_code == 404 or code.endswith("_not_found"):
        return "hidden"
    return "allowed"


@pytest.fixture
def world(client: TestClient, engine: Engine, fast_settings: Settings) -> tuple[World, dict[str, str]]:
    pipeline = client.post("/api/v1/pipelines", json={"name": "noop", "spec": {"steps": []}}).json()
    run = client.post("/api/v1/runs", json={"pipeline": "noop"}).json()
    done = client.post("/api/v1/runs", json={"pipeline": "noop"}).json()
    assert client.post(f"/api/v1/runs/{done['id']}/cancel").json()["status"] == "CANCELLED"
    tokens: dict[str, str] = {}
    with Session(engine) as session, session.begin():
        default = session.execute(text("SELECT id FROM namespaces WHERE name = 'default'")).scalar_one()
        other = create_namespace(session, NewNamespace(name="other")).id
        victim = create_user(session, NewUser(username="victim", password=PASSWORD), fast_settings)
        victim_id = str(victim.id)
        spare_id = str(create_user(session, NewUser(username="spare", password=PASSWORD), fast_settings).id)
        set_member(session, default, victim.id, Role.VIEWER)
        for caller in CALLERS:
            if caller.name == "anonymous":
                continue
            user = create_user(
                session,
                NewUser(username=f"m-{caller.name}", password=PASSWORD, is_superuser=caller.superuser),
                fast_settings,
                must_change_password=caller.must_change,
            )
            if caller.role_in_default:
                set_member(session, default, user.id, caller.role_in_default)
            if caller.role_elsewhere:
                set_member(session, other, user.id, caller.role_elsewhere)
            tokens[caller.name] = str(user.id)
            if caller.name == "disabled":
                user.is_disabled = True
            session.flush()
    deployment = client.post(
        "/api/v1/deployments",
        json={"name": "hourly", "pipeline": "noop", "schedule": {"kind": "cron", "cron": "0 * * * *"}},
    )
    assert deployment.status_code == 201, deployment.text
    dataset = client.post(
        "/api/v1/datasets", files={"file": ("w.csv", b"a,b\n1,2\n", "text/csv")}, data={"name": "world"}
    )
    assert dataset.status_code == 201, dataset.text
    upload = client.post("/api/v1/uploads", json={"filename": "w.csv", "size": 8})
    assert upload.status_code == 201, upload.text
    return World(
        pipeline_id=pipeline["id"],
        run_id=run["id"],
        done_run_id=done["id"],
        victim_id=victim_id,
        spare_id=spare_id,
        deployment_id=deployment.json()["id"],
        dataset_id=dataset.json()["id"],
        upload_id=upload.json()["id"],
        engine=engine,
        settings=fast_settings,
    ), tokens


def fresh_token(engine: Engine, settings: Settings, caller: Caller, user_id: str) -> str:
    """A new session for the caller (a sign-out by an earlier request must not leak into the next)."""
    with Session(engine) as session, session.begin():
        token = _issue(session, uuid.UUID(user_id), uuid.uuid4(), settings).access_token
        if caller.name == "revoked":
            session.execute(text("UPDATE auth_tokens SET revoked_at = now() WHERE user_id = :u"), {"u": user_id})
        if caller.name == "expired":
            session.execute(
                text("UPDATE auth_tokens SET expires_at = now() - interval '1 minute' WHERE user_id = :u"),
                {"u": user_id},
            )
    return token


def _routes(client: TestClient) -> list[tuple[str, str, HTTPRouteHandler]]:
    found = []
    for route in client.app.routes:
        for handler in getattr(route, "route_handlers", []):
            if not isinstance(handler, HTTPRouteHandler) or route.path.startswith(DOCS_PATH):
                continue
            for method in sorted(handler.http_methods - {"OPTIONS", "HEAD"}):
                found.append((method, route.path, handler))
    return found


def test_every_route_declares_a_permission_and_is_in_the_matrix(client: TestClient) -> None:
    routes = _routes(client)
    assert len(routes) >= 30
    undeclared = [f"{m} {p}" for m, p, h in routes if not isinstance(h.opt.get("permission"), Permission)]
    assert undeclared == []
    unknown = [f"{m} {p}" for m, p, _ in routes if (m, p) not in ROUTES]
    assert unknown == [], "add these routes to the RBAC matrix"
    stale = set(ROUTES) - {(m, p) for m, p, _ in routes}
    assert stale == set()


def test_every_route_answers_every_caller_as_the_permission_table_says(
    client: TestClient, world: tuple[World, dict[str, str]], engine: Engine, fast_settings: Settings
) -> None:
    things, tokens = world
    client.headers.pop("Authorization", None)
    failures = []
    for method, path, handler in _routes(client):
        kind, build = ROUTES[(method, path)]
        permission: Permission = handler.opt["permission"]
        for caller in CALLERS:
            url, body = build(things)
            headers = {}
            if caller.name in tokens:
                token = fresh_token(engine, fast_settings, caller, tokens[caller.name])
                headers = {"Authorization": f"Bearer {token}"}
            response = send(client, method, url, body, headers)
            got, allowed = outcome(response), expected(permission, kind, caller)
            if got not in allowed:
                failures.append(
                    f"{method} {path} as {caller.name}: {response.status_code} {got}, "
                    f"expected {sorted(allowed)}: {response.text[:160]}"
                )
    assert failures == [], "\n".join(failures)


def test_lists_show_only_what_the_caller_may_see(
    client: TestClient, world: tuple[World, dict[str, str]], engine: Engine, fast_settings: Settings
) -> None:
    things, tokens = world
    client.headers.pop("Authorization", None)
    by_name = {c.name: c for c in CALLERS}
    outsider = {
        "Authorization": "Bearer "
        + fresh_token(engine, fast_settings, by_name["other_namespace"], tokens["other_namespace"])
    }
    viewer = {"Authorization": "Bearer " + fresh_token(engine, fast_settings, by_name["viewer"], tokens["viewer"])}
    assert client.get("/api/v1/runs", headers=outsider).json()["items"] == []
    assert client.get("/api/v1/pipelines", headers=outsider).json()["items"] == []
    assert [n["name"] for n in client.get("/api/v1/namespaces", headers=outsider).json()] == ["other"]
    seen = {r["id"] for r in client.get("/api/v1/runs", headers=viewer).json()["items"]}
    assert seen == {things.run_id, things.done_run_id}
    assert [n["name"] for n in client.get("/api/v1/namespaces", headers=viewer).json()] == ["default"]
