"""Namespaces: looked up by name; `default` always exists (created by the first migration)."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db.models import Namespace
from app.domain.errors import NotFound

DEFAULT_NAMESPACE = "default"


def namespace_id(session: Session, name: str) -> uuid.UUID:
    """The id of the namespace called `name`."""
    found = session.scalar(select(Namespace.id).where(Namespace.name == name))
    if found is None:
        raise NotFound(f"namespace {name!r} does not exist", code="namespace_not_found")
    return found
