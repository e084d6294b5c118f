"""Authentication and authorization for every route, through one guard.

Each route handler declares `opt={"permission": Permission.X}` (and, if it
changes state, `"action": "area.verb"` for the audit log). The guard resolves
the bearer token, enforces signed-in and instance-admin scopes and the
must-change-password rule; namespace roles are checked against the resource's
own namespace by the domain code, through the same permission table.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

import anyio
from litestar.connection import ASGIConnection
from litestar.enums import HttpMethod
from litestar.handlers.base import BaseRouteHandler
from litestar.types import Scope

from app.api.bearer_lookup import BearerLookup
from app.api.client_address import client_address
from app.api.rate_limit import RateLimit
from app.api.request_id import request_id_of
from app.core.errors import DomainError, Forbidden, ImproperlyDeclared, Unauthorized
from app.db.database import Database
from app.db.outage import database_unavailable
from app.domain import audit
from app.domain.permissions import ALLOWED_BEFORE_PASSWORD_CHANGE, PERMISSIONS, Permission, Principal, Role
from app.domain.permissions import Scope as Who

logger = logging.getLogger(__name__)


def declared_permission(handler: BaseRouteHandler) -> Permission:
    """The permission a route declared; a route without one is a bug and is refused."""
    permission = handler.opt.get("permission")
    if permission is None and _is_automatic_options(handler):
        return Permission.PUBLIC  # Litestar's own OPTIONS answer (204 + Allow): reveals nothing, runs nothing
    if not isinstance(permission, Permission):
        raise ImproperlyDeclared(f"route {handler.handler_name!r} declares no permission")
    return permission


def _is_automatic_options(handler: BaseRouteHandler) -> bool:
    """The OPTIONS handler Litestar adds to every path (our own routes never declare OPTIONS)."""
    methods = getattr(handler, "http_methods", set())
    return methods == {HttpMethod.OPTIONS} and handler.handler_name == "options_handler"


def bearer_token(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    header = connection.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def make_guard(lookup: BearerLookup, rate_limit: RateLimit, *, enabled: bool = True):  # type: ignore[no-untyped-def]
    """The app-wide guard, which also applies the rate limit. `enabled=False` is for benchmarks of its cost."""

    async def guard(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
        permission = declared_permission(handler)
        needed = PERMISSIONS[permission]
        if not enabled:
            connection.state.principal = SYSTEM
            return
        if needed is Who.PUBLIC:
            await rate_limit.by_address(connection)
            return  # public routes neither need nor check credentials (a stale token is no error here)
        token = bearer_token(connection)
        if token is None:
            await rate_limit.by_address(connection)
            raise Unauthorized("sign in first: send Authorization: Bearer <token>", code="unauthorized")
        try:
            principal = await lookup.resolve(token)  # on the event loop: no thread hop per request
        except Unauthorized:
            await rate_limit.by_address(connection)
            raise
        await rate_limit.by_token(connection, token)
        connection.state.principal = principal
        if principal.must_change_password and permission not in ALLOWED_BEFORE_PASSWORD_CHANGE:
            raise Forbidden("change your password first (POST /api/v1/auth/password)", code="password_change_required")
        if needed is Who.SUPERUSER and not principal.is_superuser:
            raise Forbidden(f"this needs the {permission.value} permission (instance admins)", code="forbidden")
        if isinstance(needed, Role) and needed > Role.VIEWER and not principal.may(permission):
            # Holding the role nowhere is a plain 403; holding it elsewhere leaves the namespace check
            # to the handler, which answers 404 for namespaces the caller cannot see.
            raise Forbidden(
                f"this needs the {permission.value} permission ({needed.label} or higher)", code="forbidden"
            )

    return guard


#: The caller when authentication is switched off (benchmarks only): an instance admin.
SYSTEM = Principal(user_id=uuid.UUID(int=0), username="system", is_superuser=True)


def principal_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    principal = connection.state.get("principal")
    if principal is None:
        raise Unauthorized("sign in first: send Authorization: Bearer <token>", code="unauthorized")
    return principal  # type: ignore[no-any-return]


def audit_context(connection: ASGIConnection[Any, Any, Any, Any]) -> audit.AuditContext:
    return audit.AuditContext(
        principal=connection.state.get("principal"),
        request_id=request_id_of(connection.scope),
        client_address=client_address(connection.scope),
        user_agent=connection.headers.get("user-agent"),
    )


def make_failure_auditor(database: Database):  # type: ignore[no-untyped-def]
    """`after_exception` hook: a state-changing call that failed leaves a failure (or denied) entry."""

    async def record_failure(exc: Exception, scope: Scope) -> None:
        handler = scope.get("route_handler")
        action = getattr(handler, "opt", {}).get("action") if handler is not None else None
        if not action or database_unavailable(exc):  # no database to write the entry to
            return
        status = getattr(exc, "status", None) or getattr(exc, "status_code", None) or 500
        code = getattr(exc, "code", None) if isinstance(exc, DomainError) else type(exc).__name__
        outcome = "denied" if status in (401, 403) else "failure"
        state = scope.get("state", {})
        ctx = audit.AuditContext(
            principal=state.get("principal"),
            request_id=request_id_of(scope),
            client_address=client_address(scope),
            user_agent=next((v.decode("latin-1") for k, v in scope.get("headers", []) if k == b"user-agent"), None),
            actor_name=state.get("audit_actor_name"),
        )

        def write() -> None:
            with database.transaction() as session:
                audit.record(
                    session,
                    ctx,
                    action=action,
                    outcome=outcome,
                    status_code=int(status),
                    error_code=str(code),
                    resource_type=state.get("audit_resource_type"),
                    resource_id=state.get("audit_resource_id"),
                    details={"detail": str(getattr(exc, "detail", exc))[:500]},
                )

        try:
            await anyio.to_thread.run_sync(write)
        except Exception:
            logger.exception("could not write the failure audit entry for %s", action)

    return record_failure
