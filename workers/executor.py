"""Execute one run attempt: start it conditionally, run its steps, record how it ended."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

import msgspec
import redis
from sqlalchemy import Connection, Engine

from app.core.notices import note
from app.core.run_notices import AttemptEnded, AttemptStarted, LeaseLost, RetryScheduled
from app.core.states import FINAL, RunKind, RunStatus
from app.db.database import database_for
from app.db.outage import retry_while_unavailable
from app.db.queries import conninfo_of
from app.domain.attempts import CANCELLED_MESSAGE, AfterAttempt, after_attempt, lock_attempt
from app.domain.runlog_buffer import Chunk, RunLogBuffer, RunLogWriter, chunk_params
from app.domain.runlogs import last_line
from app.logs import bind, log_context
from app.settings import Settings
from workers.answer import Answer
from workers.context import Interruption, RunContext
from workers.ingest_job import run_import
from workers.outcomes import Outcome
from workers.pipeline_job import run_pipeline_job
from workers.published import already_published
from workers.runtime import WORKER_ID, ActiveRuns
from workers.transitions import Finish, TransitionWriter

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
        """Run one attempt and wait until its outcome is durable: the status it left the run in.

        None when the message was a duplicate, the run is no longer queued, or the attempt lost its lease.
        """
        return self.run(run_id, wait=True)

    def run(self, run_id: uuid.UUID, *, wait: bool) -> RunStatus | None:
        """Run one attempt; without `wait`, return (None) as soon as its final state is handed to the writer.

        The thread is then free for its next message while the finish is committed with the writer's next
        batch; what follows the commit (live-log end, leaving the heartbeat) is done when it is durable.
        """

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
            return self._attempt(run_id, row, wait=wait)
        finally:
            log_context.reset(bound)

    def _attempt(self, run_id: uuid.UUID, row: Any, *, wait: bool) -> RunStatus | None:
        """The attempt `start_run` just began, with the run's ids bound to every log line."""
        started = time.monotonic()
        first_line = (row["log_lines"] if row["attempt"] == 1 else self._stored_lines(run_id)) + 1
        log = RunLogWriter(buffer=self.logs, run_id=run_id, attempt=row["attempt"], first_line=first_line)
        ctx = RunContext(run_id=run_id, attempt=row["attempt"], timeout_seconds=row["timeout_seconds"], log=log)
        self.active.add(ctx)
        try:
            ctx.log(note(AttemptStarted(attempt=row["attempt"], worker=WORKER_ID)))
            outcome = self._run_steps(ctx, row)
            ending = self._record(ctx, row, outcome, elapsed=time.monotonic() - started)
        except BaseException:
            self.active.remove(ctx)
            self._flush_rest(run_id)
            raise
        if ending.answer is None:  # a handed-over finish took every line (and gives them back if it fails)
            self._flush_rest(run_id)
        if ending.answer is None or wait:
            return ending.settle()
        ending.answer.add_done_callback(ending.settle_later)
        return None

    def drain(self, timeout: float = 10.0) -> None:
        """Wait for every handed-over finish to be committed (or given up on: the reaper recovers those)."""
        if not self.transitions.drain(timeout):
            logger.warning("%.0f s passed and some finishes were still not written; the reaper recovers them", timeout)

    def close(self, timeout: float = 10.0) -> None:
        """`drain`, then end the writer's Postgres session: a stopping worker leaves no idle session behind."""
        self.drain(timeout)
        self.transitions.close()

    def _stored_lines(self, run_id: uuid.UUID) -> int:
        """Lines earlier attempts stored: this one numbers on from them.

        Read once the attempt has started, so tried again while the database is unavailable, as the start was:
        a pooled connection the server dropped would otherwise end the attempt before it ran, unhandled, and
        the reaper would count it lost (a retry spent, or the run FAILED worker_lost) though no worker was.
        """

        def read() -> int:
            with database_for(self.engine).connection() as connection:
                return last_line(connection, run_id)

        return self._write(read, f"reading the earlier log lines of run {run_id}")

    def _flush_rest(self, run_id: uuid.UUID) -> None:
        """Lines no outcome was committed with (the lease was lost, or the attempt broke): written on their own."""
        try:
            self.logs.flush(run_id)
        except Exception as exc:
            logger.warning("could not store the last log lines of run %s: %s", run_id, exc)

    def _run_steps(self, ctx: RunContext, row: Any) -> Outcome:
        """An import, or a pipeline through the one step engine (which opens DuckDB only when a step needs it);
        nothing when the run's version is published already (an earlier attempt's, lost before the run was marked)."""
        if row["attempt"] > 1:  # a first attempt has published nothing
            published = already_published(ctx, row, engine=self.engine, settings=self.settings)
            if published is not None:
                return published
        if row["kind"] == RunKind.INGEST.value:
            return run_import(ctx, row, engine=self.engine, settings=self.settings)
        return run_pipeline_job(ctx, row, engine=self.engine, settings=self.settings)

    def _record(self, ctx: RunContext, row: Any, outcome: Outcome, *, elapsed: float) -> _Ending:
        """Write the outcome (or the planned retry) with the attempt's unwritten log lines, in one transaction.

        A success is handed to the writer (its `answer` pending); any other end (a failure a cancel request may change,
        a cancel, whose datasets end in its transaction), or a lost lease, is settled here.
        """
        if ctx.interruption is Interruption.LOST:
            ctx.log(note(LeaseLost()), level="warning")
            return _Ending(self, ctx, None, [])
        shutdown = ctx.interruption is Interruption.SHUTDOWN
        progress = msgspec.json.encode(ctx.progress).decode()
        if outcome.status is not RunStatus.SUCCEEDED:  # a stop that came once the attempt succeeded does not undo it
            return self._end_locked(ctx, row, outcome, shutdown=shutdown, progress=progress, elapsed=elapsed)
        decision = after_attempt(row, outcome.status, retryable=outcome.retryable)
        said, level = _said(decision, ctx, outcome, elapsed)
        ctx.log(said, level=level)
        decided = decision.params(
            queue=self.settings.queue,
            reason=outcome.reason,
            error_code=outcome.error_code,
            error_message=outcome.error_message,
            details={"elapsed_ms": round(elapsed * 1000, 1)},
        )
        chunks = self.logs.take(ctx.run_id)
        finish = Finish(
            run_id=ctx.run_id,
            attempt=ctx.attempt,
            to_status=decided["to_status"],
            from_statuses=decided["from_statuses"],
            error_code=decided["error_code"],
            error_message=decided["error_message"],
            progress=progress,
            log_lines=ctx.log_lines,
            reason=decided["reason"],
            actor=WORKER_ID,
            details=decided["details"],
            log=chunk_params(chunks),
        )
        # While the database is down the writer tries again, as `_write` would; past that the reaper recovers the run.
        answer = self.transitions.finish_later(
            finish, retry_for=self.settings.database_wait_seconds, stop=self.active.stopping.is_set
        )
        return _Ending(self, ctx, outcome.status, chunks, answer)

    def _end_locked(
        self, ctx: RunContext, row: Any, outcome: Outcome, *, shutdown: bool, progress: str, elapsed: float
    ) -> _Ending:
        """A failure, a timeout, a cancel or a shutdown: retried, ended, or CANCELLED if the user asked to cancel the
        run, decided under the run's lock (`after_attempt`), and the datasets the run was writing ended with it; the log
        line saying which is stored by the same transaction, with the attempt's unwritten lines."""
        chunks = self.logs.take(ctx.run_id)
        own = {"run_id": ctx.run_id, "attempt": ctx.attempt, "progress": progress, "actor": WORKER_ID}

        def write(connection: Connection) -> tuple[AfterAttempt, Chunk] | None:
            cancelling = lock_attempt(connection, ctx.run_id, ctx.attempt)
            if cancelling is None:  # the reaper gave the run away meanwhile
                return None
            decision = after_attempt(
                row,
                outcome.status,
                retryable=outcome.retryable,
                at_once=shutdown or outcome.at_once,
                cancelling=cancelling,
            )
            lines = [_said(decision, ctx, outcome, elapsed)]
            if outcome.given_up_line is not None and not decision.retry and not decision.cancelled:
                lines.insert(0, (outcome.given_up_line, "error"))
            said = ctx.next_lines(lines)
            decided = decision.params(
                queue=self.settings.queue,
                reason="worker_shutdown" if shutdown else outcome.reason,
                error_code=outcome.error_code,
                error_message=outcome.error_message,
                details={"elapsed_ms": round(elapsed * 1000, 1)},
            )
            decision.write(connection, {**own, **decided, "log_lines": said.last_n, **chunk_params([*chunks, said])})
            return decision, said

        try:
            done = self._write(lambda: self._in_transaction(write), f"ending run {ctx.run_id}'s attempt {ctx.attempt}")
        except Exception:
            self.logs.give_back(chunks)
            raise
        if done is None:
            self.logs.give_back(chunks)  # written on their own (`_flush_rest`)
            return _Ending(self, ctx, None, [])
        decision, said = done
        ctx.kept(said)
        return _Ending(self, ctx, decision.status, [*chunks, said])

    def _in_transaction(self, write: Callable[[Connection], T]) -> T:
        """`write` in its own transaction."""
        with self.engine.begin() as connection:
            return write(connection)

    def _write(self, action: Callable[[], T], what: str) -> T:
        """`action`, tried again while the database is down (a restart must not cost a run a second attempt).

        The statements are conditional, so a repeat after a commit whose answer was lost changes nothing.
        The wait ends early when the worker shuts down: the reaper then recovers the run.
        """
        return retry_while_unavailable(
            action, what=what, give_up_after=self.settings.database_wait_seconds, stop=self.active.stopping.is_set
        )


def _said(decision: AfterAttempt, ctx: RunContext, outcome: Outcome, elapsed: float) -> tuple[str, str]:
    """The log line (and its level) that tells what became of the run after this attempt: what was decided."""
    if decision.retry:
        retrying = RetryScheduled(
            attempt=ctx.attempt,
            reason=outcome.reason,
            error=outcome.error_message or None,
            delay_seconds=decision.delay_seconds,
        )
        return note(retrying), "warning"
    error = outcome.error_message or None
    if decision.cancelled:  # the attempt's own end, after the cancel that overtook it
        error = f"{CANCELLED_MESSAGE} (attempt {outcome.reason}{f': {error}' if error else ''})"
    ended = AttemptEnded(status=decision.status.value, elapsed_ms=round(elapsed * 1000), error=error)
    return note(ended), "info" if decision.status is RunStatus.SUCCEEDED else "error"


class _Ending:
    """An attempt whose outcome is written (or handed to the writer): what follows once it is durable."""

    __slots__ = ("answer", "chunks", "ctx", "executor", "status")

    def __init__(
        self,
        executor: Executor,
        ctx: RunContext,
        status: RunStatus | None,
        chunks: list[Chunk],
        answer: Answer[Any] | None = None,
    ) -> None:
        self.executor, self.ctx, self.status, self.chunks, self.answer = executor, ctx, status, chunks, answer

    def settle(self) -> RunStatus | None:
        """Leave the heartbeat and send the live log's end (or the lines): the outcome is durable now.

        Raises the finish's error; its lines then go back to the buffer (the flusher stores them), and the
        reaper recovers the run.
        """
        executor, ctx, answer = self.executor, self.ctx, self.answer
        self.answer = None  # the answer's callbacks hold this ending: no cycle left for the garbage collector
        try:
            if answer is not None and answer.result() is None:
                self.status = None  # the attempt was no longer running: another attempt owns the run
        except BaseException:
            executor.logs.give_back(self.chunks)
            raise
        finally:
            executor.active.remove(ctx)
        if self.status in FINAL:
            executor.logs.end(ctx.run_id, self.status.value, ttl_seconds=executor.settings.log_stream_ttl_seconds)  # type: ignore[union-attr]
        else:
            executor.logs.publish(self.chunks)
        return self.status

    def settle_later(self, _answer: Answer[Any]) -> None:
        """`settle`, called by the writer's thread once the handed-over finish is answered: it only queues work."""
        try:
            self.settle()
        except Exception as exc:
            logger.error("could not record the end of run %s attempt %s: %s", self.ctx.run_id, self.ctx.attempt, exc)
