"""Typed models of scheduling: deployments and the occurrences of their fire times."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, CheckConstraint, ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, created_at_column, trigram_indexes
from app.scheduling.policies import DstFold, DstGap, MisfirePolicy, OverlapPolicy

#: What became of a fire time; `plan_failed`: the scheduler could not plan or write it (see the reason).
OUTCOMES = (
    "run",
    "misfire_skipped",
    "coalesced",
    "overlap_skipped",
    "paused",
    "dst_skipped",
    "buffered",
    "plan_failed",
)


def _one_of(column: str, values: Iterable[str]) -> str:
    return f"{column} IN ({', '.join(repr(str(v)) for v in values)})"


class Deployment(Base):
    """A pipeline on a schedule, with its parameters and policies."""

    __tablename__ = "deployments"
    __table_args__ = (
        UniqueConstraint("namespace_id", "name"),
        CheckConstraint(_one_of("misfire_policy", MisfirePolicy), name="misfire_policy"),
        CheckConstraint(_one_of("overlap_policy", OverlapPolicy), name="overlap_policy"),
        CheckConstraint(f"{_one_of('dst_gap', DstGap)} AND {_one_of('dst_fold', DstFold)}", name="dst"),
        Index("ix_deployments_due", "next_run_at", postgresql_where=text("enabled AND next_run_at IS NOT NULL")),
        *trigram_indexes("deployments"),
    )
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    namespace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("namespaces.id", ondelete="RESTRICT"))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(String(2000), server_default="")
    pipeline_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("pipelines.id", ondelete="RESTRICT"))
    #: A pinned pipeline version, or None for the latest at each fire time.
    pipeline_version: Mapped[int | None] = mapped_column(Integer)
    params: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'::jsonb"))
    schedule: Mapped[dict[str, Any]]
    start_at: Mapped[datetime | None]
    end_at: Mapped[datetime | None]
    misfire_policy: Mapped[str] = mapped_column(String(16))
    misfire_grace_seconds: Mapped[int] = mapped_column(Integer)
    max_catch_up: Mapped[int] = mapped_column(Integer)
    max_concurrent_runs: Mapped[int] = mapped_column(Integer)
    overlap_policy: Mapped[str] = mapped_column(String(16))
    dst_gap: Mapped[str] = mapped_column(String(8))
    dst_fold: Mapped[str] = mapped_column(String(8))
    max_retries: Mapped[int] = mapped_column(Integer)
    #: Retry backoff handed to each run; None takes the instance default (CONVEYOR_RETRY_*).
    retry_backoff_seconds: Mapped[float | None]
    retry_backoff_max_seconds: Mapped[float | None]
    retry_jitter: Mapped[float | None]
    timeout_seconds: Mapped[int | None] = mapped_column(Integer)
    enabled: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    paused_at: Mapped[datetime | None]
    next_run_at: Mapped[datetime | None]
    #: The newest fire time already handled (run or occurrence): the schedule loop continues after it.
    last_scheduled_for: Mapped[datetime | None]
    created_by: Mapped[uuid.UUID | None]
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = created_at_column()


class Occurrence(Base):
    """What became of one fire time: a run, or the reason there is none."""

    __tablename__ = "occurrences"
    __table_args__ = (
        UniqueConstraint("deployment_id", "scheduled_for"),
        CheckConstraint(_one_of("outcome", OUTCOMES), name="outcome"),
        CheckConstraint(
            "fire_times >= 1 AND (first_scheduled_for IS NULL) = (fire_times = 1)"
            " AND (first_scheduled_for IS NULL OR first_scheduled_for < scheduled_for)",
            name="range",
        ),
        Index("ix_occurrences_recorded", "recorded_at"),
        Index("ix_occurrences_missed", "scheduled_for", postgresql_where=text("outcome <> 'run'")),
    )
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    deployment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("deployments.id", ondelete="CASCADE"))
    scheduled_for: Mapped[datetime]
    outcome: Mapped[str] = mapped_column(String(20))
    run_id: Mapped[uuid.UUID | None]
    reason: Mapped[str] = mapped_column(String(500), server_default="")
    #: Why, as a stable code (app.scheduling.reasons.ReasonCode) the console words; `reason` is the English detail.
    reason_code: Mapped[str] = mapped_column(String(32), server_default="unspecified")
    recorded_at: Mapped[datetime] = created_at_column()
    #: How many fire times the row stands for: 1, or a range of missed ones ending at `scheduled_for`.
    fire_times: Mapped[int] = mapped_column(Integer, server_default=text("1"))
    #: The first fire time of a range (None for a single fire time).
    first_scheduled_for: Mapped[datetime | None]
