"""A child process watched for memory and stopped on demand: the one rule for DuckDB work a parent must be able
to end whatever it does.

DuckDB neither interrupts nor counts against its memory limit some of its work (constant expressions evaluated
while binding, `repeat('x', 10^9)`; some table functions). Work that may do so runs in a child forked from a
server that has already imported the engine (`CONTEXT`, forkserver, with the modules `preload` names), and the
parent kills the child once its resident memory has grown past a budget (`MemoryWatch`).
"""

from __future__ import annotations

import multiprocessing
import os

#: Resident memory a child may add to what it holds when first measured, as a multiple of its connection's memory
#: limit (DuckDB's buffers, plus what it allocates outside them).
MEMORY_FACTOR = 4
#: How often a parent looks at its child's memory (seconds).
POLL_SECONDS = 0.02

CONTEXT = multiprocessing.get_context("forkserver")
_PRELOAD: list[str] = []


def preload(module: str) -> None:
    """Have the forkserver import `module` before it forks its first child (every module that starts children
    says so at import, so none replaces another's)."""
    if module not in _PRELOAD:
        _PRELOAD.append(module)
        CONTEXT.set_forkserver_preload(list(_PRELOAD))


def memory_budget(limit_mb: int) -> int:
    """Bytes a child whose connection may use `limit_mb` may add to its resident memory before it is killed."""
    return MEMORY_FACTOR * limit_mb * 1024 * 1024


class MemoryWatch:
    """Whether process `pid` has grown past `budget` bytes over its resident memory when first measured."""

    def __init__(self, pid: int | None, budget: int) -> None:
        self.pid = pid
        self.budget = budget
        self.baseline: int | None = None
        #: The most resident memory seen (bytes; 0 before the first measure).
        self.peak = 0

    def exceeded(self) -> bool:
        """Measure once; True when the child holds more than its baseline plus its budget."""
        resident = resident_bytes(self.pid) if self.pid is not None else None
        if resident is None:
            return False
        self.peak = max(self.peak, resident)
        if self.baseline is None:
            self.baseline = resident
        return resident - self.baseline > self.budget


def resident_bytes(pid: int) -> int | None:
    """Resident memory of process `pid` (Linux; None elsewhere, or once it is gone)."""
    try:
        with open(f"/proc/{pid}/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, IndexError, ValueError):
        return None
