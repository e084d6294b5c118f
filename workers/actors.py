"""Dramatiq actors. The broker is built and set before any actor is declared."""

from __future__ import annotations

import threading
import uuid

import dramatiq
import redis

from app.db.engine import get_engine
from app.domain.lanes import BULK_RUN_ACTOR, BULK_RUN_PRIORITY, RUN_ACTOR, RUN_PRIORITY, bulk_queue
from app.logs import configure_logging
from app.settings import get_settings
from workers.broker import setup_broker
from workers.executor import Executor
from workers.runtime import ActiveRuns, WorkerLifecycle

settings = get_settings()
configure_logging(settings, process="worker")
broker = setup_broker(settings)
active_runs = ActiveRuns()


def _engine():  # type: ignore[no-untyped-def]
    return get_engine(settings, pool_size=settings.worker_threads + 2, pre_ping=False)


_executor: Executor | None = None
_executor_lock = threading.Lock()


def _drain() -> None:
    """Write every finish still pending (the worker threads have stopped), so none is left for the reaper."""
    if _executor is not None:
        _executor.close()


broker.add_middleware(WorkerLifecycle(_engine, active_runs, settings.heartbeat_seconds, on_stopped=_drain))


def executor() -> Executor:
    """The process's executor, built on first use (after fork).

    Locked: the worker threads take their first messages together, and each building one would leave the
    process with several writers (each a Postgres connection and a thread), sharing batches among fewer runs.
    """
    global _executor
    if _executor is None:
        with _executor_lock:
            if _executor is None:
                _executor = Executor(
                    engine=_engine(),
                    redis_client=redis.Redis.from_url(settings.redis_url),
                    settings=settings,
                    active=active_runs,
                )
    return _executor


@dramatiq.actor(actor_name=RUN_ACTOR, queue_name=settings.queue, priority=RUN_PRIORITY)
def execute_run(run_id: str) -> None:
    """Execute one attempt of run `run_id`; a message for a run not QUEUED is acked and ignored.

    The message is acked once the run has started and its finish is handed to the process's writer, before
    that finish is committed: from the start on, the run's row is the truth and the reaper recovers a
    RUNNING run whose lease lapses, so a kill in between costs an attempt (as a kill a moment sooner
    would), never the run; a redelivered message would find the run not QUEUED and be ignored anyway.
    """
    executor().run(uuid.UUID(run_id), wait=False)


@dramatiq.actor(actor_name=BULK_RUN_ACTOR, queue_name=bulk_queue(settings.queue), priority=BULK_RUN_PRIORITY)
def execute_bulk_run(run_id: str) -> None:
    """`execute_run` for the bulk lane (app/domain/lanes.py): taken after any waiting interactive run."""
    executor().run(uuid.UUID(run_id), wait=False)
