"""API tokens for batch submitters: one namespace, a role ceiling, an expiry; shown once."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Annotated

import msgspec
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.core import display_text
from app.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.core.ids import uuid7
from app.db.accounts import AuthToken, RoleName
from app.domain import audit
from app.domain.members import get_namespace
from app.domain.name_search import holds
from app.domain.namespaces import visible_namespaces
from app.domain.pagination import newest_first
from app.domain.permissions import Permission, Principal, Role
from app.domain.tokens import new_token
from app.settings import Settings


class NewApiToken(display_text.Normalised, kw_only=True, forbid_unknown_fields=True):
    name: display_text.one_line(200)  # type: ignore[valid-type]
    namespace: str
    role: RoleName
    expires_in_days: Annotated[int, msgspec.Meta(ge=1)] | None = None


def create_api_token(
    session: Session, principal: Principal, new: NewApiToken, settings: Settings, *, audit_as: audit.AuditContext
) -> tuple[AuthToken, str]:
    """A token capped at `role` (never above the creator's own role there); audited here, whoever calls."""
    if principal.token_kind == "api":
        raise Forbidden("an API token cannot create API tokens", code="forbidden")
    namespace = get_namespace(session, new.namespace)
    principal.require(Permission.NAMESPACES_READ, namespace.id, resource="namespace")
    ceiling = Role.parse(new.role)
    own = Role.ADMIN if principal.is_superuser else principal.role_in(namespace.id)
    if own is None or ceiling > own:
        raise Forbidden(
            f"you cannot give a token more than your own role ({own.label if own else 'none'})", code="role_above_own"
        )
    days = new.expires_in_days or settings.api_token_max_days
    if days > settings.api_token_max_days:
        raise InvalidInput(
            f"expires_in_days may be at most {settings.api_token_max_days}",
            code="expiry_too_long",
            errors=[{"field": "expires_in_days", "message": f"at most {settings.api_token_max_days}"}],
        )
    token, token_hash = new_token("api")
    row = AuthToken(
        id=uuid7(),
        token_hash=token_hash,
        kind="api",
        user_id=principal.user_id,
        family_id=uuid7(),
        name=new.name,
        namespace_id=namespace.id,
        role=ceiling.label,
        expires_at=func.now() + timedelta(days=days),
    )
    session.add(row)
    session.flush()
    session.refresh(row)
    audit.record(
        session,
        audit_as,
        action="tokens.create",
        resource_type="token",
        resource_id=row.id,
        namespace_id=row.namespace_id,
        details={"name": row.name, "role": row.role, "expires_at": row.expires_at},
    )
    return row, token


def list_api_tokens(
    session: Session,
    principal: Principal,
    *,
    namespace: str | None = None,
    search: str | None = None,
    limit: int,
    cursor: str | None = None,
) -> list[AuthToken]:
    """One's own tokens, newest first; with `namespace` (a name), every token there (needs tokens:manage); with
    `search`, those whose name holds it (in any case). `limit + 1` rows after the cursor's, to tell if more exist.

    A namespace the caller cannot see is 404 namespace_not_found; one it only reads, 403.
    """
    query = newest_first(
        select(AuthToken).where(AuthToken.kind == "api"), AuthToken.created_at, AuthToken.id, limit=limit, cursor=cursor
    )
    if namespace is None:
        query = query.where(AuthToken.user_id == principal.user_id)
    else:
        [namespace_id] = visible_namespaces(session, principal, Permission.NAMESPACES_READ, namespace) or []
        principal.require(Permission.TOKENS_MANAGE, namespace_id, resource="namespace")
        query = query.where(AuthToken.namespace_id == namespace_id)
    if search:
        query = query.where(holds(search, AuthToken.name))
    return list(session.scalars(query))


def revoke_api_token(
    session: Session, principal: Principal, token_id: uuid.UUID, *, audit_as: audit.AuditContext
) -> AuthToken:
    """Revoke at once (audited here, whoever calls)."""
    row = session.get(AuthToken, token_id, with_for_update=True)
    if row is None or row.kind != "api":
        raise NotFound("that token does not exist", code="token_not_found")
    if row.user_id != principal.user_id:
        principal.require(Permission.TOKENS_MANAGE, row.namespace_id or uuid.UUID(int=0), resource="token")
    if row.revoked_at is not None:
        raise Conflict("that token is already revoked", code="token_revoked")
    row.revoked_at = func.now()  # type: ignore[assignment]
    session.flush()
    session.refresh(row)
    audit.record(
        session,
        audit_as,
        action="tokens.revoke",
        resource_type="token",
        resource_id=row.id,
        namespace_id=row.namespace_id,
        details={"name": row.name},
    )
    return row
