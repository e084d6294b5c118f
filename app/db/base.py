"""Declarative base and column types shared by every model."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Index, MetaData, func, text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from app.db.trigrams import TRIGRAM_INDEXES

#: Stable constraint names, so migrations can refer to them.
NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Base of all models; timestamps are always timezone-aware UTC."""

    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {
        datetime: DateTime(timezone=True),
        uuid.UUID: UUID(as_uuid=True),
        dict[str, Any]: JSONB,
    }


def created_at_column() -> Mapped[datetime]:
    """A creation time set by the database clock, the one clock every process shares."""
    return mapped_column(server_default=func.now())


def trigram_indexes(table: str) -> tuple[Index, ...]:
    """The GIN indexes of `table`'s searched names' trigrams (pg_trgm), as app.db.trigrams lists them, so a `?search=`
    for part of a name (ILIKE '%…%', app/domain/name_search.py) reads an index instead of every row. They exist only
    where the server has pg_trgm (the embedded server has not): there the search reads every row, same answers."""
    return tuple(
        Index(
            index.name,
            index.column,
            postgresql_using="gin",
            postgresql_ops={index.column: "gin_trgm_ops"},
            postgresql_where=text(index.where) if index.where else None,
        )
        for index in TRIGRAM_INDEXES
        if index.table == table
    )
