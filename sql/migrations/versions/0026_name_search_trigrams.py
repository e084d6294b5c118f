"""Trigram (pg_trgm) GIN indexes on every name a list's `?search=` reads, where the server has pg_trgm.

A search is `column ILIKE '%text%'` (app/domain/name_search.py): no B-tree serves it, so a rare word read every row
of the table (p95 at 200,000 uploads 190 ms, at 100,000 datasets 125-145 ms, on a loaded 2-core machine; every
pipeline, deployment and dataset for a search of runs). gin_trgm_ops serves ILIKE as the lists write it: case
folded, `%` and `_` escaped with `\\`, no rewrite to lower(name) LIKE needed. Chinese too, where the database's
ctype classes CJK characters as letters (checked under C.UTF-8, glibc 2.36, the local server's): under the C ctype
they are not word characters, a Chinese word gives no trigram, and the index is read whole (same answers, no
faster). A word of fewer than three characters (`销售`, `ab`) has no trigram either: Postgres then reads the table,
as before, with the same answers.

And uploads get the index of their list's order (created_at, id), everywhere: the list sorted every upload, with or
without a search (a common word's 66,000 matches out of 200,000 were read and sorted for a page of 50).

The embedded server (`pgserver`, what `make run` starts) ships no pg_trgm: there this revision creates nothing, and
the searches read the tables with the same answers. It says nothing of it: the migrate step that follows at head
(app.db.migrate.upgrade) says it once, for every trigram index (it logged the line too, so a first migration said
it twice). A database migrated so, on a server given
pg_trgm later, gets the indexes at its next `conveyor migrate` to head (app.db.migrate.upgrade; app/db/trigrams.py
holds today's list, which this revision's frozen copy must match). The extension stays on downgrade (other objects
may use it).

Revision ID: 0026_name_search_trigrams
Revises: 0025_version_attempts
Create Date: 2026-12-05
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from alembic import op

revision = "0026_name_search_trigrams"
down_revision = "0025_version_attempts"
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")

#: (index, table, column, partial-index condition): a frozen copy of app.db.trigrams.TRIGRAM_INDEXES as it was.
INDEXES = [
    ("ix_pipelines_name_trgm", "pipelines", "name", None),
    ("ix_deployments_name_trgm", "deployments", "name", None),
    ("ix_datasets_name_trgm", "datasets", "name", None),
    ("ix_uploads_filename_trgm", "uploads", "filename", None),
    ("ix_webhook_subscriptions_url_trgm", "webhook_subscriptions", "url", None),
    ("ix_webhook_subscriptions_description_trgm", "webhook_subscriptions", "description", None),
    ("ix_users_username_trgm", "users", "username", None),
    ("ix_users_email_trgm", "users", "email", None),
    ("ix_auth_tokens_name_trgm", "auth_tokens", "name", "kind = 'api'"),
]


def _has_pg_trgm(bind: sa.Connection) -> bool:
    """Whether pg_trgm is (or could now be) installed in this database; creates it if it can (why not is said by
    the migrate step, app.db.trigrams)."""
    if bind.execute(sa.text("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")).first():
        return True
    if not bind.execute(sa.text("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'")).first():
        return False
    try:
        with bind.begin_nested():
            bind.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
    except sa.exc.DBAPIError as error:
        log.debug("pg_trgm could not be created: %s", error.orig)
        return False
    return True


def upgrade() -> None:
    op.create_index("ix_uploads_created", "uploads", ["created_at", "id"])
    if not _has_pg_trgm(op.get_bind()):
        return
    for name, table, column, where in INDEXES:
        op.create_index(
            name,
            table,
            [column],
            postgresql_using="gin",
            postgresql_ops={column: "gin_trgm_ops"},
            postgresql_where=sa.text(where) if where else None,
        )


def downgrade() -> None:
    for name, table, _, _ in INDEXES:
        op.drop_index(name, table_name=table, if_exists=True)
    op.drop_index("ix_uploads_created", table_name="uploads")
