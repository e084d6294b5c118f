"""Faults a chaos test injects into one system's own processes and servers, never anyone else's.

Connections are told apart by their TCP port: `local_ports(pid)` reads which sockets a process (and its
children) holds from /proc, and Postgres (`pg_stat_activity.client_port`) and Redis (`CLIENT LIST` addr)
say which port each of their clients talks from. A backend is only ever terminated in the system's own
database, and a Redis client only in the system's own embedded Redis.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from pathlib import Path

import psycopg

from tests.acceptance.harness import ConveyorSystem, Process
from tests.acceptance.processes import children_of

#: How long `terminate_database_backends(wait=True)` waits for each backend to exit.
WAIT_MS = 10_000


def _socket_inodes(pid: int) -> set[str]:
    inodes = set()
    fd_dir = Path(f"/proc/{pid}/fd")
    with contextlib.suppress(OSError):
        for fd in fd_dir.iterdir():
            with contextlib.suppress(OSError):
                target = os.readlink(fd)
                if target.startswith("socket:["):
                    inodes.add(target[8:-1])
    return inodes


def local_ports(pid: int) -> set[int]:
    """Local TCP ports of the sockets held by `pid` and its children (IPv4 and IPv6)."""
    inodes = set()
    for each in [pid, *children_of(pid)]:
        inodes |= _socket_inodes(each)
    ports = set()
    for table in ("tcp", "tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]:
                fields = line.split()
                if fields[9] in inodes:
                    ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


def terminate_backends(system: ConveyorSystem, *, of: list[Process] | None = None) -> int:
    """pg_terminate_backend on the system's own database: the backends of `of`'s processes, or all but ours.

    Returns how many were terminated.
    """
    ports = set().union(*(local_ports(p.pid) for p in of)) if of is not None else None
    return len(terminate_database_backends(system.database_url, ports=ports))


def terminate_database_backends(database_url: str, *, ports: set[int] | None = None, wait: bool = False) -> list[int]:
    """pg_terminate_backend on the sessions of `database_url`'s own database (those from `ports`, or all but ours).

    Never another database's. `wait`: return once they are gone, so their clients' sockets are surely closed.
    Returns the pids terminated.
    """
    with psycopg.connect(database_url, autocommit=True) as connection:
        rows = connection.execute(
            "SELECT pid, client_port FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchall()
        victims = [pid for pid, port in rows if ports is None or port in ports]
        for pid in victims:
            # with a timeout (PostgreSQL 14+) it returns once the backend is gone, not once it is signalled
            connection.execute("SELECT pg_terminate_backend(%s, %s)", (pid, WAIT_MS if wait else 0))
    return victims


def _unix_peers() -> dict[str, str]:
    """Each connected Unix socket's inode to its peer's (from `ss`: /proc does not tell a Unix socket's peer)."""
    listing = subprocess.run(["ss", "-xH"], capture_output=True, text=True, check=True, timeout=10).stdout
    peers = {}
    for line in listing.splitlines():
        fields = line.split()
        if len(fields) >= 8:
            peers[fields[-3]] = fields[-1]
    return peers


def kill_redis_clients(system: ConveyorSystem, *, of: list[Process] | None = None) -> int:
    """CLIENT KILL in the system's own (embedded, Unix-socket) Redis: the connections of `of`'s processes, or all.

    The server-side end of a connection is found by its `fd` in CLIENT LIST; it is `of`'s when its peer socket is
    held by one of `of`'s processes. Our own connection is never killed. Returns how many were killed.
    """
    assert system._redis_server is not None
    assert system._redis_server._process is not None
    server = system._redis_server._process.pid
    wanted: set[str] | None = None
    if of is not None:
        peers = _unix_peers()
        ours = set().union(*(_socket_inodes(each) for p in of for each in [p.pid, *children_of(p.pid)]))
        wanted = {peers[inode] for inode in ours if inode in peers}
    client = system.redis
    me = client.client_id()
    killed = 0
    for entry in client.client_list():
        if int(entry["id"]) == me:
            continue
        if wanted is not None:
            with contextlib.suppress(OSError):
                target = os.readlink(f"/proc/{server}/fd/{entry['fd']}")
                if target[8:-1] not in wanted:
                    continue
            if not os.path.exists(f"/proc/{server}/fd/{entry['fd']}"):
                continue
        with contextlib.suppress(Exception):  # it may have closed on its own meanwhile
            killed += int(client.client_kill_filter(_id=entry["id"]))
    return killed


def kill_worker(worker: Process) -> None:
    """SIGKILL a `conveyor worker` and its Dramatiq children (its process group): nothing is cleaned up."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(worker.pid, signal.SIGKILL)
    assert worker.popen is not None
    worker.popen.wait(10)
