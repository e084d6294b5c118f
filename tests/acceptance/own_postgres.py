"""A PostgreSQL server of the test's own (the embedded one), which a test may stop and start.

Never the machine's shared server: this one listens on a Unix socket in its own
data directory, and only the test that made it knows its address. The data
directory is a temporary folder of its own, not under pytest's: pytest resets
the permissions of its base folder as any session starts, which would lock
out the server's system user (pgserver runs it as `pgserver` under root).
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import tempfile
from pathlib import Path

import pgserver

from app.embedded import EmbeddedPostgres
from tests.servers import TestServers


class OwnPostgres:
    """Start it, stop it (fast shutdown: sessions are cut), start it again on the same socket, close it for good."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="conveyor-own-postgres-"))
        self._embedded = EmbeddedPostgres(self.root)
        self.pgdata = self._embedded.pgdata
        self.admin_url = ""

    def start(self) -> OwnPostgres:
        self.admin_url = self._embedded.start().replace("/conveyor?", "/postgres?")
        return self

    def stop(self) -> None:
        self._pg_ctl("-m", "fast", "stop")

    def restart(self) -> None:
        """Start it again; `restart` reuses the options it was first started with (its socket folder)."""
        self._pg_ctl("-l", str(self.pgdata / "log"), "restart")

    def close(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):  # already stopped
            self._pg_ctl("-m", "fast", "stop")
        self._embedded.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def _pg_ctl(self, *args: str) -> None:
        server = pgserver.get_server(self.pgdata)
        pgserver.pg_ctl(["-w", *args], pgdata=self.pgdata, user=server.system_user, timeout=60)


class ServersOn(TestServers):
    """The test run's servers, except that databases are created on `postgres` (a server of the test's own)."""

    def __init__(self, postgres: OwnPostgres, redis_url: str) -> None:  # no super(): nothing else to find or start
        self._embedded = []
        self.postgres_admin_url = postgres.admin_url
        self.redis_url = redis_url
