"""The schedule loop: due deployments → runs and occurrences, one transaction per batch.

Each tick takes `now` as an argument (tests drive it with a fake clock). It
claims due deployments with SKIP LOCKED, computes every fire time since the
last one handled, applies the misfire and overlap policies (scheduler.planning),
inserts runs with ON CONFLICT DO NOTHING on (deployment, fire time), records
occurrences, and advances next_run_at, all in one transaction: a scheduler
killed mid-tick leaves nothing half-written, and the next tick redoes the batch.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import msgspec
from sqlalchemy import Engine

from app.db.queries import query
from app.domain.deployment_spec import schedule_of
from app.domain.ids import uuid7
from app.domain.states import CANCEL_AT_ONCE, RunKind, RunStatus, RunTrigger, sources
from app.settings import Settings
from scheduler.planning import Policies, plan
from scheduler.timing import fires, next_fire

logger = logging.getLogger(__name__)

#: Deployments claimed per transaction.
BATCH = 500
#: Fire times handled per deployment per tick (a long downtime is worked off over several ticks).
MAX_FIRES_PER_TICK = 10_000


@dataclass
class TickResult:
    deployments: int = 0
    runs: int = 0
    occurrences: int = 0
    released: int = 0


class ScheduleLoop:
    def __init__(self, *, engine: Engine, settings: Settings, scheduler_id: str) -> None:
        self.engine = engine
        self.settings = settings
        self.scheduler_id = scheduler_id

    def tick(self, now: datetime) -> TickResult:
        """Handle every deployment due at `now` (batch by batch), then release held runs."""
        total = TickResult()
        while True:
            batch = self._batch(now)
            total.deployments += batch.deployments
            total.runs += batch.runs
            total.occurrences += batch.occurrences
            if batch.deployments < BATCH:
                break
        with self.engine.begin() as connection:
            released = connection.execute(
                query("release_held_runs"), {"actor": self.scheduler_id, "queue": self.settings.queue}
            ).all()
            if released:
                connection.exec_driver_sql("SELECT pg_notify('conveyor_outbox', '')")
        total.released = len(released)
        return total

    def _batch(self, now: datetime) -> TickResult:
        with self.engine.begin() as connection:
            due = connection.execute(query("claim_due_deployments"), {"now": now, "batch": BATCH}).mappings().all()
            if not due:
                return TickResult()
            counts = {
                row.deployment_id: (row.active, row.held)
                for row in connection.execute(query("active_runs"), {"ids": [str(d["id"]) for d in due]})
            }
            runs: list[dict[str, Any]] = []
            occurrences: list[dict[str, Any]] = []
            advances: list[dict[str, Any]] = []
            to_cancel: list[str] = []
            for deployment in due:
                active, held = counts.get(deployment["id"], (0, 0))
                planned, last, nxt = self._plan(deployment, now, active, held)
                if planned.cancel_running:
                    to_cancel.append(str(deployment["id"]))
                for run in planned.runs:
                    run_id = str(uuid7())
                    runs.append(
                        scheduled_run_row(
                            deployment,
                            scheduled_for=run.scheduled_for,
                            held=run.held,
                            run_id=run_id,
                            settings=self.settings,
                            actor=self.scheduler_id,
                        )
                    )
                    occurrences.append(
                        {
                            "deployment_id": str(deployment["id"]),
                            "scheduled_for": run.scheduled_for,
                            "outcome": "buffered" if run.held else "run",
                            "run_id": run_id,
                            "reason": "waiting for a free slot" if run.held else "",
                        }
                    )
                occurrences += [
                    {
                        "deployment_id": str(deployment["id"]),
                        "scheduled_for": at,
                        "outcome": outcome,
                        "run_id": None,
                        "reason": reason,
                    }
                    for at, outcome, reason in planned.skipped
                ]
                advances.append({"id": str(deployment["id"]), "next_run_at": nxt, "last_scheduled_for": last})
            if to_cancel:
                connection.execute(
                    query("cancel_deployment_runs"),
                    {
                        "ids": to_cancel,
                        "actor": self.scheduler_id,
                        "from_statuses": sources(RunStatus.CANCELLED, CANCEL_AT_ONCE),
                    },
                )
            if runs:
                connection.execute(query("insert_runs"), {"runs": msgspec.json.encode(runs).decode()})
            if occurrences:
                connection.execute(query("insert_occurrences"), {"rows": msgspec.json.encode(occurrences).decode()})
            connection.execute(query("advance_deployments"), {"rows": msgspec.json.encode(advances).decode()})
        return TickResult(deployments=len(due), runs=len(runs), occurrences=len(occurrences))

    def _plan(self, deployment: Any, now: datetime, active: int, held: int):  # type: ignore[no-untyped-def]
        schedule = schedule_of(
            deployment["schedule"],
            dst_gap=deployment["dst_gap"],
            dst_fold=deployment["dst_fold"],
            default_anchor=deployment["start_at"] or deployment["created_at"],
        )
        after = deployment["last_scheduled_for"] or deployment["created_at"]
        found = fires(
            schedule, after, now, start_at=deployment["start_at"], end_at=deployment["end_at"], limit=MAX_FIRES_PER_TICK
        )
        policies = Policies(
            misfire_policy=deployment["misfire_policy"],
            misfire_grace_seconds=deployment["misfire_grace_seconds"],
            max_catch_up=deployment["max_catch_up"],
            max_concurrent_runs=deployment["max_concurrent_runs"],
            overlap_policy=deployment["overlap_policy"],
        )
        planned = plan(found, now, policies, active=active, held=held)
        if len(found) >= MAX_FIRES_PER_TICK:  # more to do: continue right after the last one handled
            last = found[-1].at
            return planned, last, last
        last = max([f.at for f in found], default=after)
        nxt = next_fire(schedule, max(now, last), start_at=deployment["start_at"], end_at=deployment["end_at"])
        return planned, max(last, now), nxt


def scheduled_run_row(
    deployment: Any,
    *,
    scheduled_for: datetime,
    held: bool,
    run_id: str,
    settings: Settings,
    actor: str,
    trigger: RunTrigger = RunTrigger.SCHEDULE,
) -> dict[str, Any]:
    """One `insert_runs` row for a deployment's fire time (`deployment` is a row mapping with latest_version)."""
    return {
        "id": run_id,
        "namespace_id": str(deployment["namespace_id"]),
        "kind": RunKind.PIPELINE.value,
        "trigger": trigger.value,
        "pipeline_id": str(deployment["pipeline_id"]),
        "pipeline_version": deployment["pipeline_version"] or deployment["latest_version"],
        "deployment_id": str(deployment["id"]),
        "scheduled_for": scheduled_for.isoformat(),
        "params": deployment["params"],
        "priority": 0,
        "max_retries": deployment["max_retries"],
        "retry_backoff_seconds": settings.retry_backoff_seconds
        if deployment.get("retry_backoff_seconds") is None
        else deployment["retry_backoff_seconds"],
        "retry_backoff_max_seconds": settings.retry_backoff_max_seconds
        if deployment.get("retry_backoff_max_seconds") is None
        else deployment["retry_backoff_max_seconds"],
        "retry_jitter": settings.retry_jitter if deployment.get("retry_jitter") is None else deployment["retry_jitter"],
        "timeout_seconds": deployment["timeout_seconds"] or settings.default_timeout_seconds,
        "queue": settings.queue,
        "actor": actor,
        "held": held,
    }
