"""An object of the store read by DuckDB in ranges, as it parses, through an fsspec filesystem of one file.

Why: on an S3 data root a CSV import used to download the whole upload into this
host's cache, then read it. The download and the import ran one after the other,
and on this VM the 1 GiB written to fresh page-cache pages and read back costs
about 1.4 CPU-s of page clearing and copying (see bench.storage_s3). Registered
with the import's DuckDB connection (`register_filesystem`), the object is read
in ranged GETs of DuckDB's CSV buffer size, straight into its buffers.

Why not a named pipe the download writes while DuckDB reads it (tried first): DuckDB cannot seek a pipe, so it
reads and parses it on about one core: 1 GiB in 10-11 s against 5 s from a local file (bench.storage_s3).

What reads a file's start more than once in Python (the format and encoding
sniffing, the header) reads a local copy of the head (`head`); DuckDB's sniffer
reads only its first `sample_size` rows, so the head gives the plan the whole
file would.

A read can fail half-way: DuckDB then reports an I/O error that reads like the
file's fault. `StoreFileSystem.check` raises the store's own error (retryable),
which the caller puts above DuckDB's.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import fsspec
from fsspec.spec import AbstractBufferedFile

from app.storage.base import Store
from app.storage.errors import ObjectMissing, StoreMisconfigured, StoreUnavailable

#: What a store raises: kept, and raised above DuckDB's error.
STORE_ERRORS = (StoreUnavailable, StoreMisconfigured, ObjectMissing)
#: Ranges fetched ahead of DuckDB's reads (each of the size it last asked for, its CSV buffer: 32 MiB). DuckDB
#: reads the next buffer only when a thread needs it, so without them every GET's wait stopped the parsing.
READ_AHEAD = 2
#: The protocol of the filesystem DuckDB reads a streamed object through.
PROTOCOL = "conveyor-store"


class RemoteFile:
    """The object at `key` (`size` bytes); `fetch` makes a whole local copy for the readers that need one."""

    def __init__(self, store: Store, key: str, size: int, fetch: Callable[[], Path]) -> None:
        self.store = store
        self.key = key
        self.size = size
        self.fetch = fetch

    def head(self, target: Path, max_bytes: int) -> int:
        """Write the object's first whole lines, up to `max_bytes`, to `target`; returns how many lines."""
        data = self.store.read_range(self.key, 0, min(max_bytes, self.size))
        if len(data) < self.size:
            data = data[: data.rfind(b"\n") + 1]  # a half line would look like a bad row to the sniffer
        target.write_bytes(data)
        return data.count(b"\n")

    def filesystem(self, name: str) -> StoreFileSystem:
        """A filesystem that holds this object alone, at `StoreFileSystem.url` (`name`: its path there, with a
        folder: DuckDB's allow-list takes no file at the root of a URL)."""
        return StoreFileSystem(self, name)


class StoreFileSystem(fsspec.AbstractFileSystem):  # type: ignore[misc]
    """One object, read in ranges; the first store error is kept for `check`."""

    protocol = PROTOCOL
    cachable = False  # one instance per import: it holds that import's object and errors

    def __init__(self, remote: RemoteFile, name: str) -> None:
        super().__init__()
        self.remote = remote
        self.url = f"{PROTOCOL}://{name}"
        self.error: Exception | None = None
        self._lock = threading.Lock()
        self._ahead: dict[tuple[int, int], Future[bytes]] = {}
        self._pool = ThreadPoolExecutor(READ_AHEAD, thread_name_prefix="ingest-read-ahead")

    def _own(self, path: str) -> str:
        if self._strip_protocol(path) != self._strip_protocol(self.url):
            raise FileNotFoundError(path)
        return path

    def info(self, path: str, **kwargs: Any) -> dict[str, Any]:
        return {"name": self._own(path), "size": self.remote.size, "type": "file"}

    def ls(self, path: str, detail: bool = True, **kwargs: Any) -> list[Any]:
        return [self.info(path)] if detail else [self._own(path)]

    def _open(self, path: str, mode: str = "rb", block_size: Any = None, **kwargs: Any) -> _RangeFile:
        if mode != "rb":
            raise PermissionError(f"{path} is read-only")
        return _RangeFile(self, self._own(path), mode, block_size=0, cache_type="none", size=self.remote.size)

    def read(self, start: int, end: int) -> bytes:
        """Bytes [start, end) of the object: all of them, else the store's error (kept, then raised); the next
        READ_AHEAD ranges of the same size are fetched meanwhile."""
        with self._lock:
            ahead = self._ahead.pop((start, end), None)
            for index in range(1, READ_AHEAD + 1):
                first = start + index * (end - start)
                span = (first, min(first + end - start, self.remote.size))
                if first < self.remote.size and span not in self._ahead:
                    self._ahead[span] = self._pool.submit(self._fetch, *span)
        try:
            return ahead.result() if ahead is not None else self._fetch(start, end)
        except STORE_ERRORS as exc:
            self.error = self.error or exc
            raise OSError(str(exc)) from exc  # DuckDB's I/O error; `check` raises the store's own

    def _fetch(self, start: int, end: int) -> bytes:
        data = self.remote.store.read_range(self.remote.key, start, end)
        if len(data) != end - start:
            raise StoreUnavailable(f"the data store sent {len(data)} of {end - start} bytes at {start}")
        return data

    def check(self) -> None:
        if self.error is not None:
            raise self.error

    def close(self) -> None:
        """Drop the ranges fetched ahead and not read (a LIMIT, an error, a cancel); waits for none of them."""
        with self._lock:
            self._ahead.clear()
        self._pool.shutdown(wait=False, cancel_futures=True)


class _RangeFile(AbstractBufferedFile):  # type: ignore[misc]
    """No read-ahead of its own (cache_type "none"): each DuckDB read is one ranged GET of that size."""

    fs: StoreFileSystem

    def _fetch_range(self, start: int, end: int) -> bytes:
        return self.fs.read(start, end)
