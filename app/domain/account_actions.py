"""Signing in and out and one's own account, as a caller (API, CLI) does it: each audited in its transaction.

The rules live in app.domain.sessions, app.domain.users and app.domain.invites; this module adds who is acting,
so every caller writes the same audit row (failed and throttled sign-ins included) and no controller has to.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from app.core.errors import Forbidden, InvalidInput, TooManyRequests
from app.db.accounts import User
from app.domain import audit, sessions, users
from app.domain.invites import redeem_invite
from app.domain.permissions import Principal
from app.domain.sessions import IssuedTokens
from app.settings import Settings


def sign_in(
    session: Session, username: str, password: str, settings: Settings, *, audit_as: audit.AuditContext
) -> IssuedTokens:
    user, tokens = sessions.login(session, username, password, settings)
    audit.record(
        session,
        audit_as.as_user(user.id, user.username),
        action="auth.login",
        resource_type="user",
        resource_id=user.id,
        details={"username": user.username},
    )
    return tokens


def sign_in_refused(session: Session, username: str, exc: Exception, *, audit_as: audit.AuditContext) -> None:
    """A refused attempt, in a transaction of its own: throttled (denied, 429) or a wrong password (failure, 401)."""
    throttled = isinstance(exc, TooManyRequests)
    details: dict[str, Any] = {"username": username}
    if isinstance(exc, TooManyRequests):
        details["retry_after"] = exc.retry_after
    audit.record(
        session,
        audit_as.anonymous(username),
        action="auth.login",
        outcome="denied" if throttled else "failure",
        resource_type="user",
        status_code=429 if throttled else 401,
        error_code=getattr(exc, "code", type(exc).__name__),
        details=details,
    )


def refresh_reused(session: Session, reused: sessions.RefreshTokenReused, *, audit_as: audit.AuditContext) -> None:
    """A spent refresh token came back: its family is revoked and that is audited; the caller commits, then fails."""
    sessions.revoke_family(session, reused.family_id)
    audit.record(
        session,
        audit_as,
        action="auth.refresh",
        outcome="denied",
        resource_type="user",
        resource_id=reused.user_id,
        status_code=401,
        error_code=reused.code,
        details={"family_revoked": str(reused.family_id)},
    )


def sign_out(session: Session, principal: Principal, *, audit_as: audit.AuditContext) -> None:
    """This session's tokens stop working at once (an API token is revoked by its id instead)."""
    if principal.token_kind == "api" or principal.family_id is None:
        raise InvalidInput("API tokens are revoked with DELETE /api/v1/tokens/{id}", code="not_a_session")
    sessions.revoke_family(session, principal.family_id)
    audit.record(session, audit_as, action="auth.logout", resource_type="user", resource_id=principal.user_id)


def update_profile(
    session: Session, principal: Principal, changes: dict[str, Any], *, audit_as: audit.AuditContext
) -> User:
    """Set the given profile fields (display_name, email) of the caller, audited before and after."""
    user = users.get_user(session, principal.user_id)
    before = {"display_name": user.display_name, "email": user.email}
    for key, value in changes.items():
        setattr(user, key, value)
    session.flush()
    audit.record(
        session,
        audit_as,
        action="users.update_profile",
        resource_type="user",
        resource_id=user.id,
        details={"before": before, "after": changes},
    )
    return user


def change_password(
    session: Session, principal: Principal, *, current: str, new: str, settings: Settings, audit_as: audit.AuditContext
) -> None:
    """One's own password, with a password session (not an API token); the other sessions are signed out."""
    if principal.token_kind == "api":
        raise Forbidden("sign in with a password to change it", code="forbidden")
    user = users.get_user(session, principal.user_id)
    users.change_password(session, user, current=current, new=new, settings=settings, keep_family=principal.family_id)
    audit.record(session, audit_as, action="users.change_password", resource_type="user", resource_id=user.id)


def register(
    session: Session, new: users.NewUser, invite: str | None, settings: Settings, *, audit_as: audit.AuditContext
) -> User:
    """Self-service sign-up, as CONVEYOR_REGISTRATION allows (open, or by invite); audited as the new user."""
    if settings.registration == "closed" or (settings.registration == "invite" and not invite):
        raise Forbidden(
            "registration is " + ("closed" if settings.registration == "closed" else "by invite only"),
            code="registration_closed",
        )
    user = users.create_user(session, new, settings)
    if invite:
        redeem_invite(session, invite, user)
    audit.record(
        session,
        audit_as.as_user(user.id, user.username),
        action="users.register",
        resource_type="user",
        resource_id=user.id,
        details={"username": user.username, "invited": bool(invite)},
    )
    return user
