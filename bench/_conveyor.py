"""The system under test: `python -m app up` as a subprocess, with its own database, Redis keys and port."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from contextlib import suppress
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg

from bench._processes import stop_tree
from bench._servers import BenchServers, free_port

#: The poll of the bare-Dramatiq reference (dramatiq_worker_timeout): plain Dramatiq consumers sleep and back off
#: up to it between empty fetches, so its best throughput needs a short one. Conveyor's consumers wait for sends
#: and acks instead (workers/broker.py) and keep their own CONVEYOR_WORKER_POLL_MS.
WORKER_POLL_MS = "10"
ROOT = Path(__file__).resolve().parent.parent
NOOP_SPEC: dict[str, Any] = {"steps": []}


class Conveyor:
    """`python -m app up` as a subprocess on its own database, Redis namespace, port and data root."""

    def __init__(self, servers: BenchServers, *, workers: int, threads: int, poll_ms: int | None = None) -> None:
        self.poll_ms = poll_ms
        self.admin_password = secrets.token_urlsafe(24)
        self.database_url = servers.create_database()
        self.redis_url = servers.redis_url
        self.namespace = servers.redis_prefix()
        self.port = free_port()
        self.data_root = servers.tmp / "data"
        self.log_path = servers.tmp / "conveyor-up.log"
        self.workers, self.threads = workers, threads
        self.process: subprocess.Popen[bytes] | None = None
        self.db = psycopg.connect(self.database_url, autocommit=True)
        self.http = httpx.Client(
            base_url=f"http://127.0.0.1:{self.port}",
            timeout=60.0,
            limits=httpx.Limits(max_connections=16, max_keepalive_connections=16),
        )

    def start(self, timeout: float = 180.0) -> None:
        env = {key: value for key, value in os.environ.items() if not key.startswith("CONVEYOR_")}
        env.update(
            {
                "DATABASE_URL": self.database_url,
                "REDIS_URL": self.redis_url,
                "CONVEYOR_REDIS_NAMESPACE": self.namespace,
                "CONVEYOR_API_HOST": "127.0.0.1",
                "CONVEYOR_API_PORT": str(self.port),
                "CONVEYOR_DATA_ROOT": str(self.data_root),
                "CONVEYOR_LOG_LEVEL": "WARNING",
                "CONVEYOR_ADMIN_PASSWORD": self.admin_password,
                # The benchmarks drive the engine as fast as it goes; the API's rate limit is not what they measure.
                "CONVEYOR_RATE_LIMIT_PER_MINUTE": "0",
                "CONVEYOR_RATE_LIMIT_PER_ADDRESS_PER_MINUTE": "0",
            }
        )
        env.pop("dramatiq_worker_timeout", None)
        if self.poll_ms is not None:  # `conveyor worker` only sets its own default if this is unset
            env["dramatiq_worker_timeout"] = str(self.poll_ms)
        self._logfile = open(self.log_path, "wb")  # noqa: SIM115
        self.process = subprocess.Popen(
            [sys.executable, "-m", "app", "up", "--workers", str(self.workers), "--threads", str(self.threads)],
            cwd=ROOT,
            env=env,
            stdout=self._logfile,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while True:
            self.check_alive()
            with suppress(httpx.HTTPError):
                if self.http.get("/api/v1/readyz", timeout=2).status_code == 200:
                    return
            if time.monotonic() > deadline:
                raise RuntimeError(f"conveyor up not ready in {timeout:.0f} s\n{self.log_tail()}")
            time.sleep(0.1)

    def check_alive(self) -> None:
        if self.process is not None and self.process.poll() is not None:
            raise RuntimeError(f"conveyor up exited with {self.process.returncode}\n{self.log_tail()}")

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def stop(self) -> None:
        self.http.close()
        with suppress(psycopg.Error):
            self.db.close()
        if self.process is not None:
            stop_tree(self.process, timeout=45)
            self._logfile.close()

    # ------------------------------------------------------------------ helpers

    def authenticate(self) -> None:
        """Sign in as the bootstrap admin and send an API token (role editor, namespace default) from now on."""
        response = self.http.post("/api/v1/auth/login", json={"username": "admin", "password": self.admin_password})
        if response.status_code == 404:
            return  # a Conveyor without accounts
        if response.status_code != 200:
            raise RuntimeError(f"login answered {response.status_code}: {response.text[:500]}")
        access = response.json()["access_token"]
        response = self.http.post(
            "/api/v1/tokens",
            json={"name": "bench", "namespace": "default", "role": "editor", "expires_in_days": 1},
            headers={"Authorization": f"Bearer {access}"},
        )
        if response.status_code != 201:
            raise RuntimeError(f"creating an API token answered {response.status_code}: {response.text[:500]}")
        self.http.headers["Authorization"] = f"Bearer {response.json()['token']}"

    def commits(self) -> int:
        """Transactions committed in the system's database so far (pg_stat_database, flushed about every second)."""
        self.db.execute("SELECT pg_stat_clear_snapshot()")
        return int(
            self.db.execute("SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()").fetchone()[0]  # type: ignore[index]
        )

    def db_now(self) -> datetime:
        return self.db.execute("SELECT now()").fetchone()[0]  # type: ignore[index]

    def create_pipeline(self, name: str) -> str:
        response = self.http.post("/api/v1/pipelines", json={"name": name, "spec": NOOP_SPEC})
        response.raise_for_status()
        return str(response.json()["id"])

    def submit_batch(self, pipeline: str, count: int) -> None:
        response = self.http.post("/api/v1/runs/batch", json={"runs": [{"pipeline": pipeline}] * count})
        if response.status_code != 201:
            raise RuntimeError(f"batch submit answered {response.status_code}: {response.text[:500]}")

    def submit_one(self, pipeline: str) -> None:
        response = self.http.post("/api/v1/runs", json={"pipeline": pipeline})
        if response.status_code != 201:
            raise RuntimeError(f"submit answered {response.status_code}: {response.text[:500]}")

    def counts(self, since: datetime, trigger: str) -> dict[str, int]:
        rows = self.db.execute(
            "SELECT status, count(*) FROM runs WHERE created_at >= %s AND trigger = %s GROUP BY status",
            (since, trigger),
        ).fetchall()
        return {status: count for status, count in rows}

    def wait_idle(self, timeout: float) -> int:
        """Wait until no run is waiting or running; returns how many still are."""
        deadline = time.monotonic() + timeout
        while True:
            busy = self.db.execute(
                "SELECT count(*) FROM runs WHERE status IN ('PENDING', 'QUEUED', 'RUNNING', 'RETRYING')"
            ).fetchone()[0]  # type: ignore[index]
            if busy == 0 or time.monotonic() > deadline:
                return int(busy)
            self.check_alive()
            time.sleep(0.1)

    def wait_finished(self, since: datetime, trigger: str, expected: int, timeout: float) -> dict[str, int]:
        """Poll the database until `expected` runs are in a final state (or the timeout)."""
        deadline = time.monotonic() + timeout
        while True:
            counts = self.counts(since, trigger)
            final = sum(counts.get(s, 0) for s in ("SUCCEEDED", "FAILED", "CANCELLED", "TIMED_OUT", "SKIPPED"))
            if final >= expected or time.monotonic() > deadline:
                return counts
            self.check_alive()
            time.sleep(0.1)
