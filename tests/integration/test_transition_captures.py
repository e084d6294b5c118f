"""finish_runs captures the rollup change and the webhooks of the runs it finishes itself, once per batch: the
same rows the row triggers write for any other update, each run exactly once, and the triggers still fire for
every other statement, in the same transaction too."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from app.db.queries import psycopg_sql, query

FINISH = psycopg_sql(str(query("finish_runs")))
PARTIAL_COLUMNS = (
    "hour, namespace_id, kind, trigger, status, pipeline_id, deployment_id, error_code, created_by, runs,"
    " duration_n, duration_sum, wait_n, wait_sum, rows_sum, bytes_sum, duration_bin, wait_bin"
)


@pytest.fixture
def connection(database_url: str, clean_db: object) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(database_url, autocommit=True) as connection:
        yield connection


def _namespace(connection: psycopg.Connection[Any], *, subscribed: bool) -> uuid.UUID:
    namespace = uuid.uuid4()
    connection.execute("INSERT INTO namespaces (id, name) VALUES (%s, %s)", (namespace, f"ns-{namespace.hex[:8]}"))
    if subscribed:
        connection.execute(
            "INSERT INTO webhook_subscriptions (id, namespace_id, url, event_types, secret)"
            " VALUES (gen_random_uuid(), %s, 'https://example.com/hook', ARRAY['run.succeeded', 'run.failed'], 'x')",
            (namespace,),
        )
    return namespace


def _running(connection: psycopg.Connection[Any], namespace: uuid.UUID, count: int) -> list[uuid.UUID]:
    ids = sorted(uuid.uuid4() for _ in range(count))
    connection.execute(
        "INSERT INTO runs (id, namespace_id, kind, trigger, status, retry_backoff_seconds, retry_backoff_max_seconds,"
        " retry_jitter, timeout_seconds, attempt, queued_at, started_at)"
        " SELECT id, %s, 'pipeline', 'batch', 'RUNNING', 1, 60, 0.1, 3600, 1, now() - interval '2 s',"
        " now() - interval '1 s' FROM unnest(%s::uuid[]) AS id",
        (namespace, ids),
    )
    return ids


def _finish(connection: psycopg.Connection[Any], outcomes: dict[uuid.UUID, str]) -> list[tuple[Any, ...]]:
    n = len(outcomes)
    return connection.execute(
        FINISH,
        {
            "run_ids": list(outcomes),
            "attempts": [1] * n,
            "to_statuses": list(outcomes.values()),
            "from_statuses": ["RUNNING"] * n,
            "error_codes": [None if s == "SUCCEEDED" else "boom" for s in outcomes.values()],
            "error_messages": [None] * n,
            "progress": ['{"rows": 7}'] * n,
            "log_lines": [0] * n,
            "reasons": ["done"] * n,
            "actors": ["w"] * n,
            "details": ["{}"] * n,
            **{name: [] for name in ("log_run_ids", "log_attempts", "log_first_n", "log_last_n", "log_chunks")},
        },
    ).fetchall()


def _queued(connection: psycopg.Connection[Any], run: uuid.UUID) -> list[tuple[Any, ...]]:
    sql = f"SELECT {PARTIAL_COLUMNS} FROM run_rollup_changes WHERE run_id = %s ORDER BY id"
    return connection.execute(sql, (run,)).fetchall()


def _partial(connection: psycopg.Connection[Any], run: uuid.UUID) -> tuple[Any, ...] | None:
    return connection.execute(f"SELECT {PARTIAL_COLUMNS} FROM run_partials WHERE run_id = %s", (run,)).fetchone()


def _deliveries(connection: psycopg.Connection[Any]) -> list[tuple[Any, ...]]:
    sql = "SELECT payload->'data'->>'run_id', event_type FROM webhook_deliveries ORDER BY 1"
    return connection.execute(sql).fetchall()


def test_a_finish_batch_queues_each_run_once_as_the_trigger_would(connection: psycopg.Connection[Any]) -> None:
    subscribed = _namespace(connection, subscribed=True)
    quiet = _namespace(connection, subscribed=False)
    runs = _running(connection, subscribed, 3)
    others = _running(connection, quiet, 2)
    outcomes = {runs[0]: "SUCCEEDED", runs[1]: "FAILED", runs[2]: "SUCCEEDED", others[0]: "SUCCEEDED"}
    with connection.transaction():
        finished = _finish(connection, outcomes)
        # another statement of the same transaction is captured by the triggers again
        connection.execute("UPDATE runs SET status = 'FAILED', finished_at = now() WHERE id = %s", (others[1],))
        setting = connection.execute("SELECT current_setting('conveyor.finish_runs_captures', true)").fetchone()
    assert setting == ("off",)
    assert sorted((r[0], r[2]) for r in finished) == sorted(outcomes.items())
    for run in [*runs, *others]:
        assert _queued(connection, run) == [_partial(connection, run)]
    assert _queued(connection, runs[0])[0][14] == 7  # rows_sum, from the progress
    assert _deliveries(connection) == sorted(
        [(str(runs[0]), "run.succeeded"), (str(runs[1]), "run.failed"), (str(runs[2]), "run.succeeded")]
    )


def test_a_stale_finish_captures_nothing(connection: psycopg.Connection[Any]) -> None:
    [run] = _running(connection, _namespace(connection, subscribed=True), 1)
    _finish(connection, {run: "SUCCEEDED"})
    assert _finish(connection, {run: "FAILED"}) == []  # the attempt is over: matches nothing
    assert len(_queued(connection, run)) == 1
    assert len(_deliveries(connection)) == 1


def test_a_final_run_is_recounted_only_when_its_figures_change(connection: psycopg.Connection[Any]) -> None:
    [run] = _running(connection, _namespace(connection, subscribed=False), 1)
    _finish(connection, {run: "SUCCEEDED"})
    connection.execute("UPDATE runs SET logs_purged_at = now() WHERE id = %s", (run,))
    assert len(_queued(connection, run)) == 1  # nothing counted changed
    before = _partial(connection, run)
    connection.execute("""UPDATE runs SET progress = '{"rows": 9}' WHERE id = %s""", (run,))
    queued = _queued(connection, run)
    assert len(queued) == 3
    assert queued[-1] == _partial(connection, run)
    assert before is not None
    assert (queued[1][9], queued[1][14]) == (-1, -before[14])  # retracted as it was counted
    connection.execute("UPDATE runs SET status = 'QUEUED', finished_at = NULL WHERE id = %s", (run,))
    assert sum(row[9] for row in _queued(connection, run)) == 0  # a manual retry: no longer counted
