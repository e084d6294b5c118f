"""CPU seconds of a system under test, read from /proc: its process tree plus its Postgres backends.

A meter is read before and after a phase; processes that appear during the
phase count in full, processes that end during it count up to their last
reading (their final slice is lost: a small undercount, the same for every
system). The Redis server is shared with everything else on the machine and
is left out for every system alike.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import psycopg

from bench._processes import _descendants

_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """utime + stime of one process (0 if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICKS


def backends(database_url: str) -> dict[int, int | None]:
    """Postgres backends connected to the database of `database_url` (not this query's own): pid → client port."""
    with psycopg.connect(database_url, autocommit=True) as connection:
        rows = connection.execute(
            "SELECT pid, client_port FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchall()
    return {int(r[0]): (int(r[1]) if r[1] is not None and r[1] > 0 else None) for r in rows}


def process_name(pid: int) -> str:
    """A short name of a Conveyor process from its command line: api, scheduler, worker, up, ..."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return "gone"
    words = [a.decode(errors="replace") for a in argv if a]
    for word in ("api", "scheduler", "worker", "up"):
        if word in words:
            return word
    if any("dramatiq" in w for w in words):
        return "worker"
    if words and "redis-server" in words[0]:
        return "redis"
    if words and "postgres" in words[0]:
        return "postgres"
    return Path(words[0]).name if words else "?"


def _socket_inodes(pids: set[int]) -> dict[str, int]:
    """Socket inode → pid, for the sockets the processes `pids` hold open."""
    inode_pid: dict[str, int] = {}
    for pid in pids:
        try:
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                try:
                    target = os.readlink(fd)
                except OSError:
                    continue
                if target.startswith("socket:["):
                    inode_pid[target[8:-1]] = pid
        except OSError:
            continue
    return inode_pid


def _tcp_ports(inode_pid: dict[str, int]) -> dict[int, int]:
    """Local TCP port → pid of the sockets in `inode_pid` (matched in /proc/net/tcp*)."""
    ports: dict[int, int] = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if fields[9] in inode_pid:
                ports[int(fields[1].rsplit(":", 1)[1], 16)] = inode_pid[fields[9]]
    return ports


def _unix_peers() -> dict[str, str]:
    """Connected Unix sockets: inode → its peer's inode (`ss -xn`; /proc/net/unix does not name peers)."""
    try:
        listing = subprocess.run(["ss", "-xn"], capture_output=True, text=True, timeout=10, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return {}
    peers: dict[str, str] = {}
    for line in listing.splitlines()[1:]:
        fields = line.split()  # Netid State Recv-Q Send-Q Local-Address Inode Peer-Address Peer-Inode
        if len(fields) >= 8 and fields[1] == "ESTAB":
            peers[fields[5]] = fields[7]
    return peers


def _unix_clients(backends: list[int], inode_pid: dict[str, int]) -> dict[int, int]:
    """Backend pid → pid of the client (in `inode_pid`) at the other end of its Unix socket."""
    peers = _unix_peers()
    clients: dict[int, int] = {}
    for backend in backends:
        for inode in _socket_inodes({backend}):
            client = inode_pid.get(peers.get(inode, ""))
            if client is not None:
                clients[backend] = client
    return clients


class CpuMeter:
    """CPU of the trees under `roots` (and the roots) and of the backends of `database_urls`, between two reads."""

    def __init__(self, *, roots: list[int], database_urls: list[str], exclude: set[int] | None = None) -> None:
        self.roots, self.database_urls = roots, database_urls
        self.exclude = exclude or set()
        self._first: dict[int, float] = {}
        self._labels: dict[int, str] = {}

    def _pids(self) -> set[int]:
        tree = set(self.roots)
        for root in self.roots:
            tree.update(_descendants(root))
        tree -= self.exclude
        names = {pid: process_name(pid) for pid in tree}
        # Worker processes numbered in pid order, so "worker-1" is the same process at both reads.
        workers = sorted(p for p, n in names.items() if n == "worker")
        for index, pid in enumerate(workers):
            names[pid] = f"worker-{index}"
        self._labels.update((pid, name) for pid, name in names.items() if pid not in self._labels)
        pids = set(tree)
        found: dict[int, int | None] = {}
        for url in self.database_urls:
            found.update(backends(url))
        inode_pid = _socket_inodes(tree) if found else {}
        ports = _tcp_ports(inode_pid) if found else {}
        # backends on a Unix socket (an embedded Postgres) have no client port: their client is found by peer
        unlabelled = [pid for pid, port in found.items() if port is None and pid not in self._labels]
        over_unix = _unix_clients(unlabelled, inode_pid) if unlabelled else {}
        for pid, port in found.items():
            if pid in self.exclude:
                continue
            pids.add(pid)
            if pid not in self._labels:
                client = ports.get(port) if port is not None else over_unix.get(pid)
                self._labels[pid] = "pg:" + (self._labels.get(client, "?") if client is not None else "other")
        return pids

    def _read(self) -> dict[int, float]:
        return {pid: cpu_seconds(pid) for pid in self._pids()}

    def start(self) -> None:
        self._first = self._read()

    def breakdown(self) -> dict[str, float]:
        """CPU seconds since start() by process ("worker-0", "pg:worker-0" for its backends, ...), largest first."""
        now = self._read()
        totals: dict[str, float] = {}
        for pid, value in now.items():
            label = self._labels.get(pid, "?")
            totals[label] = totals.get(label, 0.0) + max(value - self._first.get(pid, 0.0), 0.0)
        return dict(sorted(totals.items(), key=lambda item: -item[1]))

    def seconds(self) -> float:
        """CPU seconds used since start()."""
        now = self._read()
        total = sum(value - self._first.get(pid, 0.0) for pid, value in now.items())
        # processes gone since start: nothing more can be read from them
        return max(total, 0.0)
