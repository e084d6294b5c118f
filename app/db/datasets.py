"""Typed models of the data center: uploads, datasets, their immutable versions, and domain events."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, created_at_column, trigram_indexes


class DatasetStatus(StrEnum):
    """A dataset's state, kept by the domain (imports, pipeline outputs) and the reaper, never fixed up on read."""

    UPLOADED = "uploaded"  #: a raw file not imported yet
    IMPORTING = "importing"  #: an import (or a pipeline writing it) under way
    READY = "ready"  #: a readable version
    FAILED = "failed"  #: the first import failed


DATASET_STATUSES = tuple(s.value for s in DatasetStatus)
DATASET_SOURCES = ("uploaded", "generated")


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Upload(Base):
    """A raw file arriving in one request or in chunks (resumable); its bytes live under the data root."""

    __tablename__ = "uploads"
    __table_args__ = (
        CheckConstraint("status IN ('open', 'complete', 'expired')", name="status"),
        CheckConstraint("size >= 0 AND received >= 0", name="sizes"),
        Index("ix_uploads_open_expires", "expires_at", postgresql_where=text("status = 'open'")),
        Index("ix_uploads_created", "created_at", "id"),  # the list's order, newest first
        *trigram_indexes("uploads"),
    )
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    namespace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("namespaces.id", ondelete="RESTRICT"))
    #: The client's file name, made safe for display; never used to build a path.
    filename: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(BigInteger)
    received: Mapped[int] = mapped_column(BigInteger, server_default="0")
    #: Byte ranges received so far, merged: [[start, end), ...].
    ranges: Mapped[list[list[int]]] = mapped_column(JSONB, server_default=text("'[]'::jsonb"))
    sha256: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), server_default="open")
    created_by: Mapped[uuid.UUID | None]
    created_at: Mapped[datetime] = created_at_column()
    expires_at: Mapped[datetime]
    completed_at: Mapped[datetime | None]


class Dataset(Base):
    """A named table of data: an uploaded file imported into versions, or a pipeline's output."""

    __tablename__ = "datasets"
    __table_args__ = (
        CheckConstraint(_one_of("source", DATASET_SOURCES), name="source"),
        CheckConstraint(_one_of("status", DATASET_STATUSES), name="status"),
        Index(
            "uq_datasets_namespace_name",
            "namespace_id",
            "name",
            unique=True,
            postgresql_where=text("deleted_at IS NULL"),
        ),
        Index("ix_datasets_created", "created_at", "id"),
        Index("ix_datasets_tags", "tags", postgresql_using="gin"),
        Index("ix_datasets_deleted", "deleted_at", postgresql_where=text("purged_at IS NULL")),
        *trigram_indexes("datasets"),
    )
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    namespace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("namespaces.id", ondelete="RESTRICT"))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, server_default="")
    tags: Mapped[list[str]] = mapped_column(ARRAY(String(64)), server_default=text("'{}'"))
    source: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    current_version: Mapped[int | None] = mapped_column(Integer)
    #: The raw file the next import reads.
    upload_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("uploads.id", ondelete="SET NULL"))
    #: The raw file's format as its content says (csv, json, ndjson, xlsx, ...).
    file_format: Mapped[str | None] = mapped_column(String(16))
    #: The latest import (or producing) run: its progress is the dataset's.
    last_run_id: Mapped[uuid.UUID | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[uuid.UUID | None]
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = created_at_column()
    #: Soft delete: hidden at once, files removed by the cleanup job after the retention period.
    deleted_at: Mapped[datetime | None]
    purged_at: Mapped[datetime | None]


class DatasetVersion(Base):
    """One immutable version: a Parquet file written by one run, with its schema and statistics."""

    __tablename__ = "dataset_versions"
    __table_args__ = (UniqueConstraint("run_id"),)
    dataset_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[uuid.UUID]
    #: The attempt of `run_id` that wrote the files (app.paths.version_key); null for versions written before 0025,
    #: whose files sit in the run's folder itself.
    attempt: Mapped[int | None]
    upload_id: Mapped[uuid.UUID | None]
    created_at: Mapped[datetime] = created_at_column()
    row_count: Mapped[int] = mapped_column(BigInteger)
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    source_bytes: Mapped[int] = mapped_column(BigInteger, server_default="0")
    rejected_rows: Mapped[int] = mapped_column(BigInteger, server_default="0")
    #: [{name, type, nulls, min, max}] in column order.
    columns: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    config: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'::jsonb"))
    warnings: Mapped[list[str]] = mapped_column(JSONB, server_default=text("'[]'::jsonb"))
    #: The warnings as notices ({code, message, ...params}), in the same order; null for versions written before 0020.
    notices: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONB)
    #: For generated datasets: the producing run, pipeline version and input dataset versions.
    lineage: Mapped[dict[str, Any] | None]


class Event(Base):
    """A domain event (dataset.ingested, dataset.import.failed, ...), written with the change it reports."""

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_type_occurred", "type", "occurred_at"),
        Index("ix_events_dataset", "dataset_id", "occurred_at"),
    )
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    type: Mapped[str] = mapped_column(String(64))
    occurred_at: Mapped[datetime] = created_at_column()
    trace_id: Mapped[str | None] = mapped_column(String(64))
    producer: Mapped[str] = mapped_column(String(200))
    namespace_id: Mapped[uuid.UUID | None]
    dataset_id: Mapped[uuid.UUID | None]
    dataset_version: Mapped[int | None] = mapped_column(Integer)
    run_id: Mapped[uuid.UUID | None]
    payload: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'::jsonb"))
