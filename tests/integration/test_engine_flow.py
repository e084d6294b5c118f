"""Submit → relay → execute → final state, with the real SQL, Redis and worker code (no HTTP)."""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

import pytest
from sqlalchemy import text

from app.core.states import RunStatus
from app.domain.runlogs import stream_key
from app.logs import log_context
from tests.integration.engine_parts import ROOT, Engine_
from tests.integration.helpers import count, log_lines, run_status, statuses, vanish_worker
from workers.broker import messages_key
from workers.executor import Executor
from workers.runtime import Heartbeat


def test_a_run_goes_pending_queued_running_succeeded(parts: Engine_) -> None:
    parts.pipeline("hello", [{"type": "log", "message": "hi there"}])
    [run_id] = parts.submit("hello")
    assert parts.relay.relay_once() == 1
    assert run_status(parts.engine, run_id) == "QUEUED"
    assert parts.queued_messages() == [str(run_id)]
    assert parts.executor.execute(run_id) is RunStatus.SUCCEEDED
    assert statuses(parts.engine, run_id) == ["PENDING", "QUEUED", "RUNNING", "SUCCEEDED"]
    lines = [line.message for line in log_lines(parts.engine, run_id)]
    assert lines[1] == "hi there"
    assert lines[-1].startswith("SUCCEEDED in ")
    assert count(parts.engine, "outbox", "true") == 0


def test_a_pipeline_of_no_steps_succeeds_with_its_lines_its_progress_and_its_ignored_parameters(parts: Engine_) -> None:
    # Given a pipeline with no steps, run with a parameter it does not declare
    parts.pipeline("noop", [])
    [run_id] = parts.submit("noop", params={"who": "ops"})
    parts.relay.relay_once()
    # When a worker runs it
    assert parts.executor.execute(run_id) is RunStatus.SUCCEEDED
    # Then it says what the engine would have said, and its progress is complete
    assert statuses(parts.engine, run_id) == ["PENDING", "QUEUED", "RUNNING", "SUCCEEDED"]
    lines = [line.message for line in log_lines(parts.engine, run_id)]
    assert lines[0].startswith("attempt 1 started on ")
    assert lines[1] == "parameters ignored, the pipeline declares none: who"
    assert lines[2].startswith("SUCCEEDED in ")
    assert len(lines) == 3
    with parts.engine.connect() as connection:
        progress = connection.execute(text("SELECT progress FROM runs WHERE id = :id"), {"id": run_id}).scalar_one()
    assert progress == {"rows_in": 0, "rows_out": 0, "bytes": 0, "percent": 100.0}


def test_a_log_only_pipeline_renders_its_templates_as_a_data_pipeline_does(parts: Engine_) -> None:
    from sqlalchemy.orm import Session

    from app.domain.pipelines import create_pipeline

    spec = {
        "params": {"who": {"type": "string", "default": "world"}},
        "steps": [{"type": "log", "message": "hello {{ params.who }}"}],
    }
    with Session(parts.engine) as session, session.begin():
        create_pipeline(session, namespace="default", name="greet", description="", spec=spec)
    [run_id] = parts.submit("greet", params={"who": "ops"})
    parts.relay.relay_once()
    assert parts.executor.execute(run_id) is RunStatus.SUCCEEDED
    lines = [line.message for line in log_lines(parts.engine, run_id)]
    assert "hello ops" in lines
    assert not [line for line in lines if "{{" in line]


def test_pipelines_without_an_output_leave_no_folder_behind(parts: Engine_) -> None:
    # Given a log-only pipeline (no DuckDB, no file) and a SQL pipeline with no output (DuckDB in a scratch folder)
    parts.pipeline("talk", [{"type": "log", "message": "run {{ run.id }}"}])
    parts.pipeline("query", [{"id": "q", "type": "sql", "sql": "SELECT 1 AS n"}])
    runs = [*parts.submit("talk", count=2), *parts.submit("query")]
    parts.relay.relay_once()

    # When they run (the log-only one twice: its parsed spec is kept between runs)
    assert [parts.executor.execute(run_id) for run_id in runs] == [RunStatus.SUCCEEDED] * 3

    # Then each logged what it did, and no run left a folder in the data root
    for run_id in runs[:2]:
        assert f"run {run_id}" in [line.message for line in log_lines(parts.engine, run_id)]
    assert any("step 1/1 q" in line.message for line in log_lines(parts.engine, runs[2]))
    scratch = parts.settings.data_path / "tmp"
    assert not scratch.exists() or not list(scratch.iterdir())


def test_parameters_given_to_a_pipeline_that_declares_none_are_ignored(parts: Engine_) -> None:
    parts.pipeline("plain", [{"type": "log", "message": "hi"}])
    [run_id] = parts.submit("plain", params={"i": 1})
    parts.relay.relay_once()
    assert parts.executor.execute(run_id) is RunStatus.SUCCEEDED
    lines = [line.message for line in log_lines(parts.engine, run_id)]
    assert "parameters ignored, the pipeline declares none: i" in lines


def test_a_duplicate_message_runs_nothing(parts: Engine_) -> None:
    parts.pipeline("once", [{"type": "log", "message": "x"}])
    [run_id] = parts.submit("once")
    parts.relay.relay_once()
    assert parts.executor.execute(run_id) is RunStatus.SUCCEEDED
    assert parts.executor.execute(run_id) is None
    assert statuses(parts.engine, run_id).count("RUNNING") == 1


def test_two_threads_receiving_the_same_message_start_it_once(parts: Engine_) -> None:
    parts.pipeline("nap", [{"type": "sleep", "seconds": 0.3}])
    [run_id] = parts.submit("nap")
    parts.relay.relay_once()
    results: list[RunStatus | None] = []
    threads = [threading.Thread(target=lambda: results.append(parts.executor.execute(run_id))) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results, key=str) == [None, None, None, RunStatus.SUCCEEDED]


def test_a_cancelled_queued_run_is_not_started(parts: Engine_) -> None:
    from sqlalchemy.orm import Session

    from app.domain.runs import cancel_run

    parts.pipeline("c", [])
    [run_id] = parts.submit("c")
    parts.relay.relay_once()
    with Session(parts.engine) as session, session.begin():
        cancel_run(session, run_id, ROOT)
    assert parts.executor.execute(run_id) is None
    assert run_status(parts.engine, run_id) == "CANCELLED"


def test_a_failing_run_retries_then_fails_for_good(parts: Engine_) -> None:
    parts.pipeline("boom", [{"type": "fail", "message": "kaboom"}])
    [run_id] = parts.submit("boom", max_retries=1)
    parts.relay.relay_once()
    assert parts.executor.execute(run_id) is RunStatus.RETRYING
    assert count(parts.engine, "outbox", "run_id = :id", id=run_id) == 1
    assert parts.relay.relay_once() == 1  # backoff is 0 in the test settings
    assert parts.executor.execute(run_id) is RunStatus.FAILED
    assert statuses(parts.engine, run_id) == ["PENDING", "QUEUED", "RUNNING", "RETRYING", "QUEUED", "RUNNING", "FAILED"]
    with parts.engine.connect() as connection:
        row = connection.execute(
            text("SELECT attempt, error_code, error_message FROM runs WHERE id = :id"), {"id": run_id}
        ).one()
    assert tuple(row) == (2, "pipeline_step_failed", "kaboom")  # the same code as a fail step in a data pipeline
    numbers = [line.n for line in log_lines(parts.engine, run_id)]
    assert numbers == list(range(1, len(numbers) + 1))  # numbering continues across attempts


def test_a_retry_waits_for_its_backoff(parts: Engine_) -> None:
    parts.pipeline("slowretry", [{"type": "fail", "message": "no"}])
    [run_id] = parts.submit("slowretry", max_retries=3)
    with parts.engine.begin() as connection:
        connection.execute(text("UPDATE runs SET retry_backoff_seconds = 3600 WHERE id = :id"), {"id": run_id})
    parts.relay.relay_once()
    assert parts.executor.execute(run_id) is RunStatus.RETRYING
    assert parts.relay.relay_once() == 0
    assert run_status(parts.engine, run_id) == "RETRYING"


def test_a_run_over_its_timeout_is_timed_out(parts: Engine_) -> None:
    parts.pipeline("long", [{"type": "sleep", "seconds": 30}])
    [run_id] = parts.submit("long", timeout_seconds=1)
    parts.relay.relay_once()
    started = time.monotonic()
    assert parts.executor.execute(run_id) is RunStatus.TIMED_OUT
    assert time.monotonic() - started < 10
    with parts.engine.connect() as connection:
        assert (
            connection.execute(text("SELECT error_code FROM runs WHERE id = :id"), {"id": run_id}).scalar() == "timeout"
        )


def test_a_running_run_stops_when_cancelled(parts: Engine_) -> None:
    from sqlalchemy.orm import Session

    from app.domain.runs import cancel_run

    parts.pipeline("longer", [{"type": "sleep", "seconds": 60}])
    [run_id] = parts.submit("longer")
    parts.relay.relay_once()
    heartbeat = Heartbeat(parts.engine, parts.active, parts.settings.heartbeat_seconds)
    heartbeat.start()
    try:
        outcome: list[RunStatus | None] = []
        worker = threading.Thread(target=lambda: outcome.append(parts.executor.execute(run_id)))
        worker.start()
        deadline = time.monotonic() + 10
        while run_status(parts.engine, run_id) != "RUNNING" and time.monotonic() < deadline:
            time.sleep(0.02)
        with Session(parts.engine) as session, session.begin():
            assert cancel_run(session, run_id, ROOT).status == "RUNNING"
        worker.join(timeout=10)
    finally:
        heartbeat.stopped.set()
    assert outcome == [RunStatus.CANCELLED]
    assert statuses(parts.engine, run_id)[-2:] == ["RUNNING", "CANCELLED"]


def test_the_reaper_retries_a_run_whose_worker_vanished(parts: Engine_) -> None:
    parts.pipeline("lost", [])
    [run_id] = parts.submit("lost", max_retries=1)
    parts.relay.relay_once()
    vanish_worker(parts.engine, run_id)  # a worker started it, then died without a word
    assert parts.reaper.reap_lost() == 1
    assert run_status(parts.engine, run_id) == "RETRYING"
    parts.relay.relay_once()
    assert parts.executor.execute(run_id) is RunStatus.SUCCEEDED
    events = statuses(parts.engine, run_id)
    assert events[-4:] == ["RETRYING", "QUEUED", "RUNNING", "SUCCEEDED"]


def test_the_reaper_fails_a_lost_run_without_retries_left(parts: Engine_) -> None:
    parts.pipeline("lost2", [])
    [run_id] = parts.submit("lost2", max_retries=0)
    parts.relay.relay_once()
    vanish_worker(parts.engine, run_id)
    parts.reaper.reap_lost()
    with parts.engine.connect() as connection:
        row = connection.execute(text("SELECT status, error_code FROM runs WHERE id = :id"), {"id": run_id}).one()
    assert tuple(row) == ("FAILED", "worker_lost")


def test_the_reaper_resends_what_the_broker_lost_and_only_that(parts: Engine_) -> None:
    parts.pipeline("waiting", [])
    lost, kept = parts.submit("waiting", count=2)
    parts.relay.relay_once()
    with parts.engine.begin() as connection:
        connection.execute(text("UPDATE runs SET dispatched_at = now() - interval '1 hour'"))
    key = messages_key(parts.broker, parts.settings.queue)
    parts.broker.client.hdel(
        key, *[m for m in parts.broker.client.hkeys(key) if parts.queued_messages_for(m) == str(lost)]
    )
    assert parts.reaper.resend_unstarted() == 1
    events = statuses(parts.engine, lost)
    assert events[-1] == "QUEUED"
    assert events.count("QUEUED") == 2
    assert statuses(parts.engine, kept).count("QUEUED") == 1
    parts.relay.relay_once()
    assert sorted(parts.queued_messages()) == sorted([str(lost), str(kept)])


def test_two_relays_never_send_a_run_twice(parts: Engine_) -> None:
    from scheduler.relay import Relay

    parts.pipeline("many", [])
    run_ids = parts.submit("many", count=1000)
    relays = [Relay(engine=parts.engine, broker=parts.broker, relay_id=f"r{i}", batch=50) for i in range(3)]

    def drain(relay: Relay) -> None:
        while relay.relay_once():
            pass

    threads = [threading.Thread(target=drain, args=(relay,)) for relay in relays]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    sent = parts.queued_messages()
    assert len(sent) == 1000
    assert set(sent) == {str(r) for r in run_ids}
    assert count(parts.engine, "runs", "status = 'QUEUED'") == 1000
    assert count(parts.engine, "run_events", "to_status = 'QUEUED'") == 1000


def test_a_worker_binds_the_run_and_its_pipeline_to_every_log_line(
    parts: Engine_, monkeypatch: pytest.MonkeyPatch
) -> None:
    pipeline_id = parts.pipeline(f"bound-{uuid.uuid4().hex[:8]}", [])
    [run_id] = parts.submit(str(pipeline_id))
    parts.relay.relay_once()
    seen: list[dict[str, str]] = []
    real = Executor._run_steps

    def watching(self: Executor, ctx: Any, row: Any) -> Any:
        seen.append(log_context.get())
        return real(self, ctx, row)

    monkeypatch.setattr(Executor, "_run_steps", watching)
    assert parts.executor.execute(run_id) is RunStatus.SUCCEEDED
    assert seen == [{"run_id": str(run_id), "pipeline_id": str(pipeline_id)}]
    assert log_context.get() == {}  # unbound once the attempt is over


def test_a_run_not_waited_for_is_finished_by_the_writer_and_drained_on_shutdown(
    parts: Engine_, redis_client: Any
) -> None:
    parts.pipeline("handed", [{"type": "log", "message": "hi there"}])
    run_ids = parts.submit("handed", count=5)
    assert parts.relay.relay_once() == 5
    # When a worker thread runs them without waiting for their finishes to be committed
    assert [parts.executor.run(run_id, wait=False) for run_id in run_ids] == [None] * 5
    # Then once the writer is drained (as a stopping worker does) every run is finished, lines and all
    parts.executor.drain(timeout=10)
    for run_id in run_ids:
        assert statuses(parts.engine, run_id) == ["PENDING", "QUEUED", "RUNNING", "SUCCEEDED"]
        lines = [line.message for line in log_lines(parts.engine, run_id)]
        assert lines[1] == "hi there"
        assert lines[-1].startswith("SUCCEEDED in ")
    # and no longer heartbeated, its live stream ended
    assert parts.active.snapshot() == []
    stream = stream_key(parts.settings.redis_namespace, run_ids[-1])

    def last_entry() -> dict[bytes, bytes]:
        return next((entry for _, entry in redis_client.xrevrange(stream, count=1)), {})

    wait = time.monotonic() + 10
    while b"end" not in last_entry() and time.monotonic() < wait:
        time.sleep(0.01)
    assert last_entry() == {b"end": b"SUCCEEDED"}
