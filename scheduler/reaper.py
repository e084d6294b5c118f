"""The reaper: runs whose worker died, and queued runs whose message the broker lost."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Sequence
from typing import Any

import msgspec
import redis
from dramatiq.brokers.redis import RedisBroker
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from app.core.states import EventReason, RunStatus
from app.db.queries import query
from app.domain import files as data_files
from app.domain.attempts import CANCELLED_CODE, CANCELLED_MESSAGE, after_attempt
from app.domain.dataset_versions import published_by, published_progress
from app.domain.dataset_writes import end_writes
from app.domain.earlier_outputs import earlier_outputs
from app.domain.runlogs import publish_end, stream_key
from app.logs import bind, log_context
from app.redis_link import RedisLink, redis_unreachable
from app.scheduling.reasons import ReasonCode
from app.settings import Settings
from scheduler.attempt_sweep import AttemptSweep
from scheduler.cleanup import Cleanup
from workers.broker import messages_key, requeue_dead_workers_messages

logger = logging.getLogger(__name__)

#: Rows handled per statement, so one pass never holds many locks for long.
BATCH = 500
#: Why a paused deployment's fire time whose planned run was never sent has no run.
PAUSED_REASON = "the deployment was paused before its run was sent"
#: Which of the message ids (ARGV) a queue's message hash (KEYS[1]) still holds, 1 or 0 each: one command for a
#: batch, where a pipeline of one HEXISTS per run cost the reaper ~10x the CPU (each command packed and its
#: answer read in Python) and was most of its work while a backlog waits for workers.
_HELD_SCRIPT = """
local held = {}
for i, id in ipairs(ARGV) do held[i] = redis.call('HEXISTS', KEYS[1], id) end
return held
"""


class Reaper:
    def __init__(self, *, engine: Engine, broker: RedisBroker, settings: Settings, reaper_id: str) -> None:
        self.engine = engine
        self.broker = broker
        self.settings = settings
        self.reaper_id = reaper_id
        self._held = broker.client.register_script(_HELD_SCRIPT)
        #: Whether Redis answers, said once per outage: queued runs are checked, and ends published, when it is back.
        self.link = RedisLink(
            logger,
            while_lost="queued runs not started are checked against the broker when it is back",
            when_back="checking queued runs again",
            deferred="checks of queued runs put off",
        )
        #: ended runs' attempt folders no version row names (its position in the runs that ended is a table row)
        self.attempt_sweep = AttemptSweep(engine=engine, settings=settings)

    def reap_lost(self) -> int:
        """RUNNING attempts without a heartbeat for a lease: retried per their policy, or FAILED; CANCELLED when the
        user asked to cancel the run (`after_attempt`)."""
        ended: list[tuple[str, RunStatus]] = []
        #: (dataset, run, attempts up to, the attempt whose files are the version's) of runs ended here
        attempts: list[tuple[uuid.UUID, uuid.UUID, int, int | None]] = []
        with self.engine.begin() as connection:
            rows = (
                connection.execute(
                    query("claim_lost_runs"), {"lease_seconds": self.settings.lease_seconds, "batch": BATCH}
                )
                .mappings()
                .all()
            )
            for row in rows:
                message = f"no heartbeat from {row['worker_id']} since {row['heartbeat_at'].isoformat()}"
                with Session(bind=connection) as session:
                    published = published_by(session, row["id"])
                    # a run retried by hand may have written another output before: its earlier attempts' folders there
                    earlier = earlier_outputs(session, row["id"]) if row["attempt"] > 1 else []
                # a lost worker is retried; a run asked to cancel ends CANCELLED (the rule is after_attempt's); one
                # whose version the lost attempt published ends SUCCEEDED, as it would have had it not been lost
                lost = RunStatus.SUCCEEDED if published else RunStatus.FAILED
                decision = after_attempt(row, lost, retryable=not published, cancelling=row["cancelling"])
                ending = (
                    {"reason": "succeeded", "error_code": None, "error_message": None}
                    if published
                    else {"reason": "worker_lost", "error_code": "worker_lost", "error_message": message}
                )
                details = {"worker_lost": message, "version": published.version} if published else None
                # a run ended from its version reports the version's figures, not its lost attempt's last heartbeat
                progress = (
                    msgspec.json.encode(published_progress(row["kind"], published)).decode() if published else None
                )
                params = {
                    "run_id": row["id"],
                    "attempt": row["attempt"],
                    "progress": progress,
                    "log_lines": None,
                    "actor": self.reaper_id,
                    **decision.params(queue=self.settings.queue, details=details, **ending),
                }
                # an end also ends the datasets the run was writing, in this transaction
                if decision.write(connection, params) is not None and not decision.retry:
                    ended.append((str(row["id"]), decision.status))
                    kept = published.attempt if published else None
                    for dataset_id in dict.fromkeys([row["dataset_id"], *earlier]):
                        if dataset_id is not None:
                            mine = published is not None and published.dataset_id == dataset_id
                            attempts.append((dataset_id, row["id"], row["attempt"], kept if mine else None))
                bound = bind(run_id=row["id"])
                logger.warning("run %s attempt %s lost: %s", row["id"], row["attempt"], message)
                log_context.reset(bound)
        for run_id, status in ended:
            self._publish_end(run_id, status)
        # no attempt of these runs publishes any more: only the published version's files stay (a lost attempt that
        # writes on removes its own when it learns it lost the run)
        for dataset_id, run_id, last, kept in attempts:
            data_files.drop_attempts_quietly(self.settings, dataset_id, run_id, before=last + 1, keep=kept)
        return len(rows)

    def end_cancel_requested(self) -> int:
        """Runs asked to cancel that wait for a start none will make (a start skips them): CANCELLED, as a cancel
        of a waiting run ends it, the datasets they were writing not left importing."""
        with self.engine.begin() as connection:
            ids = (
                connection.execute(
                    query("end_cancel_requested_unstarted"),
                    {
                        "batch": BATCH,
                        "actor": self.reaper_id,
                        "reason": EventReason.CANCELLED.value,
                        "error_code": CANCELLED_CODE,
                        "error_message": CANCELLED_MESSAGE,
                    },
                )
                .scalars()
                .all()
            )
            with Session(bind=connection) as session:
                for run_id in ids:
                    end_writes(
                        session,
                        run_id=run_id,
                        status=RunStatus.CANCELLED,
                        code=CANCELLED_CODE,
                        message=CANCELLED_MESSAGE,
                        producer=self.reaper_id,
                    )
        for run_id in ids:
            logger.warning("run %s was asked to cancel and waited for a start: cancelled", run_id)
            self._publish_end(str(run_id), RunStatus.CANCELLED)
        return len(ids)

    def _publish_end(self, run_id: str, status: RunStatus) -> None:
        """Tell the run's live-log followers it ended."""
        publish_end(
            self.broker.client,
            stream_key(self.settings.redis_namespace, run_id),
            status.value,
            ttl_seconds=self.settings.log_stream_ttl_seconds,
            link=self.link,
        )

    def resend_unstarted(self) -> int:
        """QUEUED runs not started long after dispatch: re-send those whose message the broker lost."""
        with self.engine.begin() as connection:
            rows = connection.execute(
                query("claim_unstarted_runs"),
                {"older_than_seconds": self.settings.resend_after_seconds, "batch": BATCH},
            ).all()
            if not rows:
                return 0
            try:
                held = self._held_by_broker(rows)
                # A message held but not started may be in the ack set of a worker that died: back to its queue.
                for queue in {
                    row.queue or self.settings.queue for row, present in zip(rows, held, strict=True) if present
                }:
                    requeue_dead_workers_messages(self.broker, queue)
            except redis.RedisError as exc:
                if redis_unreachable(exc):
                    self.link.lost(exc, deferred=len(rows))
                else:
                    logger.warning("the broker refused to say which queued runs it holds; checked later: %s", exc)
                return 0
            self.link.ok()
            missing = [str(row.id) for row, present in zip(rows, held, strict=True) if not present]
            waiting = [str(row.id) for row, present in zip(rows, held, strict=True) if present]
            if waiting:
                connection.execute(query("touch_dispatched"), {"run_ids": waiting})
            if missing:
                connection.execute(
                    query("resend_runs"), {"run_ids": missing, "actor": self.reaper_id, "queue": self.settings.queue}
                )
                logger.warning("re-sending %d queued run(s) the broker no longer holds", len(missing))
        return len(missing)

    def _held_by_broker(self, rows: Sequence[Any]) -> list[bool]:
        """Whether the broker still holds each row's last message (one script call per queue)."""
        by_key: dict[str, list[int]] = {}
        for index, row in enumerate(rows):
            by_key.setdefault(messages_key(self.broker, row.queue or self.settings.queue), []).append(index)
        held = [False] * len(rows)
        for key, indexes in by_key.items():
            answers = self._held(keys=[key], args=[rows[i].broker_message_id or "-" for i in indexes])
            for index, answer in zip(indexes, answers, strict=True):
                held[index] = bool(answer)
        return held

    def housekeeping(self) -> None:
        """Drop expired idempotency keys; remove deleted datasets' and expired uploads' files, and ended runs'
        attempt folders no version row names (small batches)."""
        with self.engine.begin() as connection:
            connection.execute(query("purge_idempotency_keys"), {"batch": BATCH * 10})
        Cleanup(engine=self.engine, settings=self.settings).run_once()
        self.attempt_sweep.sweep_once()

    def replan_unsent(self) -> int:
        """Scheduled runs no relay sent within their misfire grace go back to the schedule loop as missed.

        A paused deployment's are not replanned: their fire times are recorded as `paused`, as resume records those
        that came while it was paused.
        """
        total = 0
        while True:
            with self.engine.begin() as connection:
                rows = connection.execute(query("replan_unsent_runs"), {"batch": BATCH}).all()
                paused = [
                    {"deployment_id": str(row.deployment_id), "scheduled_for": row.scheduled_for.isoformat()}
                    for row in rows
                    if not row.enabled
                ]
                if paused:
                    connection.execute(
                        query("insert_paused_occurrences"),
                        {"rows": json.dumps(paused), "reason": PAUSED_REASON, "reason_code": ReasonCode.PAUSED_UNSENT},
                    )
            count = len(rows)
            total += count
            if count < BATCH:
                if total:
                    logger.warning("%d scheduled runs were not sent in time; replanned as missed fire times", total)
                return total

    def reap_once(self) -> dict[str, int]:
        return {
            "lost": self.reap_lost(),
            "cancelled": self.end_cancel_requested(),
            "resent": self.resend_unstarted(),
            "replanned": self.replan_unsent(),
        }
