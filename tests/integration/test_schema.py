"""The schema: Alembic builds it, round-trips it, matches the models; hot queries exist and use indexes."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, create_engine, text

from app.db import accounts, datasets, deployments, migrate, models, rollups  # noqa: F401  (every table on the metadata)
from app.db.base import Base
from app.db.queries import all_queries, query
from app.settings import Settings
from tests.servers import TestServers

ROOT = Path(__file__).parents[2]


@pytest.fixture
def scratch_url(servers: TestServers):  # type: ignore[no-untyped-def]
    url = servers.create_database()
    yield Settings(database_url=url).sqlalchemy_url
    servers.drop_database(url)


def test_downgrade_then_upgrade_round_trips(scratch_url: str) -> None:
    migrate.upgrade(scratch_url)
    migrate.downgrade(scratch_url, "base")
    engine = create_engine(scratch_url)
    with engine.connect() as connection:
        tables = connection.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).scalars()
        assert set(tables) <= {"alembic_version"}
    migrate.upgrade(scratch_url)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT name FROM namespaces")).scalars().all() == ["default"]
    engine.dispose()


def test_the_models_match_the_migrations(engine: Engine) -> None:
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []


def test_the_database_is_at_head(engine: Engine) -> None:
    assert migrate.current_revision(engine) == migrate.head_revision()


def test_every_named_query_the_code_uses_exists() -> None:
    used = set()
    for path in [*ROOT.glob("app/**/*.py"), *ROOT.glob("workers/**/*.py"), *ROOT.glob("scheduler/**/*.py")]:
        used |= set(re.findall(r'query\("([a-z_]+)"\)', path.read_text()))
    assert used, "the scan found no named queries"
    assert used <= set(all_queries()), used - set(all_queries())
    assert set(all_queries()) - used == set(), "named queries nobody uses"


def test_every_named_query_is_valid_sql(engine: Engine) -> None:
    """Postgres parses and plans each one (EXPLAIN without running it)."""
    with engine.connect() as connection:
        for name, body in all_queries().items():
            if re.search(r"^\s*VACUUM\b", body, re.MULTILINE):
                continue  # maintenance, not plannable: EXPLAIN VACUUM is a syntax error
            params = {p: None for p in re.findall(r"(?<!:):([a-z_]+)", body)}
            explained = connection.execute(text("EXPLAIN " + str(query(name))), params)
            assert explained.first() is not None, name
            connection.rollback()


@pytest.fixture(scope="module")
def many_runs(servers: TestServers) -> Iterator[Engine]:
    """100,000 runs over 30 days across 20 pipelines, then ANALYZE: in a database of the module's own, made once
    for the tests that only plan queries on it (14 s on an idle machine, over a minute under load, per test)."""
    url = servers.create_migrated_database()
    engine = create_engine(Settings(database_url=url).sqlalchemy_url)
    with engine.begin() as connection:
        if connection.execute(text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")).scalar():
            # The tests plan queries on runs: the rollup and webhook triggers' rows (most of the time) are not read.
            connection.execute(text("SET LOCAL session_replication_role = replica"))
        connection.execute(
            text("""
            INSERT INTO pipelines (id, namespace_id, name)
            SELECT gen_random_uuid(), (SELECT id FROM namespaces WHERE name = 'default'), 'p' || i
            FROM generate_series(1, 20) i""")
        )
        connection.execute(
            text("""
            INSERT INTO runs (id, namespace_id, kind, trigger, status, pipeline_id, pipeline_version,
                              retry_backoff_seconds, retry_backoff_max_seconds, retry_jitter, timeout_seconds,
                              created_at)
            SELECT gen_random_uuid(), (SELECT id FROM namespaces WHERE name = 'default'),
                   (ARRAY['pipeline','ingest'])[1 + i % 2], (ARRAY['api','batch','schedule'])[1 + i % 3],
                   (ARRAY['SUCCEEDED','FAILED','QUEUED','RUNNING','CANCELLED'])[1 + i % 5],
                   (SELECT array_agg(id) FROM pipelines)[1 + i % 20], 1, 1, 1, 0, 60,
                   now() - (i || ' seconds')::interval * 26
            FROM generate_series(1, 100000) i""")
        )
        connection.execute(text("ANALYZE runs"))
    yield engine
    engine.dispose()
    servers.drop_database(url)


WHERES = [
    "true",
    "status = 'FAILED'",
    "kind = 'ingest'",
    "trigger = 'schedule'",
    "pipeline_id = (SELECT id FROM pipelines LIMIT 1)",
    "created_at >= now() - interval '2 days' AND created_at < now() - interval '1 day'",
    "(created_at, id) < (now() - interval '20 days', 'ffffffff-ffff-ffff-ffff-ffffffffffff'::uuid)",
]


def test_run_list_queries_are_index_scans_without_sorting(many_runs: Engine) -> None:
    with many_runs.connect() as connection:
        for where in WHERES:
            plan = "\n".join(
                connection.execute(
                    text(f"EXPLAIN SELECT * FROM runs WHERE {where} ORDER BY created_at DESC, id DESC LIMIT 51")
                ).scalars()
            )
            assert "Seq Scan on runs" not in plan, plan
            assert "Sort" not in plan, plan
            assert "Index" in plan, plan


def test_deployment_active_run_counts_read_the_partial_index(many_runs: Engine) -> None:
    """ix_runs_deployment_active holds only deployments' runs (0016): every reader names a deployment, so it fits."""
    with many_runs.connect() as connection:
        definition = connection.execute(
            text("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_runs_deployment_active'")
        ).scalar_one()
        plan = "\n".join(
            connection.execute(
                text("EXPLAIN " + str(query("active_runs"))),
                {"ids": [uuid.uuid4(), uuid.uuid4()]},
            ).scalars()
        )
    assert "deployment_id IS NOT NULL" in definition  # a submitted run's active states add no entry
    assert "ix_runs_deployment_active" in plan, plan
    assert "Seq Scan on runs" not in plan, plan


def _occurrence_capture(engine: Engine) -> str:
    with engine.connect() as connection:
        return str(
            connection.execute(text("SELECT pg_get_functiondef('capture_occurrence_webhook'::regproc)")).scalar_one()
        )


def test_a_revision_applies_the_webhook_capture_as_it_was_then_not_as_it_is_now(scratch_url: str) -> None:
    # Given a database built up to 0017 (before occurrences had fire_times, 0019)
    engine = create_engine(scratch_url)
    migrate.upgrade(scratch_url, "0017_batch_captures")
    # Then its occurrence webhook reads no column the table does not have yet
    assert "fire_times" not in _occurrence_capture(engine)
    # And head's does, and going back below 0019 restores 0017's
    migrate.upgrade(scratch_url)
    assert "NEW.fire_times" in _occurrence_capture(engine)
    migrate.downgrade(scratch_url, "0018_representable_times")
    assert "fire_times" not in _occurrence_capture(engine)
    engine.dispose()


#: Occurrences as the scheduler wrote them before reason codes (outcome, reason), and the code each gets.
OLD_OCCURRENCES = [
    ("run", "", "ran"),
    ("buffered", "waiting for a free slot", "buffered"),
    ("dst_skipped", "the local time does not exist (DST)", "dst_gap"),
    ("misfire_skipped", "seen 3600 s late (grace 60 s)", "misfire_grace"),
    ("misfire_skipped", "a range of missed fire times; the last seen 61 s late (grace 60 s)", "misfire_grace"),
    ("misfire_skipped", "beyond max_catch_up=10", "max_catch_up"),
    ("misfire_skipped", "due before the schedule changed, and not handled by then", "schedule_changed"),
    ("coalesced", "coalesced into the run for 2026-01-01T00:05:00+00:00", "coalesced"),
    ("overlap_skipped", "max_concurrent_runs=1 reached", "overlap_limit"),
    ("overlap_skipped", "superseded by the run for a later fire time (cancel_running)", "superseded"),
    ("paused", "the deployment was paused", "paused"),
    ("paused", "the deployment was paused before its run was sent", "paused_unsent"),
    ("plan_failed", "timeout_too_long: timeout_seconds may be at most 86400", "timeout_too_long"),
    ("plan_failed", "IntegrityError: new row violates check constraint", "plan_failed"),
    ("overlap_skipped", "written by hand", "unspecified"),
]


def test_occurrences_written_before_reason_codes_get_the_code_their_reason_says(scratch_url: str) -> None:
    # Given a database at 0019 with an occurrence of every reason the scheduler wrote then
    engine = create_engine(scratch_url)
    migrate.upgrade(scratch_url, "0019_occurrence_ranges")
    with engine.begin() as connection:
        namespace = connection.execute(text("SELECT id FROM namespaces")).scalar_one()
        pipeline = connection.execute(
            text("INSERT INTO pipelines (id, namespace_id, name) VALUES (gen_random_uuid(), :ns, 'p') RETURNING id"),
            {"ns": namespace},
        ).scalar_one()
        deployment = connection.execute(
            text(
                "INSERT INTO deployments (id, namespace_id, name, pipeline_id, schedule, misfire_policy,"
                " misfire_grace_seconds, max_catch_up, max_concurrent_runs, overlap_policy, dst_gap, dst_fold,"
                " max_retries) VALUES (gen_random_uuid(), :ns, 'd', :p, '{\"kind\": \"once\"}', 'skip', 60, 10, 1,"
                " 'skip', 'shift', 'first', 0) RETURNING id"
            ),
            {"ns": namespace, "p": pipeline},
        ).scalar_one()
        for minute, (outcome, reason, _) in enumerate(OLD_OCCURRENCES):
            connection.execute(
                text(
                    "INSERT INTO occurrences (deployment_id, scheduled_for, outcome, reason)"
                    " VALUES (:d, timestamptz '2026-01-01' + make_interval(mins => :m), :o, :r)"
                ),
                {"d": deployment, "m": minute, "o": outcome, "r": reason},
            )
    # When it is upgraded
    migrate.upgrade(scratch_url)
    # Then each occurrence has the code of its reason, and one no pattern knows is `unspecified`
    with engine.connect() as connection:
        codes = connection.execute(text("SELECT reason_code FROM occurrences ORDER BY scheduled_for")).scalars().all()
    assert codes == [code for _, _, code in OLD_OCCURRENCES]
    engine.dispose()
