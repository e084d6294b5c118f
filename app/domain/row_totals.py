"""The filtered row count of a dataset version, remembered: versions are immutable, so the count of a
(file, filter) pair never changes, and a page of rows need not scan the whole file again to say its total.

A small in-process LRU (per API process, thread-safe). The key holds the file's path, size and modification
time, so a file written again at the same path (never done for a version, but cheap to guard) is counted again.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable

#: Totals kept per process; one entry is a few hundred bytes.
MAX_ENTRIES = 4096


class TotalCache:
    """A bounded least-recently-used map from (file, WHERE clause, bound values) to the matching row count."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self.max_entries = max_entries
        self._lock = threading.Lock()
        self._totals: OrderedDict[Hashable, int] = OrderedDict()

    @staticmethod
    def key(path: str, where: str, values: list[object]) -> Hashable:
        stat = os.stat(path)
        return (path, stat.st_size, stat.st_mtime_ns, where, tuple(repr(v) for v in values))

    def get(self, key: Hashable) -> int | None:
        with self._lock:
            total = self._totals.get(key)
            if total is not None:
                self._totals.move_to_end(key)
            return total

    def put(self, key: Hashable, total: int) -> None:
        with self._lock:
            self._totals[key] = total
            self._totals.move_to_end(key)
            while len(self._totals) > self.max_entries:
                self._totals.popitem(last=False)

    def total(self, key: Hashable, count: Callable[[], int]) -> int:
        """The remembered total, or `count()` (run outside the lock: two first requests may both count)."""
        found = self.get(key)
        if found is None:
            found = count()
            self.put(key, found)
        return found

    def clear(self) -> None:
        with self._lock:
            self._totals.clear()


#: The API process's cache, shared by every request.
TOTALS = TotalCache()
