"""Group commit of the two hot transitions: every start and finish of a worker process goes through one writer.

A worker thread hands its start (QUEUED → RUNNING) or its finish (RUNNING → a
final state) to the process's writer and waits for the answer. The writer
takes everything that is waiting and writes it in one statement: `start_runs`,
`finish_runs`, or, when the batch has both, `start_and_finish_runs`
(sql/queries/runs.sql: the batched forms of start_run and finish_run, same
conditions and events), bound client-side into an `EXECUTE` of the statement
prepared once per connection (SQL PREPARE). One statement is one implicit
transaction, one round trip and one WAL flush, and it has one result, so the
writer sends it with libpq's blocking PQexec, which waits for the answer with
the GIL released: psycopg's cursor waits in a Python loop that takes the GIL
back at every read, which cost the writer as much CPU as the rest of the batch
while the worker threads held the GIL. (A psycopg pipeline of prepared
statements, before that, cost more still.) A batch starts the runs of one
worker id (a process has one; others wait for the next batch). There is no collection
window: while a batch is being written the next one gathers, so an idle worker
pays one round trip and a busy one shares it among its threads, and no result
is held back once it is committed.

A start is waited for (the thread needs the run's row); a finish need not be:
`finish_later` hands it over and returns a future, so the worker thread takes
its next message while the finish is written with the next batch. The writer
then waits out a database outage for such a finish itself, for as long as the
caller would have (`retry_for`), and `drain` lets a stopping worker write every
pending finish before it exits.

The writer owns one plain psycopg connection (no pool checkout, no SQLAlchemy
execution layer on the hot path). An error fails every request of the batch:
an outage is retried by each caller (`retry_while_unavailable`); any other
error makes the writer write that batch's requests one by one, so one bad
request cannot fail the others.
"""

from __future__ import annotations

import logging
import operator
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import msgspec
import psycopg
from psycopg import pq
from psycopg.adapt import Transformer
from psycopg.errors import error_from_result
from psycopg.types.json import set_json_loads

from app.core.states import RunStatus, sources
from app.db.outage import RETRY_PAUSES, database_unavailable
from app.db.queries import query
from workers.answer import Answer
from workers.sql_literals import Prepared, byteas, ints, storable, texts, uuids

logger = logging.getLogger(__name__)


_START_FROM = texts(sources(RunStatus.RUNNING))
_START = Prepared("conveyor_start_runs", str(query("start_runs")))
_FINISH = Prepared("conveyor_finish_runs", str(query("finish_runs")))
_BOTH = Prepared("conveyor_start_and_finish_runs", str(query("start_and_finish_runs")))


@dataclass(frozen=True, kw_only=True)
class Finish:
    """One attempt's end, as `finish_runs` records it."""

    run_id: uuid.UUID
    attempt: int
    to_status: str
    from_statuses: Sequence[str]
    error_code: str | None
    error_message: str | None
    progress: str | None
    log_lines: int | None
    reason: str
    actor: str
    details: str
    #: The attempt's unwritten log lines (`chunk_params`): stored by the same statement, so durable with the outcome.
    log: dict[str, list[Any]] = field(default_factory=lambda: {"log_first_n": [], "log_last_n": [], "log_chunks": []})


@dataclass
class _Request:
    run_id: uuid.UUID
    start_by: str | None = None  # the worker id of a start
    finish: Finish | None = None
    answer: Answer[Any] = field(default_factory=Answer)
    #: Until when (monotonic) the writer itself retries this request while the database is down; 0: never.
    retry_until: float = 0.0
    #: Ends that retry early (the worker is stopping: the reaper recovers the run).
    stop: Callable[[], bool] | None = None

    def retries(self, now: float) -> bool:
        return now < self.retry_until and not (self.stop is not None and self.stop())


class TransitionWriter:
    """The process's one writer of starts and finishes; thread-safe, its thread starts on first use."""

    def __init__(self, conninfo: str, *, connect_timeout: int = 5) -> None:
        self._conninfo = conninfo
        self._connect_timeout = connect_timeout
        self._ready = threading.Condition()
        self._waiting: list[_Request] = []
        self._connection: psycopg.Connection[Any] | None = None
        self._encoding = "utf-8"
        self._thread: threading.Thread | None = None
        self._writing = False  # a batch is being written
        self._outage_tries = 0  # batches failed in a row for an outage (paces the retries)
        #: How many batches and requests were written (for tests and benchmarks).
        self.batches = 0
        self.requests = 0

    def start(self, run_id: uuid.UUID, worker_id: str) -> dict[str, Any] | None:
        """Start `run_id` for `worker_id`: the run's row (as start_runs returns it), or None if it is not startable."""
        return self._ask(_Request(run_id, start_by=worker_id))  # type: ignore[no-any-return]

    def finish(self, finish: Finish) -> dict[str, Any] | None:
        """End an attempt: its id, status and finished_at, or None if the attempt was no longer running."""
        return self.finish_later(finish).result()  # type: ignore[no-any-return]

    def finish_later(
        self, finish: Finish, *, retry_for: float = 0.0, stop: Callable[[], bool] | None = None
    ) -> Answer[dict[str, Any] | None]:
        """Hand an attempt's end to the writer; the future is `finish`'s answer once it is committed.

        While the database is down the writer tries again for up to `retry_for` seconds (or until `stop()`).
        """
        request = _Request(finish.run_id, finish=finish, retry_until=time.monotonic() + retry_for, stop=stop)
        self._submit(request)
        return request.answer

    def drain(self, timeout: float) -> bool:
        """Wait until every request handed over so far is answered (or `timeout`); whether it was."""
        with self._ready:
            return self._ready.wait_for(lambda: not self._waiting and not self._writing, timeout)

    def close(self) -> None:
        with self._ready:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

    # ------------------------------------------------------------------ the writer thread

    def _ask(self, request: _Request) -> Any:
        self._submit(request)
        return request.answer.result()

    def _submit(self, request: _Request) -> None:
        with self._ready:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="conveyor-transitions", daemon=True)
                self._thread.start()
            self._waiting.append(request)
            self._ready.notify_all()

    def _loop(self) -> None:
        while True:
            with self._ready:
                self._writing = False
                self._ready.notify_all()  # for drain()
                while not self._waiting:
                    self._ready.wait()
                batch, self._waiting = _one_worker(self._waiting)
                self._writing = True
            again = self._write(batch)
            if again:
                pause = RETRY_PAUSES[min(self._outage_tries, len(RETRY_PAUSES)) - 1]
                with self._ready:
                    self._waiting[:0] = again  # first again, so a run's finish stays ahead of anything later
                time.sleep(pause)

    def _write(self, batch: list[_Request]) -> list[_Request]:
        """Write the batch and answer its requests; those to try again (the database is down), if any."""
        try:
            answers = self._execute(batch)
        except Exception as exc:
            if len(batch) > 1 and not database_unavailable(exc):
                logger.warning("a batch of %d transitions failed (%s); writing them one by one", len(batch), exc)
                return [again for request in batch for again in self._write([request])]
            now, outage = time.monotonic(), database_unavailable(exc)
            again: list[_Request] = []
            for request in batch:
                if outage and request.retries(now):
                    again.append(request)
                else:
                    request.answer.set_exception(exc)
            if again and self._outage_tries == 0:
                logger.warning(
                    "database unavailable while finishing run %s (and %d more); trying again: %s",
                    again[0].run_id,
                    len(again) - 1,
                    exc,
                )
            self._outage_tries += 1 if again else 0
            return again
        self._outage_tries = 0
        self.batches += 1
        self.requests += len(batch)
        for request, answer in zip(batch, answers, strict=True):
            request.answer.set_result(answer)
        return []

    def _execute(self, batch: list[_Request]) -> list[Any]:
        """Write the batch in one statement (one transaction, one round trip); each request's answer, in order."""
        starts = [r for r in batch if r.start_by is not None]
        finishes = [r.finish for r in batch if r.finish is not None]
        connection = self._connect()
        if not starts:
            statement = _FINISH.execute(_finish_params(finishes))
        else:
            run_ids, worker_id = uuids([r.run_id for r in starts]), storable(starts[0].start_by)
            if finishes:
                both = {"start_run_ids": run_ids, "worker_id": worker_id, "start_from_statuses": _START_FROM}
                statement = _BOTH.execute({**_finish_params(finishes), **both})
            else:
                statement = _START.execute({"run_ids": run_ids, "worker_id": worker_id, "from_statuses": _START_FROM})
        try:
            rows = self._rows(connection, statement)
        except Exception:
            if connection.broken or connection.closed:
                self._connection = None
            raise
        started_rows: dict[Any, Any] = {}
        finished_rows: dict[Any, Any] = {}
        for row in rows:
            if starts and row.get("status") is None:
                started_rows[row["id"]] = row
            else:  # by attempt: a stale attempt of a run may share the batch with the current one
                finished_rows[(row["id"], row["attempt"])] = {key: row[key] for key in _FINISHED_COLUMNS}
        answers: list[Any] = []
        for request in batch:
            if request.finish is not None:
                answers.append(finished_rows.pop((request.run_id, request.finish.attempt), None))
            else:
                answers.append(started_rows.pop(request.run_id, None))  # a duplicate of the same run gets nothing
        return answers

    def _rows(self, connection: psycopg.Connection[Any], statement: str) -> list[dict[str, Any]]:
        """`statement`'s rows as dicts, sent with PQexec (blocking, the GIL released while it waits)."""
        result = connection.pgconn.exec_(statement.encode(self._encoding))
        if result.status != pq.ExecStatus.TUPLES_OK:
            if connection.pgconn.status != pq.ConnStatus.OK:  # the connection is gone: an outage (no SQLSTATE)
                raise psycopg.OperationalError(result.get_error_message(self._encoding).strip() or "connection lost")
            raise error_from_result(result, encoding=self._encoding)
        transformer = Transformer(connection)
        transformer.set_pgresult(result)
        names = [(result.fname(i) or b"").decode() for i in range(result.nfields)]
        return [dict(zip(names, row, strict=True)) for row in transformer.load_rows(0, result.ntuples, tuple)]

    def _connect(self) -> psycopg.Connection[Any]:
        if self._connection is None or self._connection.closed:
            # autocommit: a batch's one statement is its own transaction
            connection = psycopg.connect(self._conninfo, autocommit=True, connect_timeout=self._connect_timeout)
            try:
                # `literal` quotes for these settings (standard_conforming_strings: the default since Postgres
                # 9.1); UTF8 whatever PGCLIENTENCODING says, so no client encoding's multi-byte characters can
                # hold a byte that ends a literal. The connection is ours alone.
                connection.execute(b"SET standard_conforming_strings = on")
                connection.execute(b"SET client_encoding = 'UTF8'")
                connection.execute(_START.prepare.encode())
                connection.execute(_FINISH.prepare.encode())
                connection.execute(_BOTH.prepare.encode())
            except BaseException:
                connection.close()  # kept unprepared, every batch on it would fail: the next one connects again
                raise
            # a started run's spec, params and inputs (jsonb): msgspec parses them faster than the json module
            set_json_loads(msgspec.json.decode, connection)
            self._encoding = connection.info.encoding  # the client's, which the batch's text is sent in
            self._connection = connection
        return self._connection


_FINISH_COLUMNS = operator.attrgetter(
    "run_id",
    "attempt",
    "to_status",
    "error_code",
    "error_message",
    "progress",
    "log_lines",
    "reason",
    "actor",
    "details",
)


def _finish_params(finishes: list[Finish]) -> dict[str, str]:
    """finish_runs' arrays, each pre-encoded as one Postgres array literal (see `texts`)."""
    logged = [f for f in finishes if f.log["log_first_n"]]
    # one C-level pass per finish (attrgetter) and a transpose, rather than a Python loop per column
    run_ids, attempts, to_statuses, error_codes, error_messages, progress, log_lines, reasons, actors, details = zip(
        *map(_FINISH_COLUMNS, finishes), strict=True
    )
    return {
        "run_ids": uuids(run_ids),
        "attempts": ints(attempts),
        "to_statuses": texts(to_statuses),
        "from_statuses": texts([",".join(f.from_statuses) for f in finishes]),
        "error_codes": texts(error_codes),
        "error_messages": texts(error_messages),
        "progress": texts(progress),
        "log_lines": ints(log_lines),
        "reasons": texts(reasons),
        "actors": texts(actors),
        "details": texts(details),
        "log_run_ids": uuids([f.run_id for f in logged for _ in f.log["log_first_n"]]),
        "log_attempts": ints([f.attempt for f in logged for _ in f.log["log_first_n"]]),
        "log_first_n": ints([n for f in logged for n in f.log["log_first_n"]]),
        "log_last_n": ints([n for f in logged for n in f.log["log_last_n"]]),
        "log_chunks": byteas([c for f in logged for c in f.log["log_chunks"]]),
    }


#: What a finish's answer holds (a finish row of start_and_finish_runs also has the start columns, all NULL).
_FINISHED_COLUMNS = ("id", "attempt", "status", "finished_at")


def _one_worker(waiting: list[_Request]) -> tuple[list[_Request], list[_Request]]:
    """The next batch and what waits for the one after: the batch starts the runs of one worker id only.

    A worker process asks under one id, so this splits nothing there; tests that ask as several get a batch each.
    """
    worker_ids = {r.start_by for r in waiting if r.start_by is not None}
    if len(worker_ids) <= 1:
        return waiting, []
    first = next(r.start_by for r in waiting if r.start_by is not None)
    batch = [r for r in waiting if r.start_by is None or r.start_by == first]
    return batch, [r for r in waiting if r.start_by is not None and r.start_by != first]
