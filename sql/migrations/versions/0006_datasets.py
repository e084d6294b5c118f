"""The data center: uploads (resumable or in one request), datasets, their immutable versions, and events.

An import is a run (kind 'ingest') that names its dataset: runs.dataset_id.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

TS = sa.TIMESTAMP(timezone=True)


def _now() -> sa.TextClause:
    return sa.text("now()")


def upgrade() -> None:
    op.create_table(
        "uploads",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column(
            "namespace_id", UUID(as_uuid=True), sa.ForeignKey("namespaces.id", ondelete="RESTRICT"), nullable=False
        ),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("received", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("ranges", JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")),
        sa.Column("sha256", sa.String(64)),
        sa.Column("status", sa.String(16), nullable=False, server_default="open"),
        sa.Column("created_by", UUID(as_uuid=True)),
        sa.Column("created_at", TS, nullable=False, server_default=_now()),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("completed_at", TS),
        sa.CheckConstraint("status IN ('open', 'complete', 'expired')", name="status"),
        sa.CheckConstraint("size >= 0 AND received >= 0", name="sizes"),
    )
    op.create_index("ix_uploads_open_expires", "uploads", ["expires_at"], postgresql_where=sa.text("status = 'open'"))

    op.create_table(
        "datasets",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column(
            "namespace_id", UUID(as_uuid=True), sa.ForeignKey("namespaces.id", ondelete="RESTRICT"), nullable=False
        ),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column("tags", ARRAY(sa.String(64)), nullable=False, server_default=sa.text("'{}'")),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("current_version", sa.Integer),
        sa.Column("upload_id", UUID(as_uuid=True), sa.ForeignKey("uploads.id", ondelete="SET NULL")),
        sa.Column("file_format", sa.String(16)),
        sa.Column("last_run_id", UUID(as_uuid=True)),
        sa.Column("last_error", sa.Text),
        sa.Column("created_by", UUID(as_uuid=True)),
        sa.Column("created_at", TS, nullable=False, server_default=_now()),
        sa.Column("updated_at", TS, nullable=False, server_default=_now()),
        sa.Column("deleted_at", TS),
        sa.Column("purged_at", TS),
        sa.CheckConstraint("source IN ('uploaded', 'generated')", name="source"),
        sa.CheckConstraint("status IN ('uploaded', 'importing', 'ready', 'failed')", name="status"),
    )
    op.create_index(
        "uq_datasets_namespace_name",
        "datasets",
        ["namespace_id", "name"],
        unique=True,
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.create_index("ix_datasets_created", "datasets", ["created_at", "id"])
    op.create_index("ix_datasets_tags", "datasets", ["tags"], postgresql_using="gin")
    op.create_index("ix_datasets_deleted", "datasets", ["deleted_at"], postgresql_where=sa.text("purged_at IS NULL"))

    op.create_table(
        "dataset_versions",
        sa.Column("dataset_id", UUID(as_uuid=True), sa.ForeignKey("datasets.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("run_id", UUID(as_uuid=True), nullable=False),
        sa.Column("upload_id", UUID(as_uuid=True)),
        sa.Column("created_at", TS, nullable=False, server_default=_now()),
        sa.Column("row_count", sa.BigInteger, nullable=False),
        sa.Column("size_bytes", sa.BigInteger, nullable=False),
        sa.Column("source_bytes", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("rejected_rows", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("columns", JSONB, nullable=False),
        sa.Column("config", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
        sa.Column("warnings", JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")),
        sa.Column("lineage", JSONB),
        sa.UniqueConstraint("run_id", name="uq_dataset_versions_run_id"),
    )

    op.create_table(
        "events",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("occurred_at", TS, nullable=False, server_default=_now()),
        sa.Column("trace_id", sa.String(64)),
        sa.Column("producer", sa.String(200), nullable=False),
        sa.Column("namespace_id", UUID(as_uuid=True)),
        sa.Column("dataset_id", UUID(as_uuid=True)),
        sa.Column("dataset_version", sa.Integer),
        sa.Column("run_id", UUID(as_uuid=True)),
        sa.Column("payload", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
    )
    op.create_index("ix_events_type_occurred", "events", ["type", "occurred_at"])
    op.create_index("ix_events_dataset", "events", ["dataset_id", "occurred_at"])

    op.add_column("runs", sa.Column("dataset_id", UUID(as_uuid=True)))
    op.create_index(
        "ix_runs_dataset_created",
        "runs",
        ["dataset_id", "created_at", "id"],
        postgresql_where=sa.text("dataset_id IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_runs_dataset_created", table_name="runs")
    op.drop_column("runs", "dataset_id")
    for table in ("events", "dataset_versions", "datasets", "uploads"):
        op.drop_table(table)
