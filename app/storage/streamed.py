"""An object of the store read once, in order, by one consumer (DuckDB's CSV reader) through a named pipe.

Why: on an S3 data root a CSV import used to download the whole upload into this
host's cache, then read it. The download and the import ran one after the other,
and on this VM the 1 GiB written to fresh page-cache pages and read back costs
about 1.4 CPU-s of page clearing and copying (see bench.storage_s3). Fed through
a FIFO, the bytes go from the socket to DuckDB's buffers while it parses, and
touch no file (1 GiB bench import: 9.5-11.4 against 12.9-14.4 client CPU-s).

A pipe can be read once, so what reads a file's start more than once (the format
and encoding sniffing, DuckDB's dialect and type sniffer, the header) reads a
local copy of the head (`head`); DuckDB's sniffer reads only its first
`sample_size` rows, so the head gives the plan the whole file would.

The feed can fail half-way: then DuckDB sees an early end of file and may finish
"successfully" on a truncated file; `piped` raises the store's error instead, and
checks that every byte was fed unless the reader stopped early (a LIMIT).
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

from app.storage.base import Store
from app.storage.errors import StoreUnavailable


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

    @contextlib.contextmanager
    def piped(self, fifo: Path) -> Iterator[Feed]:
        """A FIFO at `fifo` that a thread fills with the object while the block reads it.

        On leaving, the thread is released (a reader that never opened the pipe, or left early, ends its
        writes) and joined; a store error raises here, over whatever the reader raised (a truncated feed
        shows as a bad last row or a clean end of file, neither the file's fault)."""
        os.mkfifo(fifo, 0o600)
        feed = Feed(self.store, self.key, fifo)
        thread = threading.Thread(target=feed.run, name="ingest-feed", daemon=True)
        thread.start()
        try:
            yield feed
        finally:
            while thread.is_alive():  # repeated: the thread may not have reached its open yet
                _release(fifo)
                thread.join(0.05)
            fifo.unlink(missing_ok=True)
            feed.check(self.size)


class Feed:
    """The thread's side: open the FIFO for writing (waits for the reader), copy the object into it."""

    def __init__(self, store: Store, key: str, fifo: Path) -> None:
        self.store = store
        self.key = key
        self.fifo = fifo
        #: Bytes written to the pipe so far (for progress).
        self.done = 0
        self.error: BaseException | None = None
        #: The reader closed the pipe before the end (a LIMIT, an error or a cancel in the reader).
        self.closed_early = False

    def run(self) -> None:
        try:
            with open(self.fifo, "wb", buffering=0) as pipe:
                self.store.copy_to(self.key, _Counting(pipe, self))
        except BrokenPipeError:
            self.closed_early = True
        except BaseException as exc:  # handed to the reading thread by `check`
            self.error = exc

    def check(self, size: int) -> None:
        if self.error is not None:
            raise self.error
        if not self.closed_early and self.done != size:
            raise StoreUnavailable(f"the data store sent {self.done} of the upload's {size} bytes")


class _Counting:
    """A pipe's writer that writes every byte (a pipe may take part of a buffer) and counts them."""

    def __init__(self, pipe: object, feed: Feed) -> None:
        self._fd = pipe.fileno()  # type: ignore[attr-defined]
        self._feed = feed

    def write(self, data: bytes | memoryview, /) -> int:
        view = memoryview(data).cast("B")
        while view:
            written = os.write(self._fd, view)
            view = view[written:]
            self._feed.done += written
        return len(data)


def _release(fifo: Path) -> None:
    """Open and close the reading end: a writer still waiting for a reader goes on, to a broken pipe."""
    with contextlib.suppress(OSError):
        os.close(os.open(fifo, os.O_RDONLY | os.O_NONBLOCK))
