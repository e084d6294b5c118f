"""A database migrated where the server had no pg_trgm gets the trigram indexes at its next `conveyor migrate` once
the server has it: they are created (CONCURRENTLY) when missing or left invalid, and nothing happens when all are
there."""

from __future__ import annotations

import argparse
import runpy
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine, text

from app.cli import admin
from app.db import migrate
from app.db.base import Base
from app.db.queries import SQL_ROOT
from app.db.trigrams import TRIGRAM_INDEXES, TrigramIndex
from app.settings import Settings
from tests.servers import TestServers

NAMES = {index.name for index in TRIGRAM_INDEXES}


@pytest.fixture
def without_trigrams(servers: TestServers) -> Iterator[tuple[str, Engine]]:
    """A private database at head as a server without pg_trgm leaves it: no extension, no trigram index."""
    url = servers.create_migrated_database()
    sqlalchemy_url = Settings(database_url=url).sqlalchemy_url
    engine = create_engine(sqlalchemy_url)
    with engine.begin() as connection:
        connection.execute(text("DROP EXTENSION pg_trgm CASCADE"))  # its indexes go with it
    yield url, engine
    engine.dispose()
    servers.drop_database(url)


def valid_trigram_indexes(engine: Engine) -> set[str]:
    with engine.connect() as connection:
        return set(
            connection.execute(
                text(
                    "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                    "WHERE i.indisvalid AND c.relname LIKE '%\\_trgm'"
                )
            ).scalars()
        )


def test_every_trigram_index_listed_is_one_a_model_declares() -> None:
    declared = {index.name for table in Base.metadata.tables.values() for index in table.indexes}
    assert declared >= NAMES
    assert {name for name in declared if name.endswith("_trgm")} == NAMES


def test_migration_0026_made_the_indexes_listed_today() -> None:
    """0026 holds its own copy (a revision imports no application code): the list it made is today's."""
    frozen = runpy.run_path(str(SQL_ROOT / "migrations" / "versions" / "0026_name_search_trigrams.py"))["INDEXES"]
    assert [TrigramIndex(*index) for index in frozen] == list(TRIGRAM_INDEXES)


def test_the_next_migrate_creates_the_missing_trigram_indexes(without_trigrams: tuple[str, Engine]) -> None:
    url, engine = without_trigrams
    assert valid_trigram_indexes(engine) == set()
    # When the database, at head already, is migrated again on a server that has pg_trgm
    built = migrate.upgrade(Settings(database_url=url).sqlalchemy_url)
    # Then every trigram index is there, valid, and a list's search reads it
    assert set(built) == NAMES
    assert valid_trigram_indexes(engine) == NAMES
    with engine.begin() as connection:
        connection.execute(text("SET LOCAL enable_seqscan = off"))
        plan = "\n".join(
            connection.execute(text("EXPLAIN SELECT id FROM datasets WHERE name ILIKE '%quokka%'")).scalars()
        )
    assert "ix_datasets_name_trgm" in plan, plan
    # And once more: nothing to do
    assert migrate.upgrade(Settings(database_url=url).sqlalchemy_url) == []
    assert migrate.current_revision(engine) == migrate.head_revision()


def test_an_index_left_invalid_is_built_again_by_the_cli(without_trigrams: tuple[str, Engine]) -> None:
    url, engine = without_trigrams
    assert migrate.upgrade(Settings(database_url=url).sqlalchemy_url)
    # Given an index left invalid, as an interrupted CREATE INDEX CONCURRENTLY leaves it
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE pg_index SET indisvalid = false WHERE indexrelid = 'ix_users_email_trgm'::regclass")
        )
    assert "ix_users_email_trgm" not in valid_trigram_indexes(engine)
    # When the operator runs `conveyor migrate`
    assert admin.migrate(argparse.Namespace(downgrade=None, revision="head"), Settings(database_url=url)) == 0
    # Then it is valid again
    assert valid_trigram_indexes(engine) == NAMES
