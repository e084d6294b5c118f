"""Namespaces and who belongs to them."""

from __future__ import annotations

import uuid
from typing import Annotated

import msgspec
from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.core import display_text
from app.core.errors import Conflict, NotFound
from app.core.ids import uuid7
from app.core.patterns import whole
from app.db.accounts import Membership, User
from app.db.models import Namespace
from app.domain import audit
from app.domain.namespaces import visible_namespaces
from app.domain.pagination import newest_first
from app.domain.permissions import Permission, Principal, Role

NAMESPACE_NAME = whole(r"[a-z0-9][a-z0-9\-]{0,62}")
#: Most namespaces an instance holds: a namespace is a team's space, created by instance admins, and every
#: namespace list (GET /namespaces, an admin's /auth/me) answers them all in one page, so creating one more is
#: 409 `too_many_namespaces`.
MAX_NAMESPACES = 1000
#: The advisory lock that makes the count and the insert of create_namespace one step (two admins at once).
_CREATE_LOCK = 0x6E616D65  # "name"


class NewNamespace(display_text.Normalised, kw_only=True, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(pattern=NAMESPACE_NAME)]
    description: display_text.multi_line(2000) = ""  # type: ignore[valid-type]


def create_namespace(session: Session, new: NewNamespace, *, audit_as: audit.AuditContext | None = None) -> Namespace:
    """A new namespace (at most MAX_NAMESPACES); with `audit_as` (the API, the CLI) the creation is audited in the
    same transaction."""
    session.execute(select(func.pg_advisory_xact_lock(_CREATE_LOCK)))
    if (session.scalar(select(func.count()).select_from(Namespace)) or 0) >= MAX_NAMESPACES:
        raise Conflict(
            f"an instance holds at most {MAX_NAMESPACES} namespaces",
            code="too_many_namespaces",
        )
    namespace = Namespace(id=uuid7(), name=new.name, description=new.description)
    session.add(namespace)
    try:
        session.flush()
    except IntegrityError:
        raise Conflict(
            f"namespace {new.name!r} exists", code="namespace_taken", errors=[{"field": "name", "message": "taken"}]
        ) from None
    session.refresh(namespace)
    if audit_as is not None:
        audit.record(
            session,
            audit_as,
            action="namespaces.create",
            resource_type="namespace",
            resource_id=namespace.id,
            namespace_id=namespace.id,
            details={"name": namespace.name},
        )
    return namespace


def get_namespace(session: Session, name: str) -> Namespace:
    namespace = session.scalar(select(Namespace).where(Namespace.name == name))
    if namespace is None:
        raise NotFound(f"namespace {name!r} does not exist", code="namespace_not_found")
    return namespace


def namespace_for(session: Session, name: str, principal: Principal, permission: Permission) -> Namespace:
    """A namespace the caller holds `permission` in: 404 when it cannot see it, else 403."""
    namespace = get_namespace(session, name)
    principal.require(permission, namespace.id, resource="namespace")
    return namespace


def list_namespaces(session: Session, principal: Principal) -> list[Namespace]:
    """The namespaces the caller may read (every one, for superusers), by name."""
    only = visible_namespaces(session, principal, Permission.NAMESPACES_READ)
    query = select(Namespace).order_by(Namespace.name)
    if only is not None:
        query = query.where(Namespace.id.in_(only))
    return list(session.scalars(query))


def set_member(
    session: Session,
    namespace_id: uuid.UUID,
    user_id: uuid.UUID,
    role: Role,
    *,
    audit_as: audit.AuditContext | None = None,
) -> str | None:
    """Give a user a role in a namespace; returns the role they had before (None if new).

    With `audit_as` (the API, the CLI) the change is audited here with the role before and after;
    a registration that spends an invite is audited as the registration (users.register) instead.
    """
    if session.get(User, user_id) is None:
        raise NotFound(f"user {user_id} does not exist", code="user_not_found")
    before = session.scalar(
        select(Membership.role).where(Membership.namespace_id == namespace_id, Membership.user_id == user_id)
    )
    session.execute(
        insert(Membership)
        .values(namespace_id=namespace_id, user_id=user_id, role=role.label)
        .on_conflict_do_update(index_elements=["namespace_id", "user_id"], set_={"role": role.label})
    )
    if audit_as is not None:
        audit.record(
            session,
            audit_as,
            action="members.set",
            resource_type="user",
            resource_id=user_id,
            namespace_id=namespace_id,
            details={"before": {"role": before}, "after": {"role": role.label}},
        )
    return before


def remove_member(
    session: Session, namespace_id: uuid.UUID, user_id: uuid.UUID, *, audit_as: audit.AuditContext
) -> str:
    """Take a user out of a namespace (audited here); returns the role they had."""
    removed = session.execute(
        delete(Membership)
        .where(Membership.namespace_id == namespace_id, Membership.user_id == user_id)
        .returning(Membership.role)
    )
    role = removed.scalar()
    if role is None:
        raise NotFound("that user is not a member of this namespace", code="member_not_found")
    audit.record(
        session,
        audit_as,
        action="members.remove",
        resource_type="user",
        resource_id=user_id,
        namespace_id=namespace_id,
        details={"before": {"role": role}},
    )
    return role


def list_members(
    session: Session,
    namespace_id: uuid.UUID,
    *,
    limit: int,
    cursor: str | None = None,
    user_id: uuid.UUID | None = None,
) -> list[tuple[Membership, User]]:
    """Members of a namespace, newest first (`limit + 1` after the cursor's, to tell if more exist); only `user_id`
    when given."""
    query = (
        select(Membership, User)
        .join(User, User.id == Membership.user_id)
        .where(Membership.namespace_id == namespace_id)
    )
    if user_id is not None:
        query = query.where(Membership.user_id == user_id)
    rows = session.execute(newest_first(query, Membership.created_at, Membership.user_id, limit=limit, cursor=cursor))
    return [(m, u) for m, u in rows.all()]
