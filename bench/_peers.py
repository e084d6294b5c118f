"""The peer job systems of `bench peers`: how each is set up, fed, run and read back.

Each system gets the same workload: `jobs` no-op jobs submitted at once (in
bulk where the system has a bulk submit), run by `processes` worker processes
of `concurrency` each. Completion is read from the system's own durable record
of a finished job, on the machine's clock (everything runs on this machine).
"""

from __future__ import annotations

import asyncio
import importlib
import json
import os
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import redis

from bench._servers import BenchServers

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


@dataclass
class Done:
    """How many jobs the system records as finished, and when the last one finished (epoch seconds)."""

    count: int
    last_at: float


@dataclass
class Peer:
    """One system: a name, what it records per job, and its set-up, submit, workers and read-back."""

    name: str
    records: str
    servers: BenchServers
    env: dict[str, str] = field(default_factory=dict)
    database_url: str | None = None

    def setup(self) -> None: ...

    def submit(self, jobs: int) -> None:
        raise NotImplementedError

    def worker_commands(self, processes: int, concurrency: int) -> list[list[str]]:
        raise NotImplementedError

    def done(self) -> Done:
        raise NotImplementedError

    def close(self) -> None: ...


def _epoch(value: datetime | None) -> float:
    if value is None:
        return 0.0
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.timestamp()


def _count_and_last(database_url: str | None, sql: str) -> Done:
    """A (count, last finish) query on a peer's own tables."""
    with psycopg.connect(database_url or "", autocommit=True) as connection:
        row = connection.execute(sql).fetchone()
    assert row is not None
    return Done(int(row[0]), _epoch(row[1]))


class Procrastinate(Peer):
    def setup(self) -> None:
        self.database_url = self.servers.create_database("bench_procrastinate")
        self.env = {"BENCH_DATABASE_URL": self.database_url}
        os.environ["BENCH_DATABASE_URL"] = self.database_url
        from procrastinate import PsycopgConnector

        from bench._peer_apps import procrastinate_app

        # a connector of this round's own: the module's app was built (import time) for the first round's
        # database, which is dropped by now (rounds 2 and 3 failed with "Database error" when they reused it);
        # its task defers through the app's job manager, so both take it (as App.replace_connector does)
        self.app = procrastinate_app.app
        self.app.connector = self.app.job_manager.connector = PsycopgConnector(conninfo=self.database_url)
        self.task = procrastinate_app.noop
        with self.app.open():
            self.app.schema_manager.apply_schema()

    def submit(self, jobs: int) -> None:
        with self.app.open():
            for start in range(0, jobs, 1000):
                self.task.batch_defer(*[{} for _ in range(min(1000, jobs - start))])

    def worker_commands(self, processes: int, concurrency: int) -> list[list[str]]:
        command = [str(BIN / "procrastinate"), "--app=bench._peer_apps.procrastinate_app.app", "worker"]
        return [[*command, "--concurrency", str(concurrency), "--queues", "bench"] for _ in range(processes)]

    def done(self) -> Done:
        return _count_and_last(
            self.database_url, "SELECT count(*), max(at) FROM procrastinate_events WHERE type = 'succeeded'"
        )


class PgQueuer(Peer):
    def setup(self) -> None:
        self.database_url = self.servers.create_database("bench_pgqueuer")
        self.env = {"BENCH_DATABASE_URL": self.database_url, "PGDSN": self.database_url}
        subprocess.run([str(BIN / "pgq"), "install"], env={**os.environ, **self.env}, check=True, capture_output=True)

    def submit(self, jobs: int) -> None:
        import asyncpg
        from pgqueuer.db import AsyncpgDriver
        from pgqueuer.queries import Queries

        async def go() -> None:
            connection = await asyncpg.connect(self.database_url)
            try:
                queries = Queries(AsyncpgDriver(connection))
                for start in range(0, jobs, 1000):
                    size = min(1000, jobs - start)
                    await queries.enqueue(["noop"] * size, [None] * size, [0] * size)
            finally:
                await connection.close()

        asyncio.run(go())

    def worker_commands(self, processes: int, concurrency: int) -> list[list[str]]:
        command = [sys.executable, "-m", "bench._peer_apps.pgqueuer_app", str(concurrency)]
        return [command for _ in range(processes)]

    def done(self) -> Done:
        return _count_and_last(
            self.database_url, "SELECT count(*), max(created) FROM pgqueuer_log WHERE status = 'successful'"
        )


class Celery(Peer):
    """Celery with a Redis broker; results in Redis (`results="redis"`) or in Postgres (`results="postgres"`)."""

    results: str = "redis"

    def setup(self) -> None:
        self.queue = self.servers.redis_prefix("bench_celery")
        if self.results == "postgres":
            self.database_url = self.servers.create_database("bench_celery")
            backend = "db+" + self.database_url.replace("postgresql://", "postgresql+psycopg://", 1)
        else:
            backend = self.servers.redis_url
        self.env = {"BENCH_REDIS_URL": self.servers.redis_url, "BENCH_QUEUE": self.queue, "BENCH_RESULTS": backend}
        os.environ.update(self.env)
        # a fresh module, configured from this round's environment (queue name, result backend)
        sys.modules.pop("bench._peer_apps.celery_app", None)
        celery_app = importlib.import_module("bench._peer_apps.celery_app")

        self.app = celery_app.app
        self.task = celery_app.noop
        self.ids: list[str] = []
        self.redis = redis.Redis.from_url(self.servers.redis_url)

    def submit(self, jobs: int) -> None:
        with self.app.producer_or_acquire() as producer:
            for _ in range(jobs):
                self.ids.append(self.task.apply_async(producer=producer).id)

    def worker_commands(self, processes: int, concurrency: int) -> list[list[str]]:
        return [
            [
                str(BIN / "celery"),
                "-A",
                "bench._peer_apps.celery_app",
                "worker",
                "-P",
                "threads",
                "-c",
                str(concurrency),
                "-Q",
                self.queue,
                "-n",
                f"w{i}-{uuid.uuid4().hex[:6]}@%h",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-l",
                "WARNING",
            ]
            for i in range(processes)
        ]

    def done(self) -> Done:
        if self.results == "postgres":
            try:
                return _count_and_last(
                    self.database_url, "SELECT count(*), max(date_done) FROM celery_taskmeta WHERE status = 'SUCCESS'"
                )
            except psycopg.errors.UndefinedTable:  # created with the first result
                return Done(0, 0.0)
        count, last = 0, 0.0
        for start in range(0, len(self.ids), 1000):
            keys = [f"{self.queue}:celery-task-meta-{i}" for i in self.ids[start : start + 1000]]
            for raw in self.redis.mget(keys):
                if raw:
                    meta = json.loads(raw)
                    if meta.get("status") == "SUCCESS":
                        count += 1
                        last = max(last, _epoch(datetime.fromisoformat(meta["date_done"])))
        return Done(count, last)

    def close(self) -> None:
        self.redis.close()


class CeleryPostgres(Celery):
    results = "postgres"


class Rq(Peer):
    """RQ with SimpleWorker (no fork per job); RQ has no threads, so concurrency is its process count."""

    def setup(self) -> None:
        from rq import Queue

        self.redis = redis.Redis.from_url(self.servers.redis_url)
        self.queue_name = f"bench_rq_{uuid.uuid4().hex[:8]}"
        self.queue = Queue(self.queue_name, connection=self.redis)
        self.ids: list[str] = []

    def submit(self, jobs: int) -> None:
        from rq import Queue

        for start in range(0, jobs, 1000):
            data = [Queue.prepare_data("bench._peer_apps.rq_jobs.noop") for _ in range(min(1000, jobs - start))]
            self.ids += [job.id for job in self.queue.enqueue_many(data)]

    def worker_commands(self, processes: int, concurrency: int) -> list[list[str]]:
        command = [str(BIN / "rq"), "worker", "-w", "rq.worker.SimpleWorker", "--url", self.servers.redis_url]
        return [[*command, "-q", self.queue_name] for _ in range(processes * concurrency)]

    def done(self) -> Done:
        count, last = 0, 0.0
        for start in range(0, len(self.ids), 1000):
            pipe = self.redis.pipeline(transaction=False)
            for job_id in self.ids[start : start + 1000]:
                pipe.hmget(f"rq:job:{job_id}", "status", "ended_at")
            for status, ended in pipe.execute():
                if status == b"finished" and ended:
                    count += 1
                    last = max(last, _epoch(datetime.fromisoformat(ended.decode().rstrip("Z"))))
        return Done(count, last)

    def close(self) -> None:
        keys = [f"rq:job:{i}" for i in self.ids] + [f"rq:queue:{self.queue_name}"]
        keys += [k.decode() for k in self.redis.scan_iter(match=f"rq:*{self.queue_name}*", count=1000)]
        for start in range(0, len(keys), 1000):
            self.redis.unlink(*keys[start : start + 1000])
        self.redis.close()


#: name → (class, what it records per job); the README's comparison paragraph says the same.
PEERS: dict[str, tuple[type[Peer], str]] = {
    "procrastinate": (Procrastinate, "a job row (status) and an event row per state change, in Postgres"),
    "pgqueuer": (PgQueuer, "a queue row (deleted when done) and a log row per state change, in Postgres"),
    "celery_redis": (Celery, "a result key in Redis (status, date done); the message only in Redis"),
    "celery_postgres": (CeleryPostgres, "a result row in Postgres (status, date done); the message only in Redis"),
    "rq": (Rq, "a job hash in Redis (status, enqueued/started/ended times)"),
}


def start_workers(peer: Peer, processes: int, concurrency: int, log_path: Path) -> list[subprocess.Popen[bytes]]:
    logfile = open(log_path, "ab")  # noqa: SIM115
    env = {**os.environ, **peer.env}
    return [
        subprocess.Popen(command, cwd=ROOT, env=env, stdout=logfile, stderr=subprocess.STDOUT, start_new_session=True)
        for command in peer.worker_commands(processes, concurrency)
    ]


def wait_done(peer: Peer, jobs: int, timeout: float) -> Done:
    deadline = time.monotonic() + timeout
    while True:
        done = peer.done()
        if done.count >= jobs or time.monotonic() > deadline:
            return done
        time.sleep(0.05)
