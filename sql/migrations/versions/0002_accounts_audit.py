"""Accounts, namespace memberships, tokens, invites and the append-only audit log.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
ROLES = "role IN ('viewer', 'operator', 'editor', 'admin')"


def _uuid(name: str, *args: object, **kwargs: object) -> sa.Column:
    return sa.Column(name, UUID(as_uuid=True), *args, **kwargs)  # type: ignore[arg-type]


def _now() -> sa.TextClause:
    return sa.text("now()")


def upgrade() -> None:
    op.create_table(
        "users",
        _uuid("id", primary_key=True),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("email", sa.String(320)),
        sa.Column("display_name", sa.String(200), nullable=False, server_default=""),
        sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column("is_superuser", sa.Boolean, nullable=False, server_default=sa.text("false")),
        sa.Column("is_disabled", sa.Boolean, nullable=False, server_default=sa.text("false")),
        sa.Column("must_change_password", sa.Boolean, nullable=False, server_default=sa.text("false")),
        sa.Column("created_at", TS, nullable=False, server_default=_now()),
        sa.Column("updated_at", TS, nullable=False, server_default=_now()),
        sa.Column("last_login_at", TS),
    )
    op.create_index("uq_users_username_lower", "users", [sa.text("lower(username)")], unique=True)
    op.create_table(
        "namespace_members",
        _uuid("namespace_id", sa.ForeignKey("namespaces.id", ondelete="CASCADE"), primary_key=True),
        _uuid("user_id", sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("created_at", TS, nullable=False, server_default=_now()),
        sa.CheckConstraint(ROLES, name="role"),
    )
    op.create_index("ix_namespace_members_user", "namespace_members", ["user_id"])
    op.create_table(
        "auth_tokens",
        _uuid("id", primary_key=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("kind", sa.String(16), nullable=False),
        _uuid("user_id", sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        _uuid("family_id", nullable=False),
        sa.Column("name", sa.String(200)),
        _uuid("namespace_id", sa.ForeignKey("namespaces.id", ondelete="CASCADE")),
        sa.Column("role", sa.String(16)),
        sa.Column("created_at", TS, nullable=False, server_default=_now()),
        sa.Column("expires_at", TS),
        sa.Column("used_at", TS),
        sa.Column("revoked_at", TS),
        sa.Column("last_used_at", TS),
        sa.CheckConstraint("kind IN ('access', 'refresh', 'api')", name="kind"),
        sa.CheckConstraint(f"role IS NULL OR {ROLES}", name="role"),
    )
    op.create_index("ix_auth_tokens_user", "auth_tokens", ["user_id", "kind"])
    op.create_index("ix_auth_tokens_family", "auth_tokens", ["family_id"])
    op.create_table(
        "invites",
        _uuid("id", primary_key=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("email", sa.String(320)),
        _uuid("namespace_id", sa.ForeignKey("namespaces.id", ondelete="CASCADE")),
        sa.Column("role", sa.String(16)),
        _uuid("created_by", sa.ForeignKey("users.id", ondelete="SET NULL")),
        sa.Column("created_at", TS, nullable=False, server_default=_now()),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("used_at", TS),
        sa.CheckConstraint(f"role IS NULL OR {ROLES}", name="role"),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("at", TS, nullable=False, server_default=_now()),
        _uuid("actor_user_id"),
        sa.Column("actor_name", sa.String(200)),
        _uuid("actor_token_id"),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("resource_type", sa.String(64)),
        sa.Column("resource_id", sa.String(200)),
        _uuid("namespace_id"),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("status_code", sa.Integer),
        sa.Column("error_code", sa.String(64)),
        sa.Column("request_id", sa.String(128)),
        sa.Column("client_address", sa.String(64)),
        sa.Column("user_agent", sa.String(400)),
        sa.Column("details", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
        sa.CheckConstraint("outcome IN ('success', 'failure', 'denied')", name="outcome"),
    )
    for name, columns in {
        "ix_audit_log_at": ["at", "id"],
        "ix_audit_log_actor": ["actor_user_id", "at", "id"],
        "ix_audit_log_action": ["action", "at", "id"],
        "ix_audit_log_resource": ["resource_type", "resource_id", "at", "id"],
        "ix_audit_log_namespace": ["namespace_id", "at", "id"],
    }.items():
        op.create_index(name, "audit_log", columns)
    op.execute("""
        CREATE FUNCTION audit_log_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'audit_log is append-only' USING ERRCODE = 'insufficient_privilege';
        END $$;
        CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_log
            FOR EACH STATEMENT EXECUTE FUNCTION audit_log_is_append_only();
    """)


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log")
    op.execute("DROP FUNCTION IF EXISTS audit_log_is_append_only()")
    for table in ("audit_log", "invites", "auth_tokens", "namespace_members", "users"):
        op.drop_table(table)
