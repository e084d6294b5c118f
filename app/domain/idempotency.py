"""Idempotency-Key: the same key and body give the same result; another body is a conflict."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from typing import Any

import msgspec
from sqlalchemy.orm import Session

from app.core.errors import Conflict
from app.db.queries import query
from app.domain.audit import redact


def request_hash(body: Any) -> str:
    """A stable hash of a decoded request body (key order does not matter), its secret-looking fields left out as
    the audit log leaves them out (`audit.redact`): the hash is kept for the key's TTL, and an unsalted SHA-256 of a
    body holding a password gives a weak password to anyone who reads the table. A replay that differs only there
    answers the first request's resource."""
    canonical = msgspec.json.encode(redact(msgspec.to_builtins(body)), order="sorted")
    return hashlib.sha256(canonical).hexdigest()


def claim(session: Session, *, scope: str, key: str, body_hash: str, ttl_hours: int) -> list[str] | None:
    """Reserve `key` for this request in the current transaction.

    Returns None when the key is new (the caller does the work, then `record`s
    it), or the ids created by the earlier request with the same key and body.
    A concurrent request with the same key waits on the row lock until the
    first commits, then sees its result.
    """
    params = {"scope": scope, "key": key, "hash": body_hash, "ttl_hours": ttl_hours}
    if session.execute(query("claim_idempotency_key"), params).first() is not None:
        return None
    stored_hash, resource_ids = session.execute(query("idempotency_key_result"), {"scope": scope, "key": key}).one()
    if stored_hash != body_hash:
        raise Conflict(
            "this Idempotency-Key was used with a different request body",
            code="idempotency_key_reused",
        )
    return list(resource_ids.get("ids", []))


def record(session: Session, *, scope: str, key: str, ids: list[str]) -> None:
    """Remember what the request with `key` created."""
    session.execute(
        query("record_idempotency_key"), {"scope": scope, "key": key, "ids": msgspec.json.encode({"ids": ids}).decode()}
    )


def release(session: Session, *, scope: str, key: str) -> None:
    """Give back a claimed key whose request made nothing but commits (a retry with it then does the work)."""
    session.execute(query("release_idempotency_key"), {"scope": scope, "key": key})


def scope_of(action: str, resource_id: uuid.UUID | None, user_id: uuid.UUID) -> str:
    """The one scope format of a key: the route's declared action, the resource it acts on, and the caller."""
    return f"{action} {resource_id or '-'} {user_id}"


def create_once(
    session: Session,
    *,
    key: str | None,
    scope: str,
    body: Any,
    ttl_hours: int,
    create: Callable[[], list[uuid.UUID]],
) -> tuple[list[uuid.UUID], bool]:
    """Run `create` once per Idempotency-Key (when one is given); returns the ids made and whether this is a replay.

    A replay returns the first request's ids without calling `create`; the same key with another body is a 409.
    """
    if not key:
        return create(), False
    earlier = claim(session, scope=scope, key=key, body_hash=request_hash(body), ttl_hours=ttl_hours)
    if earlier is not None:
        return [uuid.UUID(i) for i in earlier], True
    ids = create()
    record(session, scope=scope, key=key, ids=[str(i) for i in ids])
    return ids, False
