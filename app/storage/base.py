"""The one storage interface every component uses; keys are `/`-separated and built by app.paths."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Protocol


class Writer(Protocol):
    """A streamed write: bytes go out as they come (multipart on S3); visible only after a clean exit."""

    def write(self, data: bytes | memoryview, /) -> int: ...


class Store(Protocol):
    """Objects under the data root. A failure to reach it raises StoreUnavailable."""

    #: `file:///root` or `s3://bucket/prefix`: where this store keeps its objects.
    url: str

    def put(self, key: str, data: bytes) -> None:
        """Write a whole object at once (small objects)."""
        ...

    def put_file(self, key: str, source: Path) -> None:
        """Upload a local file (multipart when large); the object appears only when complete."""
        ...

    def writer(self, key: str) -> Writer:
        """A context manager to stream an object; an exception inside aborts it and leaves nothing."""
        ...

    def get(self, key: str) -> bytes:
        """A whole object (small objects only)."""
        ...

    def stream(self, key: str, *, chunk_size: int = 1024 * 1024) -> Iterator[bytes]:
        """An object's bytes in order, never whole in memory."""
        ...

    def read_range(self, key: str, start: int, end: int) -> bytes:
        """Bytes [start, end) of an object."""
        ...

    def download(self, key: str, target: Path) -> None:
        """Copy an object to a local file, atomically (a crash leaves no partial `target`)."""
        ...

    def size(self, key: str) -> int:
        """An object's size in bytes; ObjectMissing when there is none."""
        ...

    def exists(self, key: str) -> bool: ...

    def list(self, prefix: str) -> Iterator[str]:
        """Keys under `prefix` (a folder: `prefix/...`), in no particular order."""
        ...

    def delete(self, key: str) -> None:
        """Remove an object; a missing one is not an error."""
        ...

    def delete_prefix(self, prefix: str) -> int:
        """Remove every object under `prefix`; returns how many."""
        ...

    def local_path(self, key: str) -> Path | None:
        """The object's file when the store is this host's disk (read in place), else None."""
        ...

    def abort_stale_uploads(self, before: datetime) -> int:
        """Abort the unfinished writes a killed process left, started before `before`: multipart uploads on S3,
        hidden temporaries on a local disk; how many."""
        ...

    def check(self) -> None:
        """Raise StoreMisconfigured or StoreUnavailable unless the store answers and accepts our credentials."""
        ...
