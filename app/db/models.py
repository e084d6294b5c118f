"""Typed models of the core tables: namespaces, pipelines, runs, events, outbox, idempotency."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.core.states import ACTIVE, CANCEL_AT_ONCE, RunKind, RunStatus, RunTrigger, sql_list
from app.db.base import Base, created_at_column, trigram_indexes


def _one_of(column: str, values: list[str]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Namespace(Base):
    """A tenant boundary: every pipeline, run and dataset belongs to one."""

    __tablename__ = "namespaces"
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(63), unique=True)
    description: Mapped[str] = mapped_column(Text, server_default="")
    created_at: Mapped[datetime] = created_at_column()


class Pipeline(Base):
    """A named pipeline; its spec lives in immutable versions."""

    __tablename__ = "pipelines"
    __table_args__ = (UniqueConstraint("namespace_id", "name"), *trigram_indexes("pipelines"))
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    namespace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("namespaces.id", ondelete="RESTRICT"))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, server_default="")
    latest_version: Mapped[int] = mapped_column(Integer, server_default="1")
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = created_at_column()
    archived_at: Mapped[datetime | None]


class PipelineVersion(Base):
    """One immutable version of a pipeline spec; runs point at the version they ran."""

    __tablename__ = "pipeline_versions"
    pipeline_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("pipelines.id", ondelete="CASCADE"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    spec: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = created_at_column()
    created_by: Mapped[uuid.UUID | None]
    #: What changed in this version, in the author's words.
    message: Mapped[str] = mapped_column(Text, server_default="")


class Run(Base):
    """A unit of work (a pipeline run or a dataset import) and its whole lifecycle."""

    __tablename__ = "runs"
    __table_args__ = (
        CheckConstraint(_one_of("status", [s.value for s in RunStatus]), name="status"),
        CheckConstraint(_one_of("kind", [k.value for k in RunKind]), name="kind"),
        CheckConstraint(_one_of("trigger", [t.value for t in RunTrigger]), name="trigger"),
        CheckConstraint("attempt >= 0 AND max_retries >= 0 AND timeout_seconds > 0", name="counts"),
        Index("ix_runs_created", "created_at", "id"),
        Index("ix_runs_status_created", "status", "created_at", "id"),
        Index("ix_runs_kind_created", "kind", "created_at", "id"),
        Index("ix_runs_trigger_created", "trigger", "created_at", "id"),
        Index("ix_runs_pipeline_created", "pipeline_id", "created_at", "id"),
        Index(
            "ix_runs_deployment_created",
            "deployment_id",
            "created_at",
            "id",
            postgresql_where=text("deployment_id IS NOT NULL"),
        ),
        Index("ix_runs_running_heartbeat", "heartbeat_at", postgresql_where=text("status = 'RUNNING'")),
        Index("ix_runs_queued_dispatched", "dispatched_at", postgresql_where=text("status = 'QUEUED'")),
        Index(
            "ix_runs_cancel_requested_unstarted",
            "id",
            postgresql_where=text(f"cancel_requested_at IS NOT NULL AND status IN ({sql_list(CANCEL_AT_ONCE)})"),
        ),
        Index(
            "uq_runs_deployment_scheduled_for",
            "deployment_id",
            "scheduled_for",
            unique=True,
            postgresql_where=text("trigger IN ('schedule', 'backfill')"),
        ),
        Index("ix_runs_held", "deployment_id", "scheduled_for", postgresql_where=text("held")),
        Index(
            "ix_runs_dataset_created", "dataset_id", "created_at", "id", postgresql_where=text("dataset_id IS NOT NULL")
        ),
        Index(
            "ix_runs_finished_unpurged",
            "finished_at",
            postgresql_where=text("finished_at IS NOT NULL AND logs_purged_at IS NULL"),
        ),
        Index(
            "ix_runs_deployment_active",
            "deployment_id",
            "status",
            postgresql_where=text(f"deployment_id IS NOT NULL AND status IN ({sql_list(ACTIVE)})"),
        ),
    )
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    namespace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("namespaces.id", ondelete="RESTRICT"))
    kind: Mapped[str] = mapped_column(String(16))
    trigger: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    pipeline_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("pipelines.id", ondelete="RESTRICT"))
    pipeline_version: Mapped[int | None] = mapped_column(Integer)
    deployment_id: Mapped[uuid.UUID | None]
    #: The dataset an ingest run imports into.
    dataset_id: Mapped[uuid.UUID | None]
    #: Who made the run: the API caller, or for a scheduled run the user who made its deployment.
    created_by: Mapped[uuid.UUID | None]
    #: A pipeline run's inputs, pinned when it was submitted: {name: {dataset_id, version}}.
    inputs: Mapped[dict[str, Any] | None]
    #: The reports of a pipeline's validate steps: rule counts and sample violations.
    validation: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONB)
    scheduled_for: Mapped[datetime | None]
    params: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'::jsonb"))
    priority: Mapped[int] = mapped_column(SmallInteger, server_default="0")
    attempt: Mapped[int] = mapped_column(Integer, server_default="0")
    #: Attempt count when the current retry budget started (a manual retry resets the budget).
    attempt_base: Mapped[int] = mapped_column(Integer, server_default="0")
    max_retries: Mapped[int] = mapped_column(Integer, server_default="0")
    retry_backoff_seconds: Mapped[float]
    retry_backoff_max_seconds: Mapped[float]
    retry_jitter: Mapped[float]
    timeout_seconds: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = created_at_column()
    queued_at: Mapped[datetime | None]
    dispatched_at: Mapped[datetime | None]
    #: The broker's id for the last message sent for this run, to ask the broker whether it still holds it.
    broker_message_id: Mapped[str | None] = mapped_column(String(64))
    #: The queue that message went to.
    broker_queue: Mapped[str | None] = mapped_column(String(100))
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    #: When retention removed the run's logs and events (the row stays for metrics).
    logs_purged_at: Mapped[datetime | None]
    heartbeat_at: Mapped[datetime | None]
    next_retry_at: Mapped[datetime | None]
    cancel_requested_at: Mapped[datetime | None]
    worker_id: Mapped[str | None] = mapped_column(String(200))
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_message: Mapped[str | None] = mapped_column(Text)
    progress: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'::jsonb"))
    log_lines: Mapped[int] = mapped_column(Integer, server_default="0")
    #: A scheduled run waiting for a free slot (overlap policy buffer_*): not sent until released.
    held: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))


class RunEvent(Base):
    """One state transition of a run (or a note such as a re-sent message): who, when, why."""

    __tablename__ = "run_events"
    __table_args__ = (Index("ix_run_events_run", "run_id", "id"),)
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    run_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(64))
    actor: Mapped[str] = mapped_column(String(200))
    attempt: Mapped[int] = mapped_column(Integer, server_default="0")
    details: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'::jsonb"))
    created_at: Mapped[datetime] = created_at_column()


class RunEarlierOutput(Base):
    """A dataset a pipeline run's attempts wrote before it was retried by hand, which starts it without an output:
    its attempts' folders there are still the run's to remove (the attempt-folder sweep, the next attempt)."""

    __tablename__ = "run_earlier_outputs"
    run_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    dataset_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)


class AttemptSweepPosition(Base):
    """Where a pass of the attempt-folder sweep (scheduler/attempt_sweep.py) stands in the runs that ended: after the
    run that ended at `after_at` with id `after_id`. Held FOR UPDATE by the one sweep going on."""

    __tablename__ = "attempt_sweep_positions"
    # "pass" is a Python keyword: the attribute is `sweep`, the column keeps its name
    sweep: Mapped[str] = mapped_column("pass", String(32), primary_key=True)
    after_at: Mapped[datetime]
    after_id: Mapped[uuid.UUID]


class RunLogChunk(Base):
    """A flushed batch of a run's log lines (NDJSON, numbered first_n..last_n): the durable log."""

    __tablename__ = "run_log_chunks"
    run_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    first_n: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_n: Mapped[int] = mapped_column(Integer)
    lines: Mapped[bytes] = mapped_column(LargeBinary)


class OutboxMessage(Base):
    """A message still to send to the broker, written in the same transaction as its cause; deleted once sent."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", text("priority DESC"), "available_at", "id"),
        Index("ix_outbox_available", "available_at"),
        Index("ix_outbox_run", "run_id"),
    )
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    run_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    queue: Mapped[str] = mapped_column(String(100))
    priority: Mapped[int] = mapped_column(SmallInteger, server_default="0")
    available_at: Mapped[datetime] = created_at_column()
    created_at: Mapped[datetime] = created_at_column()


class IdempotencyKey(Base):
    """A remembered Idempotency-Key: the request's hash and what it created."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (Index("ix_idempotency_keys_expires", "expires_at"),)
    scope: Mapped[str] = mapped_column(String(200), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    resource_ids: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = created_at_column()
    expires_at: Mapped[datetime]
