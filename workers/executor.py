"""Execute one run attempt: start it conditionally, run its steps, record how it ended."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

import msgspec
import redis
from sqlalchemy import Engine, TextClause

from app.core.states import FINAL, RunKind, RunStatus
from app.db.database import database_for
from app.db.outage import retry_while_unavailable
from app.db.queries import query
from app.domain.attempts import after_attempt
from app.domain.runlog_buffer import Chunk, RunLogBuffer, RunLogWriter, chunk_params
from app.domain.runlogs import last_line
from app.logs import bind, log_context
from app.settings import Settings
from workers.context import Interruption, RunContext
from workers.ingest_job import run_import
from workers.outcomes import Outcome
from workers.pipeline_job import run_pipeline_job
from workers.runtime import WORKER_ID, ActiveRuns
from workers.transitions import Finish, TransitionWriter, conninfo_of

logger = logging.getLogger(__name__)

T = TypeVar("T")


class Executor:
    """Runs attempts in this worker process; shared by all its threads."""

    def __init__(
        self,
        *,
        engine: Engine,
        redis_client: redis.Redis | None,
        settings: Settings,
        active: ActiveRuns,
        transitions: TransitionWriter | None = None,
    ) -> None:
        self.engine = engine
        self.redis = redis_client
        self.settings = settings
        self.active = active
        self.logs = RunLogBuffer(
            engine=engine,
            redis_client=redis_client,
            redis_namespace=settings.redis_namespace,
            maxlen=settings.log_stream_maxlen,
        )
        #: Starts and finishes of all this process's threads, written in shared batches.
        self.transitions = transitions or TransitionWriter(conninfo_of(settings.sqlalchemy_url))

    def execute(self, run_id: uuid.UUID) -> RunStatus | None:
        """Run one attempt; None when the message was a duplicate or the run is no longer queued."""

        def start() -> Any:
            return self.transitions.start(run_id, WORKER_ID)

        # While the database is down the message waits here, unacked; past the wait it fails and the reaper re-sends it.
        row = self._write(start, f"starting run {run_id}")
        if row is None:
            logger.debug("run %s is not queued; message ignored", run_id)
            return None
        bound = bind(
            run_id=run_id,
            pipeline_id=row["pipeline_id"],
            deployment_id=row["deployment_id"],
            dataset_id=row["dataset_id"],
        )
        try:
            return self._attempt(run_id, row)
        finally:
            log_context.reset(bound)

    def _attempt(self, run_id: uuid.UUID, row: Any) -> RunStatus | None:
        """The attempt `start_run` just began, with the run's ids bound to every log line."""
        started = time.monotonic()
        first_line = (row["log_lines"] if row["attempt"] == 1 else self._stored_lines(run_id)) + 1
        log = RunLogWriter(buffer=self.logs, run_id=run_id, attempt=row["attempt"], first_line=first_line)
        ctx = RunContext(run_id=run_id, attempt=row["attempt"], timeout_seconds=row["timeout_seconds"], log=log)
        self.active.add(ctx)
        written: list[Chunk] = []
        try:
            ctx.log(f"attempt {row['attempt']} started on {WORKER_ID}")
            outcome = self._run_steps(ctx, row)
            final, written = self._record(ctx, row, outcome, elapsed=time.monotonic() - started)
        finally:
            self.active.remove(ctx)
            self._flush_rest(run_id)
        if final in FINAL:
            self.logs.end(run_id, written, final.value, ttl_seconds=self.settings.log_stream_ttl_seconds)  # type: ignore[union-attr]
        else:
            self.logs.publish(written)
        return final

    def _stored_lines(self, run_id: uuid.UUID) -> int:
        """Lines earlier attempts stored: this one numbers on from them."""
        with database_for(self.engine).connection() as connection:
            return last_line(connection, run_id)

    def _flush_rest(self, run_id: uuid.UUID) -> None:
        """Lines no outcome was committed with (the lease was lost, or the attempt broke): written on their own."""
        try:
            self.logs.flush(run_id)
        except Exception as exc:
            logger.warning("could not store the last log lines of run %s: %s", run_id, exc)

    def _run_steps(self, ctx: RunContext, row: Any) -> Outcome:
        """An import, or a pipeline through the one step engine (which opens DuckDB only when a step needs it)."""
        if row["kind"] == RunKind.INGEST.value:
            return run_import(ctx, row, engine=self.engine, settings=self.settings)
        return run_pipeline_job(ctx, row, engine=self.engine, settings=self.settings)

    def _record(
        self, ctx: RunContext, row: Any, outcome: Outcome, *, elapsed: float
    ) -> tuple[RunStatus | None, list[Chunk]]:
        """Write the outcome (or the planned retry) with the attempt's unwritten log lines, in one transaction.

        Returns the status the run is left in, and the log chunks written with it (to publish).
        """
        if ctx.interruption is Interruption.LOST:
            ctx.log("this worker lost the run's lease; another attempt owns it now", level="warning")
            return None, []
        shutdown = ctx.interruption is Interruption.SHUTDOWN
        decision = after_attempt(row, outcome.status, retryable=outcome.retryable, at_once=shutdown)
        common = {
            "run_id": ctx.run_id,
            "attempt": ctx.attempt,
            "error_code": outcome.error_code,
            "error_message": outcome.error_message,
            "progress": msgspec.json.encode(ctx.progress).decode(),
            "actor": WORKER_ID,
        }
        if decision.retry:
            delay = decision.delay_seconds
            ctx.log(
                f"attempt {ctx.attempt} {outcome.reason}"
                f"{': ' + outcome.error_message if outcome.error_message else ''}; retrying in {delay:.1f} s",
                level="warning",
            )
            params = {
                **common,
                "log_lines": ctx.log_lines,
                "reason": "worker_shutdown" if shutdown else outcome.reason,
                **decision.params(queue=self.settings.queue),
            }
            done, chunks = self._commit(ctx.run_id, decision.statement, params, f"retrying run {ctx.run_id}")
            return (RunStatus.RETRYING if done else None), chunks
        message = f"{outcome.status.value} in {elapsed * 1000:.0f} ms"
        if outcome.error_message:
            message += f": {outcome.error_message}"
        ctx.log(message, level="info" if outcome.status is RunStatus.SUCCEEDED else "error")
        decided = decision.params(queue=self.settings.queue)
        chunks = self.logs.take(ctx.run_id)
        finish = Finish(
            run_id=ctx.run_id,
            attempt=ctx.attempt,
            to_status=decided["to_status"],
            from_statuses=decided["from_statuses"],
            error_code=outcome.error_code,
            error_message=outcome.error_message,
            progress=common["progress"],
            log_lines=ctx.log_lines,
            reason=outcome.reason,
            actor=WORKER_ID,
            details=msgspec.json.encode({"elapsed_ms": round(elapsed * 1000, 1)}).decode(),
            log=chunk_params(chunks),
        )
        try:
            done = self._write(lambda: self.transitions.finish(finish), f"finishing run {ctx.run_id}")
        except Exception:
            self.logs.give_back(chunks)
            raise
        return (outcome.status if done else None), chunks

    def _commit(
        self, run_id: uuid.UUID, statement: str | TextClause, params: dict[str, Any], what: str
    ) -> tuple[Any, list[Chunk]]:
        """The outcome's statement, storing the run's unwritten log lines too: both are durable, or neither."""
        chunks = self.logs.take(run_id)
        params = {**params, **chunk_params(chunks)}
        try:
            return self._write(lambda: self._execute_one(statement, params), what), chunks
        except Exception:
            self.logs.give_back(chunks)
            raise

    def _execute_one(self, statement: str | TextClause, params: dict[str, Any]) -> Any:
        """One statement (or named query) in its own transaction; its first row (None when its condition failed)."""
        with self.engine.begin() as connection:
            return connection.execute(query(statement) if isinstance(statement, str) else statement, params).first()

    def _write(self, action: Callable[[], T], what: str) -> T:
        """`action`, tried again while the database is down (a restart must not cost a run a second attempt).

        The statements are conditional, so a repeat after a commit whose answer was lost changes nothing.
        The wait ends early when the worker shuts down: the reaper then recovers the run.
        """
        return retry_while_unavailable(
            action, what=what, give_up_after=self.settings.database_wait_seconds, stop=self.active.stopping.is_set
        )
