"""Run Alembic migrations from code (the CLI, `conveyor up` and the tests all come here)."""

from __future__ import annotations

import functools

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine
from sqlalchemy.pool import NullPool

from app.db.queries import SQL_ROOT
from app.db.trigrams import ensure_trigram_indexes


def alembic_config(sqlalchemy_url: str) -> Config:
    """An Alembic config pointing at `sql/migrations`."""
    config = Config()
    config.set_main_option("script_location", str(SQL_ROOT / "migrations"))
    config.set_main_option("sqlalchemy.url", sqlalchemy_url.replace("%", "%%"))
    return config


def upgrade(sqlalchemy_url: str, revision: str = "head", *, restart: bool = False) -> list[str]:
    """Migrate to `revision`; at head, also create the trigram indexes missing where the server has pg_trgm (one
    given pg_trgm after its database was migrated without: app/db/trigrams.py). The names of those created.

    Where the server has no pg_trgm this says so once, here, when it migrated the database (migration 0026 says
    nothing), and at a `conveyor migrate` by hand; a `restart` (`conveyor up` starting again) with nothing to
    migrate says it only at debug level, not at every start."""
    engine = create_engine(sqlalchemy_url, poolclass=NullPool)
    try:
        at_head = restart and current_revision(engine) == head_revision()
        command.upgrade(alembic_config(sqlalchemy_url), revision)
        if revision != "head":
            return []
        return ensure_trigram_indexes(engine, say_why_not=not at_head)
    finally:
        engine.dispose()


def downgrade(sqlalchemy_url: str, revision: str) -> None:
    command.downgrade(alembic_config(sqlalchemy_url), revision)


@functools.cache
def head_revision() -> str | None:
    """The newest migration in the code."""
    return ScriptDirectory.from_config(alembic_config("postgresql://")).get_current_head()


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()
