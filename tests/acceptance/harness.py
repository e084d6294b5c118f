"""Run Conveyor as an operator would: real `python -m app` processes, a fresh database, a dedicated Redis.

`ConveyorSystem` owns everything it starts: the embedded Redis (so a test may
FLUSHALL it, or stop and restart it, without touching anyone else's), the
database it created, and the api, scheduler and worker processes, each
writing its output to a file that is shown when a test fails. Every wait is
a poll loop with a deadline.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dramatiq
import httpx
import redis

from app.domain.lanes import lane_queues
from app.embedded import EmbeddedRedis
from app.settings import Settings
from tests.acceptance.api_calls import ApiCalls
from tests.acceptance.processes import (  # noqa: F401  (re-exported for the tests)
    ERROR_MARKS,
    LOG_TAIL_LINES,
    REPO_ROOT,
    STOP_TIMEOUT,
    Process,
    children_of,
    free_port,
    stop_all,
    wait_until,
    worker_pid,
)
from tests.servers import TestServers
from workers.broker import RUN_ACTOR, build_broker

#: Run states after which nothing more happens to a run.
FINAL = frozenset({"SUCCEEDED", "FAILED", "CANCELLED", "TIMED_OUT", "SKIPPED"})
#: Key prefix of everything Conveyor keeps in the dedicated Redis.
REDIS_NAMESPACE = "acceptance"
#: Dramatiq's queue for runs, and the hash in which it keeps every message not yet acked.
QUEUE = "runs"
MESSAGES_KEY = f"{REDIS_NAMESPACE}:dramatiq:{QUEUE}.msgs"
#: The same for both lanes (app/domain/lanes.py): batch submits travel in the bulk one.
LANE_MESSAGES_KEYS = [f"{REDIS_NAMESPACE}:dramatiq:{queue}.msgs" for queue in lane_queues(QUEUE)]
#: What Dramatiq logs once a worker process consumes.
WORKER_READY = "Worker process is ready for action"
#: What Dramatiq's main process logs when one of its worker children dies.
WORKER_DIED = "exited unexpectedly"
#: Fast timings, so losses are noticed and retries happen within seconds.
TIMINGS = {
    "CONVEYOR_HEARTBEAT_SECONDS": "0.3",
    "CONVEYOR_LEASE_SECONDS": "3",
    "CONVEYOR_RESEND_AFTER_SECONDS": "2",
    "CONVEYOR_REAPER_INTERVAL_SECONDS": "0.5",
    "CONVEYOR_ROLLUP_INTERVAL_SECONDS": "0.5",
    "CONVEYOR_RETRY_BACKOFF_SECONDS": "0",
    "CONVEYOR_RETRY_JITTER": "0",
}
#: Cheap argon2 (as the integration tests' `fast_settings`): every sign-in of the acceptance and browser tests
#: hashes, and the default 64 MiB x 2 passes takes seconds on a loaded 2-core machine.
CHEAP_HASHING = {
    "CONVEYOR_ARGON2_TIME_COST": "1",
    "CONVEYOR_ARGON2_MEMORY_KIB": "1024",
    "CONVEYOR_ARGON2_PARALLELISM": "1",
}
#: The bootstrap instance admin the harness creates with `conveyor users create`, and signs in as.
ADMIN = "admin"
#: Small on purpose, so the over-limit batch is cheap to build.
MAX_BATCH_RUNS = 5
WORKER_THREADS = 4
START_TIMEOUT = 60.0

#: Systems currently running, so a failing test can show their processes' output.
ACTIVE: list[ConveyorSystem] = []


@dataclass
class ConveyorSystem(ApiCalls):
    """api + scheduler + N workers against a fresh database and a dedicated embedded Redis."""

    servers: TestServers
    root: Path
    extra_env: dict[str, str] = field(default_factory=dict)
    processes: list[Process] = field(default_factory=list)
    workers: list[Process] = field(default_factory=list)
    database_url: str = ""
    port: int = 0
    _redis_server: EmbeddedRedis | None = None
    _http: httpx.Client | None = None
    _redis: redis.Redis | None = None
    _worker_count: int = 0
    admin_password: str = field(default_factory=lambda: secrets.token_urlsafe(18))

    # ---- lifecycle -------------------------------------------------------------------------------

    def start(self, *, workers: int = 2) -> ConveyorSystem:
        ACTIVE.append(self)
        (self.root / "logs").mkdir(parents=True, exist_ok=True)
        self._redis_server = EmbeddedRedis(self.root)
        self._redis_server.start()
        # At head as `conveyor migrate` leaves it, copied from the run's template (tests/servers.py): migrating
        # again for each system cost ~5 s (test_readme runs `conveyor migrate` as the README says).
        self.database_url = self.servers.create_migrated_database()
        self.port = free_port()
        # The operator's first account, created while the services boot.
        admin = self._process("users", ["users", "create", "--username", ADMIN, f"--password={self.admin_password}"])
        admin.start()
        self.processes.append(self._process("api", ["api", "--port", str(self.port)]))
        self.processes.append(self._process("scheduler", ["scheduler"]))
        for process in self.processes:
            process.start()
        self.start_workers(workers, wait=False)
        assert admin.popen is not None
        code = admin.popen.wait(START_TIMEOUT)
        assert code == 0, f"`conveyor users create` exited with {code}:\n{admin.tail()}"
        self.wait_ready()
        self.http.headers["Authorization"] = f"Bearer {self.login(ADMIN, self.admin_password)}"
        self.wait_workers_ready()
        return self

    def stop(self) -> None:
        """Stop every process (SIGTERM to all at once), then Redis; drop the database."""
        try:
            stop_all([*self.workers, *self.processes])
            if self._http is not None:
                self._http.close()
            if self._redis is not None:
                self._redis.close()
            if self._redis_server is not None:
                self._redis_server.stop()
            if self.database_url:
                self.servers.drop_database(self.database_url)
        finally:
            if self in ACTIVE:
                ACTIVE.remove(self)

    def env(self) -> dict[str, str]:
        """The environment of every process: the parent's, minus any Conveyor setting, plus ours."""
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("CONVEYOR_") and k not in ("DATABASE_URL", "REDIS_URL")
        }
        env.update(
            {
                "DATABASE_URL": self.database_url,
                "REDIS_URL": self.redis_url,
                "CONVEYOR_DATA_ROOT": str(self.root / "data"),
                "CONVEYOR_REDIS_NAMESPACE": REDIS_NAMESPACE,
                "CONVEYOR_MAX_BATCH_RUNS": str(MAX_BATCH_RUNS),
                "CONVEYOR_LOG_LEVEL": "INFO",
                # The shared system outlives the default 15 minutes on a slow machine; sign in once.
                "CONVEYOR_ACCESS_TOKEN_MINUTES": "120",
                "PYTHONUNBUFFERED": "1",
                # A crash in a C extension prints every thread's Python stack to the process's log.
                "PYTHONFAULTHANDLER": "1",
                **TIMINGS,
                **CHEAP_HASHING,
                **self.extra_env,
            }
        )
        return env

    def _process(self, name: str, args: list[str]) -> Process:
        return Process(
            name=name,
            argv=[sys.executable, "-m", "app", *args],
            log_path=self.root / "logs" / f"{name}.log",
            env=self.env(),
        )

    def start_workers(self, count: int, *, wait: bool = True) -> list[Process]:
        """Start `count` more `conveyor worker -p 1 -t 4` processes."""
        started = []
        for _ in range(count):
            self._worker_count += 1
            worker = self._process(f"worker-{self._worker_count}", ["worker", "-p", "1", "-t", str(WORKER_THREADS)])
            worker.start()
            self.workers.append(worker)
            started.append(worker)
        if wait:
            self.wait_workers_ready()
        return started

    def stop_workers(self) -> None:
        stop_all(self.workers)
        self.workers.clear()

    def wait_ready(self, timeout: float = START_TIMEOUT) -> None:
        """Until GET /readyz answers 200; fails at once if the api or scheduler died."""

        def ready() -> bool:
            for process in self.processes:
                assert process.alive(), f"{process.name} exited early:\n{process.tail()}"
            with contextlib.suppress(httpx.HTTPError):
                return self.http.get("/readyz").status_code == 200
            return False

        wait_until(ready, timeout=timeout, what="GET /readyz to answer 200", interval=0.2)

    def wait_workers_ready(self, timeout: float = START_TIMEOUT) -> None:
        """Until every worker's Dramatiq child says it consumes."""

        def ready() -> bool:
            for worker in self.workers:
                assert worker.alive(), f"{worker.name} exited early:\n{worker.tail()}"
            return all(WORKER_READY in worker.output() for worker in self.workers)

        wait_until(ready, timeout=timeout, what="the workers to be ready", interval=0.2)

    def assert_healthy(self) -> None:
        """Every process still runs, and no worker lost a child process (a crash, not a test's kill)."""
        for process in [*self.processes, *self.workers]:
            crashed = [line for line in process.output().splitlines() if WORKER_DIED in line]
            assert process.alive(), f"{process.name} died:\n{process.tail()}"
            assert not crashed, f"{process.name} lost a child process:\n{process.tail()}"

    def worker_children(self, worker: Process) -> list[int]:
        """The Dramatiq child processes of a `conveyor worker` process (the ones that run attempts)."""
        return children_of(worker.pid)

    def victim_and_survivor(self, actor: str) -> tuple[int, Process]:
        """The pid of the worker child named by `actor` (a run's RUNNING event), and the other `conveyor worker`."""
        victim = worker_pid(actor)
        owners = {child: worker for worker in self.workers for child in self.worker_children(worker)}
        assert victim in owners, f"{actor} is not a child of our workers {owners}"
        return victim, next(worker for worker in self.workers if worker is not owners[victim])

    def report(self) -> str:
        """For a failing test: each process's errors (first lines of each) and the tail of its output."""
        parts = []
        for process in [*self.processes, *self.workers]:
            errors = [line for line in process.output().splitlines() if any(w in line for w in ERROR_MARKS)]
            parts.append(
                f"----- {process.name} (pid {process.popen.pid if process.popen else '-'}, {process.log_path}) -----"
            )
            if errors:
                parts.append(f"{len(errors)} error line(s), the first ones:\n" + "\n".join(errors[:10]))
                parts.append("last lines:")
            parts.append(process.tail())
        return "\n".join(parts)

    # ---- Redis -------------------------------------------------------------------------------------

    @property
    def redis_url(self) -> str:
        assert self._redis_server is not None
        return self._redis_server.url

    @property
    def redis(self) -> redis.Redis:
        if self._redis is None:
            self._redis = redis.Redis.from_url(self.redis_url, socket_timeout=5)
        return self._redis

    def stop_redis(self) -> None:
        assert self._redis_server is not None
        if self._redis is not None:
            self._redis.close()
            self._redis = None
        self._redis_server.stop()

    def start_redis(self) -> None:
        assert self._redis_server is not None
        self._redis_server.start()

    def enqueue_duplicate(self, run_id: str) -> str:
        """Send the broker one more message for `run_id`, exactly as the relay does; returns its message id."""
        broker = build_broker(Settings(redis_url=self.redis_url, redis_namespace=REDIS_NAMESPACE))
        try:
            message = broker.enqueue(
                dramatiq.Message(queue_name=QUEUE, actor_name=RUN_ACTOR, args=(run_id,), kwargs={}, options={})
            )
        finally:
            broker.client.close()
        return str(message.options["redis_message_id"])

    def message_acked(self, message_id: str) -> bool:
        return not self.redis.hexists(MESSAGES_KEY, message_id)

    def unacked_messages(self) -> int:
        """Messages the broker holds for the run queue's two lanes and that no worker has acked yet."""
        return sum(int(self.redis.hlen(key)) for key in LANE_MESSAGES_KEYS)

    def wait_broker_drained(self, timeout: float = 30.0) -> None:
        wait_until(
            lambda: self.unacked_messages() == 0, timeout=timeout, what="every broker message to be consumed and acked"
        )

    def wait_runs(
        self,
        run_ids: list[str],
        *,
        statuses: frozenset[str] = FINAL,
        timeout: float = 60.0,
        pipeline: str | None = None,
    ) -> dict[str, dict[str, Any]]:
        """Until every run is in one of `statuses`; returns the runs by id."""
        wanted = set(run_ids)
        filters = {"status": sorted(statuses), **({"pipeline": pipeline} if pipeline else {})}

        def reached() -> dict[str, dict[str, Any]]:
            if len(wanted) <= 10:
                runs = {rid: self.run(rid) for rid in wanted}
                return runs if all(r["status"] in statuses for r in runs.values()) else {}
            found = {r["id"]: r for r in self.list_runs(**filters) if r["id"] in wanted}
            return found if len(found) == len(wanted) else {}

        def describe() -> str:
            counts: dict[str, int] = {}
            for rid in run_ids[:50] if len(wanted) > 50 else run_ids:
                status = self.run(rid)["status"]
                counts[status] = counts.get(status, 0) + 1
            return f"{len(wanted)} runs to reach {sorted(statuses)}; statuses (sampled): {counts}"

        try:
            return wait_until(
                reached, timeout=timeout, what=f"{len(wanted)} runs to reach {sorted(statuses)}", interval=0.25
            )
        except AssertionError as exc:
            raise AssertionError(f"{exc}; {describe()}") from None

    def occupy_all_threads(self, seconds: float = 30.0) -> list[str]:
        """Runs that keep every worker thread busy and fill every worker's prefetch; returns their ids.

        While they run, a new run stays QUEUED with its message waiting in Redis.
        """
        threads = WORKER_THREADS * len(self.workers)
        blocker = self.create_pipeline([{"type": "sleep", "seconds": seconds}], name=f"blocker-{uuid.uuid4().hex[:8]}")
        run_ids: list[str] = []
        # Dramatiq prefetches twice its thread count per worker: fill that too, so no worker has room left.
        while len(run_ids) < 2 * threads:
            count = min(MAX_BATCH_RUNS, 2 * threads - len(run_ids))
            run_ids += [r["id"] for r in self.submit_batch([{"pipeline": blocker["id"]}] * count)]
        wait_until(
            lambda: len(self.list_runs(pipeline=blocker["id"], status=["RUNNING"])) == threads,
            timeout=30,
            what=f"{threads} blocking runs to occupy every worker thread",
        )
        return run_ids

    def settle(self, timeout: float = 30.0) -> None:
        """Cancel whatever a test left unfinished, so the next test starts on an idle system."""
        leftovers = [r["id"] for r in self.list_runs(status=sorted({"PENDING", "QUEUED", "RUNNING", "RETRYING"}))]
        for run_id in leftovers:
            self.cancel(run_id)
        if leftovers:
            self.wait_runs(leftovers, timeout=timeout)
