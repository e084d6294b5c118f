"""Starts and finishes written in shared batches (workers/transitions.py) keep the single-run guarantees."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest
from psycopg.conninfo import make_conninfo
from sqlalchemy import text

from app.core.states import RunStatus, sources
from app.db.outage import database_unavailable
from tests.integration.engine_parts import Engine_
from tests.integration.helpers import statuses
from workers.transitions import Finish, TransitionWriter, _one_worker, _Request


def _finish(run_id: uuid.UUID, attempt: int, **changes: object) -> Finish:
    fields: dict[str, object] = {
        "run_id": run_id,
        "attempt": attempt,
        "to_status": RunStatus.SUCCEEDED.value,
        "from_statuses": sources(RunStatus.SUCCEEDED, [RunStatus.RUNNING]),
        "error_code": None,
        "error_message": None,
        "progress": None,
        "log_lines": 2,
        "reason": "succeeded",
        "actor": "worker:test:1",
        "details": "{}",
    }
    return Finish(**{**fields, **changes})  # type: ignore[arg-type]


def test_concurrent_starts_start_each_run_once_even_when_a_message_comes_twice(parts: Engine_) -> None:
    parts.pipeline("noop", [])
    run_ids = parts.submit("noop", count=12)
    assert parts.relay.relay_once() == 12
    writer = parts.executor.transitions
    # every run asked for twice, from 16 threads at once: the batches mix runs and duplicates
    asks = [*run_ids, *run_ids]
    with ThreadPoolExecutor(max_workers=16) as pool:
        rows = list(pool.map(lambda run_id: writer.start(run_id, "worker:test:1"), asks))
    started = [row for row in rows if row is not None]
    assert sorted(row["id"] for row in started) == sorted(run_ids)
    assert all(row["attempt"] == 1 and isinstance(row["spec"], dict) for row in started)
    for run_id in run_ids:
        assert statuses(parts.engine, run_id) == ["PENDING", "QUEUED", "RUNNING"]

    # finishing them at once: each its own end, a stale attempt matches nothing
    ends = [_finish(run_id, 1) for run_id in run_ids[:-1]]
    ends.append(
        _finish(
            run_ids[-1],
            1,
            to_status="FAILED",
            error_code="boom",
            reason="failed",
            from_statuses=sources(RunStatus.FAILED, [RunStatus.RUNNING]),
        )
    )
    ends.append(_finish(run_ids[0], 7))  # an attempt that is not the run's
    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(writer.finish, ends))
    assert answers[-1] is None
    assert [a["status"] for a in answers[:-1]] == ["SUCCEEDED"] * 11 + ["FAILED"]
    assert statuses(parts.engine, run_ids[0]) == ["PENDING", "QUEUED", "RUNNING", "SUCCEEDED"]
    assert statuses(parts.engine, run_ids[-1]) == ["PENDING", "QUEUED", "RUNNING", "FAILED"]
    assert writer.requests >= len(asks) + len(ends)


def test_a_run_not_queued_is_not_started(parts: Engine_) -> None:
    parts.pipeline("noop", [])
    [run_id] = parts.submit("noop")  # PENDING: the relay has not sent it
    assert parts.executor.transitions.start(run_id, "worker:test:1") is None
    assert parts.executor.transitions.start(uuid.uuid4(), "worker:test:1") is None
    assert statuses(parts.engine, run_id) == ["PENDING"]


def test_a_stale_attempt_in_the_same_batch_as_the_current_one_changes_nothing(parts: Engine_) -> None:
    parts.pipeline("noop", [])
    [run_id] = parts.submit("noop")
    assert parts.relay.relay_once() == 1
    writer = parts.executor.transitions
    assert writer.start(run_id, "worker:test:1") is not None
    with parts.engine.begin() as connection:  # as when attempt 1 was reaped as lost and attempt 2 started
        connection.execute(text("UPDATE runs SET attempt = 2 WHERE id = :id"), {"id": run_id})
    stale = _finish(
        run_id,
        1,
        to_status="FAILED",
        error_code="stale",
        reason="failed",
        from_statuses=sources(RunStatus.FAILED, [RunStatus.RUNNING]),
        log={"log_first_n": [1], "log_last_n": [1], "log_chunks": [b"from the stale attempt\n"]},
    )
    current = _finish(run_id, 2, log={"log_first_n": [2], "log_last_n": [2], "log_chunks": [b"from attempt 2\n"]})
    # one batch, the stale attempt first: each request gets its own attempt's answer
    answers = writer._execute([_Request(run_id, finish=stale), _Request(run_id, finish=current)])
    assert answers[0] is None
    assert (answers[1]["status"], answers[1]["attempt"]) == ("SUCCEEDED", 2)
    with parts.engine.connect() as connection:
        run = connection.execute(text("SELECT status, error_code FROM runs WHERE id = :id"), {"id": run_id}).one()
        chunks = connection.execute(
            text("SELECT first_n, lines FROM run_log_chunks WHERE run_id = :id ORDER BY first_n"), {"id": run_id}
        ).all()
        ends = connection.execute(
            text("SELECT to_status, attempt FROM run_events WHERE run_id = :id AND to_status = 'SUCCEEDED'"),
            {"id": run_id},
        ).all()
    assert tuple(run) == ("SUCCEEDED", None)
    assert [(n, bytes(lines)) for n, lines in chunks] == [(2, b"from attempt 2\n")]
    assert [tuple(e) for e in ends] == [("SUCCEEDED", 2)]


def test_a_finish_handed_over_waits_out_an_outage_for_as_long_as_it_may(parts: Engine_) -> None:
    parts.pipeline("noop", [])
    [run_id] = parts.submit("noop")
    assert parts.relay.relay_once() == 1
    real = parts.executor.transitions
    assert real.start(run_id, "worker:test:1") is not None
    # Given a writer whose database does not answer (nothing listens on its port)
    writer = TransitionWriter(make_conninfo(real._conninfo, host="127.0.0.1", port=1), connect_timeout=1)
    # When finishes are handed over: one that may wait, one that may not, one whose worker is stopping
    waits = writer.finish_later(_finish(run_id, 1), retry_for=30)
    hurried = writer.finish_later(_finish(uuid.uuid4(), 1), retry_for=0)
    stopping = writer.finish_later(_finish(uuid.uuid4(), 1), retry_for=30, stop=lambda: True)
    # Then those that may not wait fail at once, the other waits
    with pytest.raises(psycopg.OperationalError):
        hurried.result(timeout=10)
    with pytest.raises(psycopg.OperationalError):
        stopping.result(timeout=10)
    assert not waits.done()
    assert not writer.drain(timeout=0.2)
    # and when the database answers again, it is written
    writer._conninfo = real._conninfo
    answer = waits.result(timeout=10)
    assert answer is not None
    assert answer["status"] == "SUCCEEDED"
    assert writer.drain(timeout=5)
    assert statuses(parts.engine, run_id) == ["PENDING", "QUEUED", "RUNNING", "SUCCEEDED"]
    writer.close()


def _one_started_one_queued(parts: Engine_) -> tuple[TransitionWriter, uuid.UUID, uuid.UUID]:
    """The executor's writer, a run it started and a queued one."""
    parts.pipeline("noop", [])
    first, second = parts.submit("noop", 2)
    assert parts.relay.relay_once() == 2
    writer = parts.executor.transitions
    assert writer.start(first, "worker:test:1") is not None
    return writer, first, second


def test_a_batch_of_starts_and_finishes_is_one_transaction(parts: Engine_) -> None:
    writer, first, second = _one_started_one_queued(parts)
    # When one batch starts a run and finishes another
    answers = writer._execute([_Request(second, start_by="worker:test:1"), _Request(first, finish=_finish(first, 1))])
    # Then both are written, by one transaction (one commit, one WAL flush)
    assert answers[0]["id"] == second
    assert answers[1]["status"] == "SUCCEEDED"
    with parts.engine.connect() as connection:
        xids = connection.execute(
            text(
                "SELECT DISTINCT xmin::text FROM run_events"
                " WHERE (run_id = :first AND to_status = 'SUCCEEDED') OR (run_id = :second AND to_status = 'RUNNING')"
            ),
            {"first": first, "second": second},
        ).all()
    assert len(xids) == 1


def test_text_that_needs_quoting_reaches_postgres_unchanged(parts: Engine_) -> None:
    parts.pipeline("noop", [])
    [run_id] = parts.submit("noop")
    assert parts.relay.relay_once() == 1
    writer = parts.executor.transitions
    assert writer.start(run_id, "worker:test:1") is not None
    # Given an error message and log lines with every character an array or SQL literal treats specially
    message = 'it\'s "NULL", a {brace}, a comma, a back\\slash, 100% and ünïcode'
    lines = b'{"message": "a \\"quoted\\" line", "x": "\\\\"}\n\x00\xff\n'
    finish = _finish(
        run_id,
        1,
        to_status="FAILED",
        error_code="NULL",
        error_message=message,
        reason="failed",
        from_statuses=sources(RunStatus.FAILED, [RunStatus.RUNNING]),
        log={"log_first_n": [1], "log_last_n": [2], "log_chunks": [lines]},
    )
    # When it is written
    assert writer.finish(finish) is not None
    # Then Postgres holds exactly those values
    with parts.engine.connect() as connection:
        run = connection.execute(
            text("SELECT error_code, error_message FROM runs WHERE id = :id"), {"id": run_id}
        ).one()
        chunk = connection.execute(text("SELECT lines FROM run_log_chunks WHERE run_id = :id"), {"id": run_id}).one()
    assert tuple(run) == ("NULL", message)
    assert bytes(chunk[0]) == lines


def test_the_writer_prepares_its_statements_once_per_connection(parts: Engine_) -> None:
    parts.pipeline("prepared", [])
    run_ids = parts.submit("prepared", 3)
    parts.relay.relay_once()
    writer = parts.executor.transitions
    for run_id in run_ids:
        assert writer.start(run_id, "worker:test:1") is not None
    connection = writer._connection
    assert connection is not None
    prepared = connection.execute("SELECT name, generic_plans + custom_plans FROM pg_prepared_statements").fetchall()
    # one server-side statement for start_runs, run by each batch (not parsed and planned again)
    assert ("conveyor_start_runs", 3) in [tuple(row) for row in prepared]


def test_an_error_message_postgres_cannot_store_is_written_with_replacements(parts: Engine_) -> None:
    parts.pipeline("unstorable", [])
    [run_id] = parts.submit("unstorable")
    assert parts.relay.relay_once() == 1
    writer = parts.executor.transitions
    assert writer.start(run_id, "worker:test:1") is not None
    # Given an error message as a messy file's cell can make it: a NUL and a lone surrogate (surrogateescape)
    finish = _finish(
        run_id,
        1,
        to_status="FAILED",
        error_code="bad_cell",
        error_message="cell A1 is 'x\x00y' and '\udcff'",
        reason="failed",
        from_statuses=sources(RunStatus.FAILED, [RunStatus.RUNNING]),
    )
    # When it is written, the outcome is not lost: Postgres text holds neither, so each becomes U+FFFD
    assert writer.finish(finish) is not None
    with parts.engine.connect() as connection:
        run = connection.execute(text("SELECT status, error_message FROM runs WHERE id = :id"), {"id": run_id}).one()
    assert tuple(run) == ("FAILED", "cell A1 is 'x\ufffdy' and '\ufffd'")


def test_a_worker_id_that_looks_like_sql_is_stored_as_text(parts: Engine_) -> None:
    parts.pipeline("hostile", [])
    [run_id] = parts.submit("hostile")
    assert parts.relay.relay_once() == 1
    # Given a worker id that would end a SQL string literal (with and without a backslash before the quote)
    worker_id = "w\\'); DELETE FROM runs; --'"
    # When it starts a run, the batch's EXECUTE carries it as one literal
    row = parts.executor.transitions.start(run_id, worker_id)
    assert row is not None
    with parts.engine.connect() as connection:
        stored = connection.execute(text("SELECT worker_id FROM runs WHERE id = :id"), {"id": run_id}).scalar_one()
    assert stored == worker_id
    assert statuses(parts.engine, run_id) == ["PENDING", "QUEUED", "RUNNING"]


def test_text_is_written_in_utf8_whatever_client_encoding_the_environment_asks_for(parts: Engine_) -> None:
    parts.pipeline("encoded", [])
    [run_id] = parts.submit("encoded")
    assert parts.relay.relay_once() == 1
    # Given a writer whose connection string asks for a client encoding that cannot hold Chinese text
    real = parts.executor.transitions
    writer = TransitionWriter(make_conninfo(real._conninfo, client_encoding="LATIN1"))
    try:
        # When a worker id in Chinese starts the run (the batch's text is quoted for UTF-8)
        row = writer.start(run_id, "工作者:主机:1")
        # Then it is stored as it was, not refused or mangled
        assert row is not None
        with parts.engine.connect() as connection:
            stored = connection.execute(text("SELECT worker_id FROM runs WHERE id = :id"), {"id": run_id}).scalar_one()
        assert stored == "工作者:主机:1"
    finally:
        writer.close()


def test_a_lost_connection_is_an_outage_and_the_next_batch_connects_again(parts: Engine_) -> None:
    writer, _first, second = _one_started_one_queued(parts)
    connection = writer._connection
    assert connection is not None
    # Given the writer's backend is gone (a restart, an admin's pg_terminate_backend)
    with parts.engine.connect() as other:
        other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": connection.info.backend_pid})
    # When a batch is written, it fails as an outage (the callers' retry applies), not as a bad request
    with pytest.raises(psycopg.OperationalError) as failed:
        writer.start(second, "worker:test:1")
    assert database_unavailable(failed.value)
    # and the next batch connects again and is written
    assert writer.start(second, "worker:test:1") is not None
    assert statuses(parts.engine, second) == ["PENDING", "QUEUED", "RUNNING"]


def test_starts_of_two_worker_ids_go_in_batches_of_their_own_and_are_all_answered(parts: Engine_) -> None:
    parts.pipeline("noop", [])
    run_ids = parts.submit("noop", 6)
    assert parts.relay.relay_once() == 6
    a, b = (_Request(run_ids[0], start_by="worker:a"), _Request(run_ids[1], start_by="worker:b"))
    finish = _Request(run_ids[2], finish=_finish(run_ids[2], 1))
    # A batch takes the starts of the first worker id (and every finish); the other's wait for the next one
    assert _one_worker([a, finish, b]) == ([a, finish], [b])
    assert _one_worker([a, finish]) == ([a, finish], [])
    # and through the writer, every start is answered, under its own worker id
    writer = parts.executor.transitions
    with ThreadPoolExecutor(6) as pool:
        rows = list(pool.map(lambda i: writer.start(run_ids[i], f"worker:{i % 2}"), range(6)))
    assert all(row is not None for row in rows)
    with parts.engine.connect() as connection:
        workers = dict(
            connection.execute(text("SELECT id, worker_id FROM runs WHERE id = ANY(:ids)"), {"ids": run_ids}).all()
        )
    assert {workers[run_ids[i]] for i in range(6)} == {"worker:0", "worker:1"}
    assert all(workers[run_ids[i]] == f"worker:{i % 2}" for i in range(6))
