"""Signing in and out: access + refresh tokens, refresh rotation with reuse detection, bearer resolution."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import msgspec
from sqlalchemy import Connection, func, select, update
from sqlalchemy.orm import Session

from app.core.errors import Unauthorized
from app.core.ids import uuid7
from app.db.accounts import AuthToken, User
from app.db.queries import query
from app.domain.passwords import hash_password, needs_rehash, verify_password
from app.domain.permissions import Principal, effective_roles
from app.domain.tokens import hash_token, new_token
from app.domain.users import find_by_username, touch_login
from app.settings import Settings

BAD_CREDENTIALS = "the username or password is wrong"


class RefreshTokenReused(Unauthorized):
    """A spent refresh token came back: someone copied it. The caller revokes the family and commits."""

    def __init__(self, family_id: uuid.UUID, user_id: uuid.UUID) -> None:
        super().__init__(
            "this refresh token was already used; every session of that sign-in is now revoked",
            code="refresh_token_reused",
        )
        self.family_id = family_id
        self.user_id = user_id


class IssuedTokens(msgspec.Struct):
    """A new token pair; `refresh_token` is null when it was set as the console's cookie instead."""

    access_token: str
    refresh_token: str | None
    expires_in: int
    token_type: str = "bearer"


def login(session: Session, username: str, password: str, settings: Settings) -> tuple[User, IssuedTokens]:
    """Check the password (same error and cost for an unknown user) and open a session."""
    user = find_by_username(session, username)
    ok = verify_password(user.password_hash if user else None, password, settings)
    if user is None or not ok or user.is_disabled:
        raise Unauthorized(BAD_CREDENTIALS, code="invalid_credentials")
    touch_login(
        session,
        user,
        new_hash=hash_password(password, settings) if needs_rehash(user.password_hash, settings) else None,
    )
    return user, _issue(session, user.id, uuid7(), settings)


def _issue(session: Session, user_id: uuid.UUID, family: uuid.UUID, settings: Settings) -> IssuedTokens:
    access, access_hash = new_token("access")
    refresh, refresh_hash = new_token("refresh")
    access_ttl = timedelta(minutes=settings.access_token_minutes)
    session.add_all(
        [
            AuthToken(
                id=uuid7(),
                token_hash=access_hash,
                kind="access",
                user_id=user_id,
                family_id=family,
                expires_at=func.now() + access_ttl,
            ),
            AuthToken(
                id=uuid7(),
                token_hash=refresh_hash,
                kind="refresh",
                user_id=user_id,
                family_id=family,
                expires_at=func.now() + timedelta(days=settings.refresh_token_days),
            ),
        ]
    )
    session.flush()
    return IssuedTokens(access_token=access, refresh_token=refresh, expires_in=int(access_ttl.total_seconds()))


def refresh(session: Session, refresh_token: str, settings: Settings) -> tuple[uuid.UUID, IssuedTokens]:
    """Swap a refresh token for a new pair. A refresh token used twice revokes its whole family."""
    row = session.scalar(
        select(AuthToken)
        .where(AuthToken.token_hash == hash_token(refresh_token), AuthToken.kind == "refresh")
        .with_for_update()
    )
    if row is None or row.revoked_at is not None:
        raise Unauthorized("the refresh token is not valid", code="invalid_refresh_token")
    if row.used_at is not None:
        raise RefreshTokenReused(row.family_id, row.user_id)
    expired = session.scalar(select(func.now() >= row.expires_at))
    user = session.get(User, row.user_id)
    if expired or user is None or user.is_disabled:
        raise Unauthorized("the refresh token is not valid", code="invalid_refresh_token")
    row.used_at = func.now()  # type: ignore[assignment]
    session.execute(
        update(AuthToken)
        .where(AuthToken.family_id == row.family_id, AuthToken.kind == "access", AuthToken.revoked_at.is_(None))
        .values(revoked_at=func.now())
    )
    return user.id, _issue(session, user.id, row.family_id, settings)


def revoke_family(session: Session, family_id: uuid.UUID) -> None:
    session.execute(
        update(AuthToken)
        .where(AuthToken.family_id == family_id, AuthToken.revoked_at.is_(None))
        .values(revoked_at=func.now())
    )


def resolve_bearer(session: Session | Connection, token: str) -> Principal:
    """The caller behind a bearer token, in one query; 401 if it is unknown, expired, revoked or disabled."""
    row: Any = session.execute(query("resolve_bearer_token"), {"hash": hash_token(token)}).mappings().first()
    return bearer_principal(row)


def bearer_principal(row: Any) -> Principal:
    """The caller of a `resolve_bearer_token` row (a mapping); 401 for no row (the token is not valid)."""
    if row is None:
        raise Unauthorized("the bearer token is not valid (unknown, expired or revoked)", code="invalid_token")
    memberships = [(uuid.UUID(ns), role) for ns, role in row["memberships"]]
    is_api = row["kind"] == "api"
    if is_api and row["is_superuser"]:  # an instance admin's token is capped only by its own role ceiling
        memberships = [(row["token_namespace"], "admin")]
    return Principal(
        user_id=row["user_id"],
        username=row["username"],
        is_superuser=bool(row["is_superuser"]) and not is_api,
        roles=effective_roles(memberships, token_namespace=row["token_namespace"], token_role=row["token_role"]),
        token_id=row["token_id"],
        token_kind=row["kind"],
        family_id=row["family_id"],
        must_change_password=bool(row["must_change_password"]),
    )
