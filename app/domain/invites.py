"""Registration invites: a one-time token, optionally granting a role in a namespace."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.core.errors import Conflict, Forbidden, NotFound
from app.core.ids import uuid7
from app.db.accounts import Invite, User
from app.db.models import Namespace
from app.domain import audit
from app.domain.members import set_member
from app.domain.pagination import newest_first
from app.domain.permissions import Role
from app.domain.tokens import hash_token, new_token


def create_invite(
    session: Session,
    *,
    email: str | None,
    namespace_id: uuid.UUID | None,
    role: Role | None,
    created_by: uuid.UUID,
    days: int,
    audit_as: audit.AuditContext | None = None,
) -> tuple[Invite, str]:
    """A one-time registration invite and its token (shown once); with `audit_as` (the API, the CLI) audited."""
    token, token_hash = new_token("invite")
    invite = Invite(
        id=uuid7(),
        token_hash=token_hash,
        email=email,
        namespace_id=namespace_id,
        role=role.label if role else None,
        created_by=created_by,
        expires_at=func.now() + timedelta(days=days),
    )
    session.add(invite)
    session.flush()
    session.refresh(invite)
    if audit_as is not None:
        audit.record(
            session,
            audit_as,
            action="invites.create",
            resource_type="invite",
            resource_id=invite.id,
            namespace_id=namespace_id,
            details={"email": email, "role": invite.role},
        )
    return invite, token


def redeem_invite(session: Session, token: str, user: User) -> None:
    """Spend an invite on a new account; a used, expired or unknown invite is refused."""
    invite = session.scalar(select(Invite).where(Invite.token_hash == hash_token(token)).with_for_update())
    valid = invite is not None and invite.used_at is None and session.scalar(select(func.now() < invite.expires_at))
    if not valid or invite is None:
        raise Forbidden("the invite is not valid (unknown, used or expired)", code="invalid_invite")
    invite.used_at = func.now()  # type: ignore[assignment]
    if invite.namespace_id and invite.role:
        set_member(session, invite.namespace_id, user.id, Role.parse(invite.role))


def list_invites(session: Session, *, limit: int, cursor: str | None = None) -> list[tuple[Invite, str | None, bool]]:
    """Newest invites first, each with its namespace's name and whether it has expired (by the database clock);
    `limit + 1` rows after the cursor's, to tell if more exist."""
    query = select(Invite, Namespace.name, Invite.expires_at <= func.now()).outerjoin(
        Namespace, Namespace.id == Invite.namespace_id
    )
    rows = session.execute(newest_first(query, Invite.created_at, Invite.id, limit=limit, cursor=cursor))
    return [(invite, name, bool(expired)) for invite, name, expired in rows.all()]


def revoke_invite(session: Session, invite_id: uuid.UUID, *, audit_as: audit.AuditContext) -> Invite:
    """End an unused invite now (it expires at once, so the row stays for the record); a used one cannot be. Audited."""
    invite = session.scalar(select(Invite).where(Invite.id == invite_id).with_for_update())
    if invite is None:
        raise NotFound(f"invite {invite_id} does not exist", code="invite_not_found")
    if invite.used_at is not None:
        raise Conflict("the invite has been used already", code="invite_used")
    invite.expires_at = func.least(Invite.expires_at, func.now())  # type: ignore[assignment]
    if invite.revoked_at is None:  # revoking twice keeps the first moment
        invite.revoked_at = func.now()  # type: ignore[assignment]
    session.flush()
    session.refresh(invite)
    audit.record(
        session,
        audit_as,
        action="invites.revoke",
        resource_type="invite",
        resource_id=invite.id,
        namespace_id=invite.namespace_id,
        details={"email": invite.email, "role": invite.role},
    )
    return invite
