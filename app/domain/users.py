"""Local accounts: create, look up, list, change, disable, reset and change passwords."""

from __future__ import annotations

import secrets
import uuid
from typing import Annotated

import msgspec
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.core import display_text
from app.core.errors import Conflict, InvalidInput, NotFound
from app.core.ids import uuid7
from app.core.patterns import whole
from app.db.accounts import AuthToken, User
from app.domain import audit
from app.domain.name_search import holds
from app.domain.pagination import decode_cursor
from app.domain.passwords import check_password_rules, hash_password, verify_password
from app.settings import Settings

USERNAME = whole(r"[A-Za-z0-9][A-Za-z0-9_.@\-]{1,63}")
BOOTSTRAP_ADMIN = "admin"
#: A person's name as shown: the display-text rule (app/core/display_text.py), or "" for none.
DisplayName = display_text.optional_one_line(200)
#: An account's or an invite's email address: one `@`, no whitespace, at most 320 characters (the column's size).
Email = Annotated[str, msgspec.Meta(max_length=320, pattern=whole(r"[^@\s]+@[^@\s]+"))]


class NewUser(display_text.Normalised, kw_only=True, forbid_unknown_fields=True):
    username: Annotated[str, msgspec.Meta(pattern=USERNAME)]
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=1024)]
    email: Email | None = None
    display_name: DisplayName = ""
    is_superuser: bool = False


def create_user(
    session: Session,
    new: NewUser,
    settings: Settings,
    *,
    must_change_password: bool = False,
    audit_as: audit.AuditContext | None = None,
) -> User:
    """A new account; with `audit_as` (the API's and the CLI's callers) the creation is audited here, alike for both."""
    check_password_rules(new.password, settings, username=new.username)
    user = User(
        id=uuid7(),
        username=new.username,
        email=new.email,
        display_name=new.display_name,
        password_hash=hash_password(new.password, settings),
        is_superuser=new.is_superuser,
        must_change_password=must_change_password,
    )
    session.add(user)
    try:
        session.flush()
    except IntegrityError:
        raise Conflict(
            f"the username {new.username!r} is taken",
            code="username_taken",
            errors=[{"field": "username", "message": "taken"}],
        ) from None
    session.refresh(user)
    if audit_as is not None:
        audit.record(
            session,
            audit_as,
            action="users.create",
            resource_type="user",
            resource_id=user.id,
            details={"after": {"username": user.username, "is_superuser": user.is_superuser}},
        )
    return user


def find_by_username(session: Session, username: str) -> User | None:
    return session.scalar(select(User).where(func.lower(User.username) == username.lower()))


def get_user(session: Session, user_id: uuid.UUID) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"user {user_id} does not exist", code="user_not_found")
    return user


def any_user_exists(session: Session) -> bool:
    return session.scalar(select(User.id).limit(1)) is not None


def list_users(session: Session, *, search: str | None, limit: int, cursor: str | None) -> list[User]:
    query = select(User).order_by(User.created_at.desc(), User.id.desc()).limit(limit + 1)
    if search:
        query = query.where(holds(search, User.username, User.email))  # a NULL email matches nothing
    if cursor:
        position = decode_cursor(cursor)
        query = query.where(
            or_(User.created_at < position.at, and_(User.created_at == position.at, User.id < position.id))
        )
    return list(session.scalars(query))


def revoke_all_tokens(
    session: Session,
    user_id: uuid.UUID,
    *,
    kinds: tuple[str, ...] = ("access", "refresh", "api"),
) -> int:
    result = session.execute(
        update(AuthToken)
        .where(AuthToken.user_id == user_id, AuthToken.kind.in_(kinds), AuthToken.revoked_at.is_(None))
        .values(revoked_at=func.now())
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def set_disabled(session: Session, user: User, disabled: bool, *, audit_as: audit.AuditContext) -> User:
    """Disable (every token stops working at once) or re-enable an account; audited with the state before."""
    before = user.is_disabled
    user.is_disabled = disabled
    user.updated_at = func.now()  # type: ignore[assignment]
    if disabled:
        revoke_all_tokens(session, user.id)
    session.flush()
    session.refresh(user)
    audit.record(
        session,
        audit_as,
        action="users.disable" if disabled else "users.enable",
        resource_type="user",
        resource_id=user.id,
        details={"before": {"is_disabled": before}, "after": {"is_disabled": disabled}},
    )
    return user


def reset_password(session: Session, user: User, settings: Settings, *, audit_as: audit.AuditContext) -> str:
    """A temporary password that must be changed at the next login; signs the user out everywhere (audited)."""
    temporary = secrets.token_urlsafe(12)
    user.password_hash = hash_password(temporary, settings)
    user.must_change_password = True
    user.updated_at = func.now()  # type: ignore[assignment]
    revoke_all_tokens(session, user.id, kinds=("access", "refresh"))
    audit.record(
        session,
        audit_as,
        action="users.reset_password",
        resource_type="user",
        resource_id=user.id,
        details={"must_change_password": True},
    )
    session.flush()
    return temporary


def change_password(
    session: Session, user: User, *, current: str, new: str, settings: Settings, keep_family: uuid.UUID | None
) -> None:
    """Change one's own password; other sessions are signed out, the current one stays."""
    if not verify_password(user.password_hash, current, settings):
        raise InvalidInput(
            "the current password is wrong",
            code="wrong_password",
            errors=[{"field": "current_password", "message": "wrong password"}],
        )
    if new == current:
        raise InvalidInput(
            "the new password must differ from the current one",
            code="weak_password",
            errors=[{"field": "new_password", "message": "same as the current password"}],
        )
    check_password_rules(new, settings, username=user.username, field="new_password")
    user.password_hash = hash_password(new, settings)
    user.must_change_password = False
    user.updated_at = func.now()  # type: ignore[assignment]
    session.execute(
        update(AuthToken)
        .where(
            AuthToken.user_id == user.id,
            AuthToken.kind.in_(("access", "refresh")),
            AuthToken.revoked_at.is_(None),
            AuthToken.family_id != (keep_family or uuid.UUID(int=0)),
        )
        .values(revoked_at=func.now())
    )
    session.flush()


def touch_login(session: Session, user: User, *, new_hash: str | None) -> None:
    user.last_login_at = func.now()  # type: ignore[assignment]
    if new_hash:
        user.password_hash = new_hash
