"""The trigram (pg_trgm) GIN indexes behind the lists' `?search=`: the one list of them, and their creation where the
server has pg_trgm.

The models declare them from TRIGRAM_INDEXES (app.db.base.trigram_indexes); migration 0026 created them from its
frozen copy of this list (a revision imports no application code; a test holds the two equal), and every
`conveyor migrate` to head (app.db.migrate.upgrade) creates those missing: a database migrated on a server without
pg_trgm (the embedded one) gets them once the server has it, with no migration to undo. A trigram index added later
goes here and in its own migration (with its own copy), which on a server without pg_trgm creates nothing either.

Where the server has no pg_trgm, only this module says so (the migrations stay silent): once when the database is
migrated, and at each `conveyor migrate` by hand; not at each start of `conveyor up` with nothing to migrate.
"""

from __future__ import annotations

import logging
from typing import NamedTuple

import sqlalchemy as sa

log = logging.getLogger("alembic.runtime.migration")


class TrigramIndex(NamedTuple):
    name: str
    table: str
    column: str
    #: A partial index's condition (SQL), or None.
    where: str | None = None


TRIGRAM_INDEXES: tuple[TrigramIndex, ...] = (
    TrigramIndex("ix_pipelines_name_trgm", "pipelines", "name"),
    TrigramIndex("ix_deployments_name_trgm", "deployments", "name"),
    TrigramIndex("ix_datasets_name_trgm", "datasets", "name"),
    TrigramIndex("ix_uploads_filename_trgm", "uploads", "filename"),
    TrigramIndex("ix_webhook_subscriptions_url_trgm", "webhook_subscriptions", "url"),
    TrigramIndex("ix_webhook_subscriptions_description_trgm", "webhook_subscriptions", "description"),
    TrigramIndex("ix_users_username_trgm", "users", "username"),
    TrigramIndex("ix_users_email_trgm", "users", "email"),
    TrigramIndex("ix_auth_tokens_name_trgm", "auth_tokens", "name", "kind = 'api'"),  # only API tokens have names
)


#: What a list's `?search=` does without the indexes, said after why there are none.
WITHOUT_INDEXES = (
    "no trigram indexes, so the lists' `?search=` reads whole tables (the same answers, slower on large ones); "
    "`conveyor migrate` creates the indexes once the server has pg_trgm"
)


def has_pg_trgm(bind: sa.Connection, *, say: bool = True) -> bool:
    """Whether pg_trgm is (or could now be) installed in this database; creates it if it can. Why not is logged as
    a warning when `say`, else at debug level (it was said when the database was migrated)."""
    level = logging.WARNING if say else logging.DEBUG
    if bind.execute(sa.text("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")).first():
        return True
    if not bind.execute(sa.text("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'")).first():
        log.log(level, "pg_trgm is not available on this server: %s", WITHOUT_INDEXES)
        return False
    try:
        with bind.begin_nested():  # the queries above began the transaction
            bind.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
    except sa.exc.DBAPIError as error:
        log.log(level, "pg_trgm could not be created (%s): %s", str(error.orig).strip(), WITHOUT_INDEXES)
        return False
    return True


def index_sql(index: TrigramIndex, *, concurrently: bool = False) -> str:
    """The CREATE INDEX of `index`, a no-op when one of its name exists."""
    where = f" WHERE {index.where}" if index.where else ""
    how = "CONCURRENTLY " if concurrently else ""
    return (
        f"CREATE INDEX {how}IF NOT EXISTS {index.name} ON {index.table} USING gin ({index.column} gin_trgm_ops){where}"
    )


def ensure_trigram_indexes(engine: sa.Engine, *, say_why_not: bool = True) -> list[str]:
    """Outside a migration (the database at head): create the trigram indexes missing, and rebuild any left invalid
    by an interrupted build, one at a time CONCURRENTLY (the tables stay writable meanwhile); the names built.

    Nothing where the server has no pg_trgm or the role may not create it: with a warning saying so when
    `say_why_not`, else a debug line.
    """
    with engine.connect() as connection:
        if not has_pg_trgm(connection, say=say_why_not):
            return []
        valid = dict(
            connection.execute(
                sa.text(
                    "SELECT c.relname, i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                    "WHERE c.relname = ANY(:names) AND c.relnamespace = to_regnamespace(current_schema())::oid"
                ),
                {"names": [index.name for index in TRIGRAM_INDEXES]},
            ).all()
        )
        connection.commit()
    todo = [index for index in TRIGRAM_INDEXES if not valid.get(index.name, False)]
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        for index in todo:
            if index.name in valid:  # invalid: a CONCURRENTLY build that did not finish
                connection.execute(sa.text(f"DROP INDEX CONCURRENTLY IF EXISTS {index.name}"))
            log.info("creating the trigram index %s on %s.%s", index.name, index.table, index.column)
            connection.execute(sa.text(index_sql(index, concurrently=True)))
    return [index.name for index in todo]
