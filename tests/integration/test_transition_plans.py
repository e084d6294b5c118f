"""start_runs and finish_runs keep one plan per connection: it must stay index probes however runs grows."""

from __future__ import annotations

import uuid

import psycopg
import pytest

from app.db import migrate
from app.db.queries import psycopg_sql, query
from app.settings import Settings
from tests.servers import TestServers

START = psycopg_sql(str(query("start_runs")))
FINISH = psycopg_sql(str(query("finish_runs")))
GROW_RUNS = """
INSERT INTO runs (id, namespace_id, kind, trigger, status, retry_backoff_seconds, retry_backoff_max_seconds,
                  retry_jitter, timeout_seconds)
SELECT gen_random_uuid(), (SELECT id FROM namespaces WHERE name = 'default'), 'pipeline', 'batch', 'QUEUED',
       1, 60, 0.1, 3600
FROM generate_series(1, 20000)
"""


def _transitions(connection: psycopg.Connection[object]) -> None:
    """One start and one finish of a run that does not exist: enough to plan (or reuse the plan of) both."""
    run = uuid.uuid4()
    connection.execute(START, {"run_ids": [run], "worker_id": "w", "from_statuses": ["QUEUED"]})
    finish = {
        "run_ids": [run],
        "attempts": [1],
        "to_statuses": ["SUCCEEDED"],
        "from_statuses": ["RUNNING"],
        "error_codes": [None],
        "error_messages": [None],
        "progress": [None],
        "log_lines": [0],
        "reasons": ["succeeded"],
        "actors": ["w"],
        "details": ["{}"],
        **{name: [] for name in ("log_run_ids", "log_attempts", "log_first_n", "log_last_n", "log_chunks")},
    }
    connection.execute(FINISH, finish)


def test_a_plan_made_on_an_empty_unanalysed_table_never_scans_runs(servers: TestServers) -> None:
    """A worker connects while runs is small (and autovacuum may never have analysed it): the plan it keeps
    for the connection must not read the whole table once it holds many runs."""
    url = servers.create_database()
    try:
        migrate.upgrade(Settings(database_url=url).sqlalchemy_url)
        plans: list[str] = []
        with psycopg.connect(url, autocommit=True) as connection:
            try:
                connection.execute("LOAD 'auto_explain'")
            except psycopg.Error:
                pytest.skip("this Postgres has no auto_explain to show the plans of a function's statements")
            connection.add_notice_handler(lambda notice: plans.append(notice.message_primary or ""))
            for setting in ("auto_explain.log_min_duration = 0", "auto_explain.log_nested_statements = on"):
                connection.execute(f"SET {setting}")
            connection.execute("SET client_min_messages = log")
            _transitions(connection)  # given both planned on an empty table, never analysed
            connection.execute(GROW_RUNS)  # when the table grows (no ANALYZE)
            plans.clear()
            _transitions(connection)
        kept = [plan for plan in plans if "UPDATE runs r" in plan]
        assert len(kept) == 2, plans  # then the plans they keep (start_runs', finish_runs')
        for plan in kept:
            assert "Index Scan using pk_runs" in plan or "Bitmap Index Scan on pk_runs" in plan, plan
            assert "Seq Scan on runs" not in plan, plan
    finally:
        servers.drop_database(url)
