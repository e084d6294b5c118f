"""Namespaces: looked up by name; `default` always exists (created by the first migration)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.errors import NotFound
from app.db.models import Namespace

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
