"""Servers for the benchmarks: this machine's Postgres and Redis on loopback, or embedded ones.

Like the tests, a benchmark uses the local servers on 127.0.0.1 when they
answer (`CONVEYOR_BENCH_DATABASE_URL` / `CONVEYOR_BENCH_REDIS_URL` choose
others) and starts embedded ones otherwise. Every benchmark gets its own
database and Redis key prefix, and drops them when it ends.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import uuid
from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psycopg
import redis

from app.embedded import EmbeddedPostgres, EmbeddedRedis
from tests.servers import find_postgres, find_redis

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine

    from app.settings import Settings

LOCAL_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"
LOCAL_REDIS = "redis://127.0.0.1:6379/0"


def _answers(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def token() -> str:
    return uuid.uuid4().hex[:10]


class BenchServers:
    """Admin URLs of one Postgres and one Redis; starts embedded servers only if needed.

    `own_postgres`: an embedded Postgres of this benchmark's own (what `make run` uses), even when a shared
    server answers, so the figures do not depend on the shared server's state (its other databases, its
    WAL traffic, autovacuum off). Its settings are left as pgserver makes them (synchronous_commit on).
    """

    def __init__(self, *, own_postgres: bool = False) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="conveyor-bench-"))
        self._embedded: list[EmbeddedPostgres | EmbeddedRedis] = []
        self.databases: list[str] = []
        self.redis_prefixes: list[str] = []
        try:
            if own_postgres:
                self.postgres_admin_url = self._own_postgres()
            else:
                self.postgres_admin_url = os.environ.get("CONVEYOR_BENCH_DATABASE_URL") or self._postgres()
            self.redis_url = os.environ.get("CONVEYOR_BENCH_REDIS_URL") or self._redis()
        except BaseException:
            self.close()
            raise

    @property
    def where(self) -> str:
        """Which servers, and the Postgres settings that decide what a commit costs."""
        pg = "embedded" if any(isinstance(s, EmbeddedPostgres) for s in self._embedded) else "local"
        rd = "embedded" if any(isinstance(s, EmbeddedRedis) for s in self._embedded) else "local"
        with psycopg.connect(self.postgres_admin_url, autocommit=True) as connection:
            shown = [
                f"{name}={connection.execute(f'SHOW {name}').fetchone()[0]}"  # type: ignore[index]
                for name in ("synchronous_commit", "fsync", "autovacuum")
            ]
        return f"postgres={pg} redis={rd} " + " ".join(shown)

    def _postgres(self) -> str:
        return find_postgres(self.tmp, self._embedded)

    def _own_postgres(self) -> str:
        server = EmbeddedPostgres(self.tmp)
        self._embedded.append(server)
        return server.start().replace("/conveyor?", "/postgres?")

    def _redis(self) -> str:
        return find_redis(self.tmp, self._embedded)

    def create_database(self, prefix: str = "conveyor_bench") -> str:
        """A fresh, empty database (dropped by close()); returns its postgresql:// URL."""
        name = f"{prefix}_{token()}"
        with psycopg.connect(self.postgres_admin_url, autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        self.databases.append(name)
        return with_database(self.postgres_admin_url, name)

    def redis_prefix(self, prefix: str = "conveyor_bench") -> str:
        """A fresh Redis key prefix whose keys close() deletes."""
        name = f"{prefix}_{token()}"
        self.redis_prefixes.append(name)
        return name

    def close(self) -> None:
        """Drop the databases, delete the Redis keys, stop embedded servers, remove temp files."""
        for name in self.databases:
            with suppress(psycopg.Error), psycopg.connect(self.postgres_admin_url, autocommit=True) as connection:
                connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.databases.clear()
        if self.redis_prefixes:
            with suppress(redis.RedisError):
                delete_keys(redis.Redis.from_url(self.redis_url), self.redis_prefixes)
        self.redis_prefixes.clear()
        for server in reversed(self._embedded):
            with suppress(Exception):
                server.stop()
        self._embedded.clear()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self) -> BenchServers:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def migrated(servers: BenchServers, **fields: Any) -> tuple[Settings, Engine]:
    """Settings for a fresh database (migrated to head) and Redis key prefix on `servers`, and an engine on it.

    `fields` are further settings (e.g. webhook_allow_private=True). Both go when `servers` closes.
    """
    from app.db import migrate
    from app.db.engine import get_engine
    from app.settings import Settings

    settings = Settings(
        database_url=servers.create_database(),
        redis_url=servers.redis_url,
        redis_namespace=servers.redis_prefix(),
        data_root=str(servers.tmp / "data"),
        **fields,
    )
    migrate.upgrade(settings.sqlalchemy_url)
    return settings, get_engine(settings, pre_ping=False)


def noop_pipeline(connection: Connection) -> uuid.UUID:
    """A pipeline `noop` in namespace `default`, with an empty version 1; returns its id."""
    from sqlalchemy import text

    pipeline: uuid.UUID = connection.execute(
        text(
            "INSERT INTO pipelines (id, namespace_id, name) SELECT gen_random_uuid(), id, 'noop' "
            "FROM namespaces WHERE name = 'default' RETURNING id"
        )
    ).scalar_one()
    connection.execute(
        text("INSERT INTO pipeline_versions (pipeline_id, version, spec) VALUES (:p, 1, '{\"steps\": []}')"),
        {"p": pipeline},
    )
    return pipeline


def delete_keys(client: redis.Redis, prefixes: list[str]) -> int:
    deleted = 0
    for prefix in prefixes:
        batch: list[bytes] = []
        for key in client.scan_iter(match=f"{prefix}:*", count=1000):
            batch.append(key)
            if len(batch) >= 1000:
                deleted += int(client.unlink(*batch))
                batch.clear()
        if batch:
            deleted += int(client.unlink(*batch))
    return deleted


def with_database(url: str, name: str) -> str:
    """`url` pointing at database `name` (the query, e.g. a Unix socket's `host=/path`, is kept)."""
    base, sep, query = url.partition("?")
    head = base.rsplit("/", 1)[0] if base.count("/") > 2 else base
    return f"{head}/{name}{sep}{query}"


def sqlalchemy_url(url: str) -> str:
    for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100) by linear interpolation; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def figure(name: str, value: float, unit: str, **extra: object) -> None:
    """Print one figure line: name, value, unit, then key=value ratios and notes."""
    parts = [name, f"{value:.2f}" if abs(value) < 10 else f"{value:.1f}" if abs(value) < 1e6 else f"{value:.0f}", unit]
    for key, item in extra.items():
        if item is None:
            continue
        parts.append(f"{key}={item:.2f}" if isinstance(item, float) else f"{key}={item}")
    print(" ".join(parts), flush=True)
