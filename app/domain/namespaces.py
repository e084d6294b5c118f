"""Namespaces: looked up by name; `default` always exists (created by the first migration)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.errors import NotFound
from app.db.models import Namespace
from app.domain.permissions import Permission, Principal

DEFAULT_NAMESPACE = "default"


def namespace_id(session: Session, name: str) -> uuid.UUID:
    """The id of the namespace called `name`."""
    found = session.scalar(select(Namespace.id).where(Namespace.name == name))
    if found is None:
        raise NotFound(f"namespace {name!r} does not exist", code="namespace_not_found")
    return found


def visible_namespace_id(session: Session, name: str, visible: Iterable[uuid.UUID] | None) -> uuid.UUID:
    """The id of a namespace a list may be filtered by; one the caller cannot see is 404 as if it did not exist.

    `visible` is the caller's namespaces (None: every one). Answering alike stops names being probed.
    """
    found = namespace_id(session, name)
    if visible is not None and found not in set(visible):
        raise NotFound(f"namespace {name!r} does not exist", code="namespace_not_found")
    return found


def visible_namespaces(
    session: Session, principal: Principal, permission: Permission, namespace: str | None = None
) -> list[uuid.UUID] | None:
    """The namespaces a list shows the caller: each one it holds `permission` in (None: every one, superusers).

    With `namespace` (a list's `?namespace=` filter), only that one; a namespace the caller cannot see is 404
    `namespace_not_found`, as if it did not exist. The one rule every list endpoint's scope comes from.
    """
    visible = principal.namespaces_with(permission)
    if namespace is None:
        return visible
    return [visible_namespace_id(session, namespace, visible)]
