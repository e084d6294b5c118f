"""Shared fixtures: one fresh database per test run (schema from Alembic), real Redis, test settings."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from sqlalchemy import Engine, text

from app.db.engine import get_engine, release_idle_connections
from app.settings import Settings
from app.storage.open import _cached as stores_of_the_process
from tests.acceptance import shared
from tests.acceptance.shared import shared_system, system  # noqa: F401  (fixtures of the whole session)
from tests.s3server import SeaweedS3
from tests.servers import RUN_ID, TestServers, drop_template_of_the_run
from tests.xdist_systems import SystemUnitsFirst

#: Tables emptied between integration tests (namespaces keep their seeded `default`).
TABLES = [
    "webhook_attempts",
    "webhook_deliveries",
    "webhook_subscriptions",
    "events",
    "dataset_versions",
    "datasets",
    "uploads",
    "occurrences",
    "deployments",
    "idempotency_keys",
    "outbox",
    "run_events",
    "run_log_chunks",
    "run_earlier_outputs",
    "attempt_sweep_positions",
    "runs",
    "run_rollup_changes",
    "run_rollup",
    "run_latency_rollup",
    "run_totals",
    "pipeline_versions",
    "pipelines",
    "invites",
    "auth_tokens",
    "namespace_members",
    "users",
]


@pytest.fixture(autouse=True)
def _release_idle_connections() -> Iterator[None]:
    """Each test hands its pools' idle connections back to Postgres.

    The engines a test process builds (the API's, the workers', the scheduler's, the tests' own) keep up
    to their pool size open after a burst: some 50 idle in one pytest worker, and with four workers and the
    system tests' processes the server's 100 ran out ("too many clients") late in the run.
    """
    yield
    release_idle_connections()


@pytest.fixture(scope="session")
def servers() -> Iterator[TestServers]:
    found = TestServers()
    yield found
    found.stop()


@pytest.fixture(scope="session")
def s3_server() -> Iterator[SeaweedS3]:
    """A real S3-compatible server (SeaweedFS on loopback), started on first use, stopped at the end."""
    server = SeaweedS3()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def database_url(servers: TestServers) -> Iterator[str]:
    """A database of this test process at the migrations' head (a copy of the run's template, tests/servers.py)."""
    url = servers.create_migrated_database()
    yield url
    get_engine(Settings(database_url=url)).dispose()
    servers.drop_database(url)


@pytest.fixture(scope="session")
def redis_namespace() -> str:
    """A key prefix of this test run's own, so runs never see each other's keys."""
    return f"ctest-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="session")
def process_data_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This test process's data root: one path for all its tests, so their settings are equal and the integration
    tests share one API app (tests/integration/shared_api.py); `settings` empties it before each test."""
    return tmp_path_factory.mktemp("conveyor") / "data"


@pytest.fixture
def settings(
    database_url: str, servers: TestServers, redis_namespace: str, process_data_root: Path, tmp_path: Path
) -> Settings:
    """Each test's settings; its data root starts missing, as a fresh one under tmp_path did (nothing is kept: what
    cannot be removed makes this test's root one of its own)."""
    shutil.rmtree(process_data_root, ignore_errors=True)
    stores_of_the_process.cache_clear()  # a store keeps state of its root (when it last swept): each test a new one
    return Settings(
        database_url=database_url,
        redis_url=servers.redis_url,
        data_root=str(tmp_path / "data" if process_data_root.exists() else process_data_root),
        redis_namespace=redis_namespace,
        heartbeat_seconds=0.2,
        lease_seconds=2.0,
        resend_after_seconds=1.0,
        retry_backoff_seconds=0.0,
        retry_jitter=0.0,
        reaper_interval_seconds=0.2,
    )


@pytest.fixture
def engine(settings: Settings) -> Engine:
    return get_engine(settings)


#: The sequences behind TABLES' identity columns, set back to 1 as TRUNCATE ... RESTART IDENTITY did.
_OWNED_SEQUENCES = text("""
    SELECT s.oid::regclass::text FROM pg_class s
    JOIN pg_depend d ON d.objid = s.oid AND d.deptype IN ('a', 'i')
    JOIN pg_class t ON t.oid = d.refobjid
    WHERE s.relkind = 'S' AND t.relname = ANY(:tables)
""")


@pytest.fixture
def clean_db(engine: Engine) -> Iterator[Engine]:
    """An emptied schema before the test.

    DELETE with the foreign-key triggers off (session_replication_role, a superuser setting) rather than
    TRUNCATE: TRUNCATE gives each table and index a new file, 0.3-0.8 s a test on a busy 2-core machine
    against 5-30 ms, and the integration tests pay it some 600 times. A server where the test user is not
    a superuser gets TRUNCATE.
    """
    with engine.begin() as connection:
        if connection.execute(text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")).scalar():
            connection.execute(text("SET LOCAL session_replication_role = replica"))
            for table in TABLES:
                connection.execute(text(f"DELETE FROM {table}"))
            sequences = connection.execute(_OWNED_SEQUENCES, {"tables": TABLES}).scalars().all()
            if sequences:
                connection.execute(text("SELECT " + ", ".join(f"setval('{name}', 1, false)" for name in sequences)))
            connection.execute(text("SET LOCAL session_replication_role = origin"))  # checked: nothing may point here
        else:
            connection.execute(text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE"))
        connection.execute(text("DELETE FROM namespaces WHERE name <> 'default'"))
    return engine


@pytest.fixture
def redis_client(settings: Settings, redis_namespace: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(settings.redis_url)
    yield client
    keys = list(client.scan_iter(f"{redis_namespace}:*", count=1000))
    if keys:
        client.delete(*keys)
    client.close()


def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> SystemUnitsFirst:
    """Under pytest-xdist (`make test`): system tests go in two units, each whole on one worker (xdist_systems.py)."""
    return SystemUnitsFirst(config, log)  # type: ignore[arg-type]


def pytest_configure(config: pytest.Config) -> None:
    """The xdist controller gives its workers this process's run id, so they share one template database."""
    if not hasattr(config, "workerinput") and hasattr(config.option, "testrunuid") and not config.option.testrunuid:
        config.option.testrunuid = RUN_ID


def pytest_sessionfinish(session: pytest.Session) -> None:
    """The xdist controller, once every worker is done, drops the run's template (tests/servers.py)."""
    if not hasattr(session.config, "workerinput") and getattr(session.config.option, "numprocesses", None):
        drop_template_of_the_run()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    shared.remember_last_user(config, items)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    yield
    shared.stop_after_last_user(item)
