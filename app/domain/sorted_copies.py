"""Sorted copies of big dataset versions, so a sorted page of rows is a cheap read instead of a full sort.

A sorted, filtered page over ten million rows sorts (top-N) the whole file on every request, 1-3 s, and a
deep page sorts more. Versions are immutable, so the first such request for a (version, sort) pair starts
writing, in the background, a copy of the version's Parquet file in that order (ties by the row's position
in the version); later requests read the copy unsorted: the first page stops after a few row groups, a
filter on the sort column skips row groups by their min/max, a deep page counts only filter columns. Until
the copy is written requests sort as before, with the same order.

The copies live in one directory per API process's data root; the oldest are deleted past `MAX_COPIES`.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from pathlib import Path

import msgspec

from app.ingest import DuckDBSettings
from app.ingest.duck import connect, literal

log = logging.getLogger(__name__)

#: Versions with fewer rows are sorted per request (fast enough; a copy would be wasted disk).
MIN_ROWS = 1_000_000
#: Copies kept on disk (each is about the size of its version's file); the least recently written go first.
MAX_COPIES = 16
#: Copies written at once per API process: each is a full sort of a big file, so requests for many different
#: orders must not start many (bounded work in the API process); the others sort per request until it is free.
MAX_WRITERS = 1


class SortedCopies:
    """Finds a finished copy or starts writing it, at most one writer per copy at a time (per process)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._writing: dict[str, threading.Thread] = {}

    def find(self, source: str, order: str, directory: Path, settings: DuckDBSettings) -> str | None:
        """The copy of `source` in `order` (an ORDER BY list over `file_row_number` and the columns) if it is
        written; else None, after starting to write it unless that is already under way."""
        stat = os.stat(source)
        digest = hashlib.sha256(f"{source}\0{stat.st_size}\0{stat.st_mtime_ns}\0{order}".encode()).hexdigest()
        target = directory / f"{digest[:40]}.parquet"
        if target.exists():
            return str(target)
        with self._lock:
            if str(target) in self._writing or len(self._writing) >= MAX_WRITERS:
                return None
            # A query deadline belongs to the request; the copy outlives it (a new thread has no deadline).
            unbounded = msgspec.structs.replace(settings, time_limit_seconds=None)
            writer = threading.Thread(
                target=self._write, args=(source, order, target, unbounded), name="sorted-copy", daemon=True
            )
            self._writing[str(target)] = writer
        writer.start()
        return None

    def wait(self, timeout: float | None = None) -> None:
        """Until the copies being written now are written (tests and benchmarks)."""
        with self._lock:
            writers = list(self._writing.values())
        for writer in writers:
            writer.join(timeout)

    def _write(self, source: str, order: str, target: Path, settings: DuckDBSettings) -> None:
        partial = target.with_suffix(f".{os.getpid()}.{threading.get_ident()}.part")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            with connect(settings, readable=[source], writable=[str(target.parent)]) as conn:
                conn.execute(
                    f"COPY (SELECT * EXCLUDE (file_row_number) FROM read_parquet({literal(source)}, "
                    f"file_row_number = true) ORDER BY {order}) TO {literal(str(partial))} (FORMAT parquet)"
                )
            os.replace(partial, target)
            _evict(target.parent)
        except Exception:  # a failed copy only means sorted pages stay slow; the next request tries again
            log.exception("sorted copy of %s failed", source)
            partial.unlink(missing_ok=True)
        finally:
            with self._lock:
                self._writing.pop(str(target), None)


def _evict(directory: Path) -> None:
    copies = sorted(directory.glob("*.parquet"), key=lambda p: p.stat().st_mtime_ns, reverse=True)
    for old in copies[MAX_COPIES:]:
        old.unlink(missing_ok=True)


#: The one registry of the API process.
SORTED = SortedCopies()
