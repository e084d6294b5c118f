"""Typed models of accounts: users, namespace memberships, tokens, invites, and the audit log."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, Boolean, CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, created_at_column, trigram_indexes

ROLES = ("viewer", "operator", "editor", "admin")
#: A namespace role by name, lowest first (each includes what the ones before it may do): the one type requests
#: and responses name a role with, so the OpenAPI document lists ROLES as its values.
RoleName = StrEnum("RoleName", [(v.upper(), v) for v in ROLES], module=__name__)  # type: ignore[misc]
TOKEN_KINDS = ("access", "refresh", "api")


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class User(Base):
    """A local account. `username` is unique ignoring case."""

    __tablename__ = "users"
    __table_args__ = (
        Index("uq_users_username_lower", text("lower(username)"), unique=True),
        *trigram_indexes("users"),
    )
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    email: Mapped[str | None] = mapped_column(String(320))
    display_name: Mapped[str] = mapped_column(String(200), server_default="")
    password_hash: Mapped[str] = mapped_column(Text)
    is_superuser: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    is_disabled: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    must_change_password: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = created_at_column()
    last_login_at: Mapped[datetime | None]


class Membership(Base):
    """A user's role in a namespace."""

    __tablename__ = "namespace_members"
    __table_args__ = (
        CheckConstraint(_one_of("role", ROLES), name="role"),
        Index("ix_namespace_members_user", "user_id"),
        Index("ix_namespace_members_created", "namespace_id", "created_at", "user_id"),  # the list's order
    )
    namespace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("namespaces.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = created_at_column()


class AuthToken(Base):
    """An opaque bearer token, stored only as its SHA-256. Refresh tokens rotate within a family."""

    __tablename__ = "auth_tokens"
    __table_args__ = (
        CheckConstraint(_one_of("kind", TOKEN_KINDS), name="kind"),
        CheckConstraint(f"role IS NULL OR {_one_of('role', ROLES)}", name="role"),
        Index("ix_auth_tokens_user", "user_id", "kind"),
        Index("ix_auth_tokens_family", "family_id"),
        # the lists of API tokens, newest first: one's own, and a namespace's
        Index("ix_auth_tokens_api_user", "user_id", "created_at", "id", postgresql_where=text("kind = 'api'")),
        Index(
            "ix_auth_tokens_api_namespace", "namespace_id", "created_at", "id", postgresql_where=text("kind = 'api'")
        ),
        *trigram_indexes("auth_tokens"),
    )
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    #: Access and refresh tokens of one login share a family; reusing a spent refresh token revokes it.
    family_id: Mapped[uuid.UUID]
    name: Mapped[str | None] = mapped_column(String(200))
    #: API tokens: the one namespace they work in, and the highest role they may use there.
    namespace_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("namespaces.id", ondelete="CASCADE"))
    role: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = created_at_column()
    expires_at: Mapped[datetime | None]
    used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]


class Invite(Base):
    """A one-time registration invite (registration mode `invite`)."""

    __tablename__ = "invites"
    __table_args__ = (
        CheckConstraint(f"role IS NULL OR {_one_of('role', ROLES)}", name="role"),
        Index("ix_invites_created", "created_at", "id"),  # the list's order, newest first
    )
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str | None] = mapped_column(String(320))
    namespace_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("namespaces.id", ondelete="CASCADE"))
    role: Mapped[str | None] = mapped_column(String(16))
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = created_at_column()
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    #: When an admin revoked it (its expiry moved to that moment too); None for one that was never revoked.
    revoked_at: Mapped[datetime | None]


class AuditEntry(Base):
    """Who did what to which resource, when, from where, and how it ended. Append-only (a trigger refuses edits)."""

    __tablename__ = "audit_log"
    __table_args__ = (
        CheckConstraint(_one_of("outcome", ("success", "failure", "denied")), name="outcome"),
        Index("ix_audit_log_at", "at", "id"),
        Index("ix_audit_log_actor", "actor_user_id", "at", "id"),
        Index("ix_audit_log_action", "action", "at", "id"),
        Index("ix_audit_log_resource", "resource_type", "resource_id", "at", "id"),
        Index("ix_audit_log_namespace", "namespace_id", "at", "id"),
    )
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = created_at_column()
    actor_user_id: Mapped[uuid.UUID | None]
    actor_name: Mapped[str | None] = mapped_column(String(200))
    actor_token_id: Mapped[uuid.UUID | None]
    action: Mapped[str] = mapped_column(String(64))
    resource_type: Mapped[str | None] = mapped_column(String(64))
    resource_id: Mapped[str | None] = mapped_column(String(200))
    namespace_id: Mapped[uuid.UUID | None]
    outcome: Mapped[str] = mapped_column(String(16))
    status_code: Mapped[int | None]
    error_code: Mapped[str | None] = mapped_column(String(64))
    request_id: Mapped[str | None] = mapped_column(String(128))
    client_address: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(400))
    details: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'::jsonb"))
