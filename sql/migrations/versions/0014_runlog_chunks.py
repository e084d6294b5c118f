"""Run logs move into Postgres: one row per flushed batch of a run's lines (`run_log_chunks`).

The NDJSON file under the local data root could only be read on the host that wrote it; API and worker
hosts share no disk, only Postgres and Redis. A row holds many lines (NDJSON bytes, numbered
`first_n`..`last_n`), so a line costs a few bytes of a compressed row rather than a row and an index entry
of its own. No foreign key: its check would cost every insert a lookup and a lock on the run; the cleanup
job deletes a run's chunks with its logs or with the run.

Revision ID: 0014_runlog_chunks
Revises: 0013_invite_revoked
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014_runlog_chunks"
down_revision = "0013_invite_revoked"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "run_log_chunks",
        sa.Column("run_id", sa.Uuid, primary_key=True),
        sa.Column("first_n", sa.Integer, primary_key=True),
        sa.Column("last_n", sa.Integer, nullable=False),
        sa.Column("lines", sa.LargeBinary, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("run_log_chunks")
