"""Every route x every kind of caller gets the status the permission table promises.

The test walks the application's own route table: a route without a declared
permission, or one this matrix has no request for, fails it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
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

PASSWORD = "matrix password 123"
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


@dataclass
class World:
    """What the requests refer to: resources in namespace `default`, and a victim account."""

    pipeline_id: str
    run_id: str
    done_run_id: str
    victim_id: str
    spare_id: str
    deployment_id: str
    engine: Engine
    settings: Settings

    def fresh_deployment(self) -> str:
        """A deployment of its own, for requests that delete theirs."""
        from app.domain.deployment_spec import IntervalSpec
        from app.domain.deployments import DeploymentIn, create_deployment, utcnow
        from tests.integration.engine_parts import ROOT

        with Session(self.engine) as session, session.begin():
            document = DeploymentIn(
                name=f"d{uuid.uuid4().hex[:8]}", pipeline="noop", schedule=IntervalSpec(seconds=3600)
            )
            return str(create_deployment(session, document, ROOT, self.settings, now=utcnow()).id)

    def spare_member(self) -> str:
        """The spare account, (again) a viewer of `default`, so each removal has someone to remove."""
        with Session(self.engine) as session, session.begin():
            default = session.execute(text("SELECT id FROM namespaces WHERE name = 'default'")).scalar_one()
            set_member(session, default, uuid.UUID(self.spare_id), Role.VIEWER)
        return self.spare_id


Request = tuple[str, dict[str, Any] | None]  # path (with query), JSON body
#: (method, route path) → (kind, how to build the request). kind: "resource" lives in `default`,
#: "list" shows what the caller may see, "self" is about the caller.
ROUTES: dict[tuple[str, str], tuple[str, Callable[[World], Request]]] = {
    ("POST", "/api/v1/auth/login"): ("self", lambda w: ("/api/v1/auth/login", {"username": "nobody", "password": "x"})),
    ("POST", "/api/v1/auth/refresh"): ("self", lambda w: ("/api/v1/auth/refresh", {"refresh_token": "cvr_bogus"})),
    ("POST", "/api/v1/auth/logout"): ("self", lambda w: ("/api/v1/auth/logout", None)),
    ("GET", "/api/v1/auth/me"): ("self", lambda w: ("/api/v1/auth/me", None)),
    ("PATCH", "/api/v1/auth/me"): ("self", lambda w: ("/api/v1/auth/me", {"display_name": "M"})),
    ("POST", "/api/v1/auth/password"): (
        "self",
        lambda w: ("/api/v1/auth/password", {"current_password": "wrong", "new_password": "another long passphrase"}),
    ),
    ("POST", "/api/v1/auth/register"): (
        "self",
        lambda w: ("/api/v1/auth/register", {"username": f"r{uuid.uuid4().hex[:8]}", "password": PASSWORD}),
    ),
    ("GET", "/api/v1/users"): ("list", lambda w: ("/api/v1/users", None)),
    ("POST", "/api/v1/users"): (
        "resource",
        lambda w: ("/api/v1/users", {"username": f"u{uuid.uuid4().hex[:8]}", "password": PASSWORD}),
    ),
    ("GET", "/api/v1/users/{user_id:uuid}"): ("resource", lambda w: (f"/api/v1/users/{w.victim_id}", None)),
    ("POST", "/api/v1/users/{user_id:uuid}/disable"): (
        "resource",
        lambda w: (f"/api/v1/users/{w.victim_id}/disable", None),
    ),
    ("POST", "/api/v1/users/{user_id:uuid}/enable"): (
        "resource",
        lambda w: (f"/api/v1/users/{w.victim_id}/enable", None),
    ),
    ("POST", "/api/v1/users/{user_id:uuid}/reset-password"): (
        "resource",
        lambda w: (f"/api/v1/users/{w.victim_id}/reset-password", None),
    ),
    ("POST", "/api/v1/invites"): ("resource", lambda w: ("/api/v1/invites", {})),
    ("GET", "/api/v1/namespaces"): ("list", lambda w: ("/api/v1/namespaces", None)),
    ("POST", "/api/v1/namespaces"): (
        "resource",
        lambda w: ("/api/v1/namespaces", {"name": f"n{uuid.uuid4().hex[:8]}"}),
    ),
    ("GET", "/api/v1/namespaces/{namespace:str}/members"): (
        "resource",
        lambda w: ("/api/v1/namespaces/default/members", None),
    ),
    ("PUT", "/api/v1/namespaces/{namespace:str}/members/{user_id:uuid}"): (
        "resource",
        lambda w: (f"/api/v1/namespaces/default/members/{w.victim_id}", {"role": "viewer"}),
    ),
    ("DELETE", "/api/v1/namespaces/{namespace:str}/members/{user_id:uuid}"): (
        "resource",
        lambda w: (f"/api/v1/namespaces/default/members/{w.spare_member()}", None),
    ),
    ("POST", "/api/v1/tokens"): (
        "self",
        lambda w: ("/api/v1/tokens", {"name": "t", "namespace": "default", "role": "viewer"}),
    ),
    ("GET", "/api/v1/tokens"): ("self", lambda w: ("/api/v1/tokens", None)),
    ("DELETE", "/api/v1/tokens/{token_id:uuid}"): ("self", lambda w: (f"/api/v1/tokens/{uuid.uuid4()}", None)),
    ("GET", "/api/v1/audit"): ("list", lambda w: ("/api/v1/audit", None)),
    ("GET", "/api/v1/audit/export"): ("list", lambda w: ("/api/v1/audit/export?format=csv", None)),
    ("POST", "/api/v1/runs"): ("resource", lambda w: ("/api/v1/runs", {"pipeline": "noop"})),
    ("POST", "/api/v1/runs/batch"): ("resource", lambda w: ("/api/v1/runs/batch", {"runs": [{"pipeline": "noop"}]})),
    ("GET", "/api/v1/runs"): ("list", lambda w: ("/api/v1/runs", None)),
    ("GET", "/api/v1/runs/{run_id:uuid}"): ("resource", lambda w: (f"/api/v1/runs/{w.run_id}", None)),
    ("GET", "/api/v1/runs/{run_id:uuid}/events"): ("resource", lambda w: (f"/api/v1/runs/{w.run_id}/events", None)),
    ("POST", "/api/v1/runs/{run_id:uuid}/cancel"): ("resource", lambda w: (f"/api/v1/runs/{w.run_id}/cancel", None)),
    ("POST", "/api/v1/runs/{run_id:uuid}/retry"): ("resource", lambda w: (f"/api/v1/runs/{w.run_id}/retry", None)),
    ("GET", "/api/v1/runs/{run_id:uuid}/logs"): ("resource", lambda w: (f"/api/v1/runs/{w.run_id}/logs", None)),
    ("GET", "/api/v1/runs/{run_id:uuid}/logs/stream"): (
        "resource",
        lambda w: (f"/api/v1/runs/{w.done_run_id}/logs/stream", None),
    ),
    ("POST", "/api/v1/pipelines"): (
        "resource",
        lambda w: ("/api/v1/pipelines", {"name": f"p{uuid.uuid4().hex[:8]}", "spec": {"steps": []}}),
    ),
    ("GET", "/api/v1/pipelines"): ("list", lambda w: ("/api/v1/pipelines", None)),
    ("GET", "/api/v1/pipelines/{pipeline_ref:str}"): (
        "resource",
        lambda w: (f"/api/v1/pipelines/{w.pipeline_id}", None),
    ),
    ("POST", "/api/v1/deployments"): (
        "resource",
        lambda w: (
            "/api/v1/deployments",
            {"name": f"d{uuid.uuid4().hex[:8]}", "pipeline": "noop", "schedule": {"kind": "interval", "seconds": 60}},
        ),
    ),
    ("POST", "/api/v1/deployments/validate"): (
        "list",
        lambda w: (
            "/api/v1/deployments/validate",
            {"name": "draft", "pipeline": "noop", "schedule": {"kind": "cron", "cron": "0 * * * *"}},
        ),
    ),
    ("GET", "/api/v1/deployments"): ("list", lambda w: ("/api/v1/deployments", None)),
    ("GET", "/api/v1/deployments/{deployment_id:uuid}"): (
        "resource",
        lambda w: (f"/api/v1/deployments/{w.deployment_id}", None),
    ),
    ("PATCH", "/api/v1/deployments/{deployment_id:uuid}"): (
        "resource",
        lambda w: (f"/api/v1/deployments/{w.deployment_id}", {"description": "changed"}),
    ),
    ("POST", "/api/v1/deployments/{deployment_id:uuid}/pause"): (
        "resource",
        lambda w: (f"/api/v1/deployments/{w.deployment_id}/pause", None),
    ),
    ("POST", "/api/v1/deployments/{deployment_id:uuid}/resume"): (
        "resource",
        lambda w: (f"/api/v1/deployments/{w.deployment_id}/resume", None),
    ),
    ("DELETE", "/api/v1/deployments/{deployment_id:uuid}"): (
        "resource",
        lambda w: (f"/api/v1/deployments/{w.fresh_deployment()}", None),
    ),
    ("POST", "/api/v1/deployments/{deployment_id:uuid}/trigger"): (
        "resource",
        lambda w: (f"/api/v1/deployments/{w.deployment_id}/trigger", {"params": {"x": 1}}),
    ),
    ("POST", "/api/v1/deployments/{deployment_id:uuid}/backfill"): (
        "resource",
        lambda w: (
            f"/api/v1/deployments/{w.deployment_id}/backfill",
            {"start": "2026-01-01T00:00:00Z", "end": "2026-01-01T03:00:00Z"},
        ),
    ),
    ("GET", "/api/v1/deployments/{deployment_id:uuid}/upcoming"): (
        "resource",
        lambda w: (f"/api/v1/deployments/{w.deployment_id}/upcoming", None),
    ),
    ("GET", "/api/v1/deployments/{deployment_id:uuid}/occurrences"): (
        "resource",
        lambda w: (f"/api/v1/deployments/{w.deployment_id}/occurrences", None),
    ),
    ("GET", "/healthz"): ("self", lambda w: ("/healthz", None)),
    ("GET", "/api/v1/healthz"): ("self", lambda w: ("/api/v1/healthz", None)),
    ("GET", "/readyz"): ("self", lambda w: ("/readyz", None)),
    ("GET", "/api/v1/readyz"): ("self", lambda w: ("/api/v1/readyz", None)),
}


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
    return World(
        pipeline_id=pipeline["id"],
        run_id=run["id"],
        done_run_id=done["id"],
        victim_id=victim_id,
        spare_id=spare_id,
        deployment_id=deployment.json()["id"],
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
            response = client.request(method, url, json=body, headers=headers)
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
