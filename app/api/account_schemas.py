"""Response bodies of the accounts, namespaces, tokens and audit endpoints."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

import msgspec
from sqlalchemy.orm import Session

from app.db.accounts import TOKEN_KINDS, AuditEntry, AuthToken, Invite, Membership, RoleName, User
from app.db.models import Namespace
from app.domain.members import list_namespaces
from app.domain.permissions import Principal

#: How the caller signed in: a session's access token, or an API token.
TokenKind = StrEnum("TokenKind", [(v.upper(), v) for v in TOKEN_KINDS], module=__name__)  # type: ignore[misc]


class UserOut(msgspec.Struct):
    id: uuid.UUID
    username: str
    email: str | None
    display_name: str
    is_superuser: bool
    is_disabled: bool
    must_change_password: bool
    created_at: datetime
    last_login_at: datetime | None

    @classmethod
    def of(cls, user: User) -> UserOut:
        return cls(
            id=user.id,
            username=user.username,
            email=user.email,
            display_name=user.display_name,
            is_superuser=user.is_superuser,
            is_disabled=user.is_disabled,
            must_change_password=user.must_change_password,
            created_at=user.created_at,
            last_login_at=user.last_login_at,
        )


class RoleOut(msgspec.Struct):
    namespace_id: uuid.UUID
    namespace: str
    role: RoleName
    #: What this role allows in this namespace (a console shows only the buttons these permit).
    permissions: list[str] = msgspec.field(default_factory=list)


class MeOut(msgspec.Struct):
    user: UserOut
    roles: list[RoleOut]
    token_kind: TokenKind
    #: Permissions outside namespaces; an instance admin (`user.is_superuser`) holds every permission everywhere.
    permissions: list[str] = msgspec.field(default_factory=list)

    @classmethod
    def of(cls, session: Session, user: User, principal: Principal) -> MeOut:
        names = {n.id: n.name for n in list_namespaces(session, principal)}  # a superuser: every namespace
        roles = [
            RoleOut(ns, names.get(ns, "?"), RoleName(role.label), [p.value for p in principal.held(ns)])
            for ns, role in principal.roles.items()
        ]
        return cls(
            user=UserOut.of(user),
            roles=sorted(roles, key=lambda r: r.namespace),
            token_kind=TokenKind(principal.token_kind),
            permissions=[p.value for p in principal.held()],
        )


class TemporaryPassword(msgspec.Struct):
    """Shown once; the user must change it at the next sign-in."""

    temporary_password: str


class NamespaceOut(msgspec.Struct):
    id: uuid.UUID
    name: str
    description: str
    created_at: datetime

    @classmethod
    def of(cls, namespace: Namespace) -> NamespaceOut:
        return cls(
            id=namespace.id, name=namespace.name, description=namespace.description, created_at=namespace.created_at
        )


class MemberIn(msgspec.Struct, forbid_unknown_fields=True):
    role: RoleName


class NamedMemberIn(msgspec.Struct, forbid_unknown_fields=True):
    username: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    role: RoleName


class MemberOut(msgspec.Struct):
    user_id: uuid.UUID
    username: str
    role: RoleName
    since: datetime

    @classmethod
    def of(cls, membership: Membership, user: User) -> MemberOut:
        return cls(user_id=user.id, username=user.username, role=RoleName(membership.role), since=membership.created_at)


class ApiTokenOut(msgspec.Struct):
    id: uuid.UUID
    name: str | None
    namespace_id: uuid.UUID | None
    role: RoleName | None
    user_id: uuid.UUID
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def of(cls, row: AuthToken) -> ApiTokenOut:
        return cls(
            id=row.id,
            name=row.name,
            namespace_id=row.namespace_id,
            role=RoleName(row.role) if row.role else None,
            user_id=row.user_id,
            created_at=row.created_at,
            expires_at=row.expires_at,
            revoked_at=row.revoked_at,
        )


class CreatedApiToken(ApiTokenOut):
    """The token itself is in `token`, and is shown only this once."""

    token: str = ""


class InviteOut(msgspec.Struct):
    id: uuid.UUID
    token: str
    expires_at: datetime


class InviteState(StrEnum):
    PENDING = "pending"
    USED = "used"
    EXPIRED = "expired"
    REVOKED = "revoked"


class InviteInfo(msgspec.Struct):
    """An invite as listed: never its token, which was shown once at creation."""

    id: uuid.UUID
    email: str | None
    namespace: str | None
    role: RoleName | None
    created_by: uuid.UUID | None
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None
    revoked_at: datetime | None
    state: InviteState

    @classmethod
    def of(cls, invite: Invite, namespace: str | None, expired: bool) -> InviteInfo:
        state = (
            InviteState.USED
            if invite.used_at
            else InviteState.REVOKED
            if invite.revoked_at
            else InviteState.EXPIRED
            if expired
            else InviteState.PENDING
        )
        return cls(
            id=invite.id,
            email=invite.email,
            namespace=namespace,
            role=RoleName(invite.role) if invite.role else None,
            created_by=invite.created_by,
            created_at=invite.created_at,
            expires_at=invite.expires_at,
            used_at=invite.used_at,
            revoked_at=invite.revoked_at,
            state=state,
        )


class AuditEntryOut(msgspec.Struct):
    id: int
    at: datetime
    actor_user_id: uuid.UUID | None
    actor_name: str | None
    actor_token_id: uuid.UUID | None
    action: str
    resource_type: str | None
    resource_id: str | None
    namespace_id: uuid.UUID | None
    outcome: Literal["success", "failure", "denied"]
    status_code: int | None
    error_code: str | None
    request_id: str | None
    client_address: str | None
    user_agent: str | None
    details: dict[str, Any]

    @classmethod
    def of(cls, entry: AuditEntry) -> AuditEntryOut:
        return cls(**{f: getattr(entry, f) for f in cls.__struct_fields__})
