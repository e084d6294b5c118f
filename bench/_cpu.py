"""CPU seconds of a system under test, read from /proc: its process tree plus its Postgres backends.

A meter is read before and after a phase; processes that appear during the
phase count in full, processes that end during it count up to their last
reading (their final slice is lost: a small undercount, the same for every
system). The Redis server is shared with everything else on the machine and
is left out for every system alike.
"""

from __future__ import annotations

import os
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


def backends(database_url: str) -> list[int]:
    """Pids of the Postgres backends connected to the database of `database_url` (not this query's own)."""
    with psycopg.connect(database_url, autocommit=True) as connection:
        rows = connection.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchall()
    return [int(r[0]) for r in rows]


class CpuMeter:
    """CPU of the trees under `roots` (and the roots) and of the backends of `database_urls`, between two reads."""

    def __init__(self, *, roots: list[int], database_urls: list[str], exclude: set[int] | None = None) -> None:
        self.roots, self.database_urls = roots, database_urls
        self.exclude = exclude or set()
        self._first: dict[int, float] = {}

    def _pids(self) -> set[int]:
        pids = set(self.roots)
        for root in self.roots:
            pids.update(_descendants(root))
        for url in self.database_urls:
            pids.update(backends(url))
        return pids - self.exclude

    def _read(self) -> dict[int, float]:
        return {pid: cpu_seconds(pid) for pid in self._pids()}

    def start(self) -> None:
        self._first = self._read()

    def seconds(self) -> float:
        """CPU seconds used since start()."""
        now = self._read()
        total = sum(value - self._first.get(pid, 0.0) for pid, value in now.items())
        # processes gone since start: nothing more can be read from them
        return max(total, 0.0)
