"""Typed models of the hourly run rollup: finished runs summed per hour and dimension, kept by the scheduler.

The figures come from the run_partials view (itself over run_facts, the one
definition of each figure): triggers on `runs` queue a signed run_partials
row in `run_rollup_changes` whenever a run is counted or stops being counted,
and the scheduler folds that queue into these tables. See
sql/functions/run_rollup_capture.sql and app/domain/metric_sources.py.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Double, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base

#: The dimensions of a rollup row, in the order of its unique key.
RUN_KEY = (
    "hour",
    "namespace_id",
    "kind",
    "trigger",
    "status",
    "pipeline_id",
    "deployment_id",
    "error_code",
    "created_by",
)
LATENCY_KEY = ("hour", "namespace_id", "grain", "kind", "pipeline_id", "deployment_id", "measure", "bin")
#: The grains of the latency rollup: which dimensions a row keeps (the others are NULL).
GRAINS = ("kind", "pipeline", "deployment")


class _RunDimensions:
    hour: Mapped[datetime]
    namespace_id: Mapped[uuid.UUID]
    kind: Mapped[str] = mapped_column(String(16))
    trigger: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    pipeline_id: Mapped[uuid.UUID | None]
    deployment_id: Mapped[uuid.UUID | None]
    error_code: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[uuid.UUID | None]


class RunRollup(_RunDimensions, Base):
    """Finished runs per hour (of creation) and dimension, with the sums the run metrics are made of."""

    __tablename__ = "run_rollup"
    __table_args__ = (Index("uq_run_rollup_key", *RUN_KEY, unique=True, postgresql_nulls_not_distinct=True),)
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    runs: Mapped[int] = mapped_column(BigInteger)
    duration_n: Mapped[int] = mapped_column(BigInteger)
    duration_sum: Mapped[float] = mapped_column(Double)
    wait_n: Mapped[int] = mapped_column(BigInteger)
    wait_sum: Mapped[float] = mapped_column(Double)
    rows_sum: Mapped[int] = mapped_column(BigInteger)
    bytes_sum: Mapped[int] = mapped_column(BigInteger)


class RunLatencyRollup(Base):
    """Finished runs' durations and queue waits per hour, as counts per log-scale bin (for percentiles).

    Each run is binned at three grains, so a percentile over a namespace reads
    a few hundred bins per hour, not one set of bins per deployment.
    """

    __tablename__ = "run_latency_rollup"
    __table_args__ = (
        Index("uq_run_latency_rollup_key", *LATENCY_KEY, unique=True, postgresql_nulls_not_distinct=True),
    )
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    hour: Mapped[datetime]
    namespace_id: Mapped[uuid.UUID]
    #: One of GRAINS: 'kind' rows have no pipeline or deployment; 'pipeline' rows no deployment.
    grain: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16))
    pipeline_id: Mapped[uuid.UUID | None]
    deployment_id: Mapped[uuid.UUID | None]
    #: 'duration' or 'queue_wait'.
    measure: Mapped[str] = mapped_column(String(16))
    #: latency_bin(seconds); see sql/functions/latency_bins.sql.
    bin: Mapped[int] = mapped_column(Integer)
    n: Mapped[int] = mapped_column(BigInteger)


class RunTotal(Base):
    """Finished runs ever counted, per namespace, kind and status: what GET /metrics reports, without a scan."""

    __tablename__ = "run_totals"
    namespace_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    status: Mapped[str] = mapped_column(String(16), primary_key=True)
    runs: Mapped[int] = mapped_column(BigInteger)


class RunRollupChange(_RunDimensions, Base):
    """A run counted (+1) or taken back (-1) since the last fold: a signed run_partials row."""

    __tablename__ = "run_rollup_changes"
    __table_args__ = (Index("ix_run_rollup_changes_hour", "hour"),)
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    run_id: Mapped[uuid.UUID]
    runs: Mapped[int] = mapped_column(Integer)
    duration_n: Mapped[int] = mapped_column(Integer)
    duration_sum: Mapped[float] = mapped_column(Double)
    wait_n: Mapped[int] = mapped_column(Integer)
    wait_sum: Mapped[float] = mapped_column(Double)
    rows_sum: Mapped[int] = mapped_column(BigInteger)
    bytes_sum: Mapped[int] = mapped_column(BigInteger)
    duration_bin: Mapped[int | None] = mapped_column(Integer)
    wait_bin: Mapped[int | None] = mapped_column(Integer)
