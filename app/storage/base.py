"""The one storage interface every component uses; keys are `/`-separated and built by app.paths."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Protocol

#: One part of a composed object: bytes [start, end) of the object `key`.
Part = tuple[str, int, int]
#: The least size of a part of a composed object but its last (S3's rule for multipart uploads), and the most.
MIN_PART_BYTES = 5 << 20
MAX_PART_BYTES = 5 << 30
#: The most parts a composed object may have (S3's rule).
MAX_PARTS = 10_000


class PartsRefused(ValueError):
    """Parts S3 cannot make one object of by copying (one but the last under MIN_PART_BYTES, too many, too large)."""


def check_parts(parts: list[Part]) -> None:
    """PartsRefused unless S3 would compose `parts` by copying them. Pure."""
    sizes = [end - start for _key, start, end in parts]
    if len(sizes) > MAX_PARTS or any(size > MAX_PART_BYTES or size <= 0 for size in sizes):
        raise PartsRefused(f"{len(sizes)} parts, the largest {max(sizes, default=0)} bytes")
    if any(size < MIN_PART_BYTES for size in sizes[:-1]):
        raise PartsRefused(f"a part but the last is under {MIN_PART_BYTES} bytes")


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

    def compose(self, key: str, parts: list[Part]) -> None:
        """Make `key` of `parts`, byte ranges of other objects, in order, their bytes never passing through this
        process on S3 (UploadPartCopy: every part but the last at least MIN_PART_BYTES, PartsRefused if not)."""
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

    def listed(self, prefix: str) -> Iterator[tuple[str, int]]:
        """`list` with each object's size, as the listing itself gives it (S3: no request per key)."""
        ...

    def list_after(self, prefix: str, after: str) -> Iterator[str]:
        """Keys under `prefix` greater than `after`, in key order (one listing request a page on S3, starting there):
        a caller that wants a range stops reading past its end, and what lies beyond is never fetched. `after` names
        no folder (SeaweedFS skips the keys in a folder StartAfter names), and a folder's name is no sibling's prefix
        (SeaweedFS lists `a/` before `a.x`)."""
        ...

    def delete(self, key: str) -> None:
        """Remove an object; a missing one is not an error."""
        ...

    def delete_many(self, keys: Iterable[str]) -> int:
        """Remove these objects in as few requests as the store allows (S3: DeleteObjects, DELETE_BATCH keys a
        request, not a DELETE each); missing ones are not an error, one the store fails to remove raises
        (StoreUnavailable on S3), never skipped. How many keys were given."""
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
