"""The audit log: one append-only entry per login and per state-changing call, in the change's transaction."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, cast

import msgspec
from sqlalchemy import Table, and_, insert, or_, select
from sqlalchemy.orm import Session

from app.db.accounts import AuditEntry
from app.domain.csv_cells import defused_text
from app.domain.namespaces import visible_namespaces
from app.domain.pagination import decode_row_cursor
from app.domain.permissions import Permission, Principal

#: Keys whose values never reach the audit log.
SECRET_KEYS = frozenset(
    {
        "password",
        "current_password",
        "new_password",
        "token",
        "access_token",
        "refresh_token",
        "secret",
        "password_hash",
        "temporary_password",
        "token_hash",
    }
)
REDACTED = "[redacted]"

#: One audit entry (the table's defaults fill in `id` and `at`).
_INSERT_ENTRY = insert(cast(Table, AuditEntry.__table__))


def redact(value: Any) -> Any:
    """A copy of `value` with every secret-looking field replaced.

    Without recursion: a request's params nested 500 deep (well within what the JSON decoder takes) passed
    Python's recursion limit here, and POST /deployments answered 500.
    """
    root: list[Any] = [None]
    stack: list[tuple[Any, Any, Any]] = [(value, root, 0)]
    while stack:
        item, parent, slot = stack.pop()
        if isinstance(item, dict):
            copied: dict[Any, Any] = {}
            for key, child in item.items():
                if str(key).lower() in SECRET_KEYS:
                    copied[key] = REDACTED
                else:
                    copied[key] = None  # a place kept for the key's order, filled when the child is popped
                    stack.append((child, copied, key))
            parent[slot] = copied
        elif isinstance(item, list):
            items: list[Any] = [None] * len(item)
            stack.extend((child, items, i) for i, child in enumerate(item))
            parent[slot] = items
        else:
            parent[slot] = item
    return root[0]


@dataclass(frozen=True)
class AuditContext:
    """Who is acting and from where; built once per request."""

    principal: Principal | None
    request_id: str | None = None
    client_address: str | None = None
    user_agent: str | None = None
    actor_name: str | None = field(default=None)
    #: The user acting when there is no principal: one this request has just signed in or registered.
    actor_user_id: uuid.UUID | None = None

    def anonymous(self, actor_name: str) -> AuditContext:
        """The same request, acted by someone not (yet) signed in, named as they called themselves."""
        return replace(self, principal=None, actor_name=actor_name[:200], actor_user_id=None)

    def as_user(self, user_id: uuid.UUID, username: str) -> AuditContext:
        """The same request, acted by the user it has just signed in or up (it carried no token: no principal)."""
        return replace(self, principal=None, actor_name=username, actor_user_id=user_id)


def record(
    session: Session,
    ctx: AuditContext,
    *,
    action: str,
    outcome: str = "success",
    resource_type: str | None = None,
    resource_id: str | uuid.UUID | None = None,
    namespace_id: uuid.UUID | None = None,
    status_code: int | None = None,
    error_code: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Add an entry to the current transaction: it commits with the change, or not at all.

    A plain INSERT on the table, not an ORM object: the unit of work cost a submit a millisecond of CPU at
    its commit. The audit log has no foreign keys, so writing it before pending ORM changes are flushed is safe.
    """
    session.execute(
        _INSERT_ENTRY,
        entry(
            ctx,
            action=action,
            outcome=outcome,
            resource_type=resource_type,
            resource_id=resource_id,
            namespace_id=namespace_id,
            status_code=status_code,
            error_code=error_code,
            details=details,
        ),
    )


def entry(
    ctx: AuditContext,
    *,
    action: str,
    outcome: str = "success",
    resource_type: str | None = None,
    resource_id: str | uuid.UUID | None = None,
    namespace_id: uuid.UUID | None = None,
    status_code: int | None = None,
    error_code: str | None = None,
    details: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The columns of one entry (the table's defaults fill in `id` and `at`), as `record` writes them.

    Also for a statement that writes its change and its entry at once (`insert_runs`' `audit`).
    """
    principal = ctx.principal
    return {
        "actor_user_id": principal.user_id if principal else ctx.actor_user_id,
        "actor_name": principal.username if principal else ctx.actor_name,
        "actor_token_id": principal.token_id if principal and principal.token_kind == "api" else None,
        "action": action,
        "resource_type": resource_type,
        "resource_id": str(resource_id) if resource_id is not None else None,
        "namespace_id": namespace_id,
        "outcome": outcome,
        "status_code": status_code,
        "error_code": error_code,
        "request_id": ctx.request_id,
        "client_address": ctx.client_address,
        "user_agent": (ctx.user_agent or "")[:400] or None,
        "details": msgspec.to_builtins(redact(details or {})),
    }


class AuditFilters(msgspec.Struct, kw_only=True):
    user_id: uuid.UUID | None = None
    action: str | None = None
    resource_type: str | None = None
    resource_id: str | None = None
    namespace_id: uuid.UUID | None = None
    outcome: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def _query(filters: AuditFilters, visible: list[uuid.UUID] | None) -> Any:
    query = select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    if visible is not None:
        query = query.where(AuditEntry.namespace_id.in_(visible))
    for column, value in (
        (AuditEntry.actor_user_id, filters.user_id),
        (AuditEntry.action, filters.action),
        (AuditEntry.resource_type, filters.resource_type),
        (AuditEntry.resource_id, filters.resource_id),
        (AuditEntry.namespace_id, filters.namespace_id),
        (AuditEntry.outcome, filters.outcome),
    ):
        if value is not None:
            query = query.where(column == value)
    if filters.since is not None:
        query = query.where(AuditEntry.at >= filters.since)
    if filters.until is not None:
        query = query.where(AuditEntry.at < filters.until)
    return query


def list_entries(
    session: Session, principal: Principal, filters: AuditFilters, *, limit: int, cursor: str | None
) -> list[AuditEntry]:
    """Entries of the namespaces the caller may audit (all, for superusers), newest first."""
    query = _query(filters, visible_namespaces(session, principal, Permission.AUDIT_READ)).limit(limit + 1)
    if cursor:
        at, last_id = decode_row_cursor(cursor)  # the cursor's id is a UUID carrying the entry's integer id
        query = query.where(or_(AuditEntry.at < at, and_(AuditEntry.at == at, AuditEntry.id < last_id)))
    return list(session.scalars(query))


EXPORT_COLUMNS = [
    "id",
    "at",
    "actor_user_id",
    "actor_name",
    "actor_token_id",
    "action",
    "resource_type",
    "resource_id",
    "namespace_id",
    "outcome",
    "status_code",
    "error_code",
    "request_id",
    "client_address",
    "user_agent",
    "details",
]


def export(
    session: Session,
    principal: Principal,
    filters: AuditFilters,
    *,
    fmt: str,
    batch: int = 1000,
    limit: int | None = None,
) -> Iterator[bytes]:
    """Stream matching entries (newest first, at most `limit`) as CSV or NDJSON, `batch` rows at a time."""
    table = AuditEntry.__table__
    visible = visible_namespaces(session, principal, Permission.AUDIT_READ)
    query = _query(filters, visible).with_only_columns(*(table.c[c] for c in EXPORT_COLUMNS))
    if limit is not None:
        query = query.limit(limit)
    result = session.connection().execution_options(stream_results=True, max_row_buffer=batch).execute(query)
    encoder = msgspec.json.Encoder()
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(EXPORT_COLUMNS)
        for partition in result.partitions(batch):
            for row in partition:
                writer.writerow(_csv_value(v) for v in row)
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
        if buffer.tell():
            yield buffer.getvalue().encode()
        return
    for partition in result.partitions(batch):
        yield b"".join(encoder.encode(dict(zip(EXPORT_COLUMNS, row, strict=True))) + b"\n" for row in partition)


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return defused_text(msgspec.json.encode(value).decode())
    return defused_text(value) if isinstance(value, str) else value
