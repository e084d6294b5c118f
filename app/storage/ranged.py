"""A read-only, seekable file over one object of the store, read by byte ranges (S3 range GETs) within a budget.

`complete` of a resumable upload checks the file's format (app.ingest.sniff) inside its request: that needs its
first bytes and, for a zip, its end (the central directory) and a member or two; an OLE2 file needs its header
and directory. On S3 the whole object was downloaded for that (a 10 GB upload: 10 GB through the API process);
this reads only the blocks asked for, and refuses (ReadBudgetExceeded) to fetch more than `budget` bytes.
"""

from __future__ import annotations

import io
from collections import OrderedDict

from app.storage.base import Store

#: Bytes fetched per range request (reads are rounded out to whole blocks).
BLOCK_BYTES = 64 << 10
#: Blocks kept in memory (a zip's central directory is read again when a member is opened).
CACHED_BLOCKS = 32


class ReadBudgetExceeded(Exception):
    """More than the reader's budget would be fetched from the store (not an OSError: nobody swallows it)."""


class RangedFile(io.RawIOBase):
    """The object at `key`, `size` bytes, read through `store.read_range`; `fetched` counts the bytes fetched."""

    def __init__(self, store: Store, key: str, size: int, *, budget: int) -> None:
        super().__init__()
        self.store, self.key, self.size, self.budget = store, key, size, budget
        self.fetched = 0
        self._at = 0
        self._blocks: OrderedDict[int, bytes] = OrderedDict()

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._at

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._at, io.SEEK_END: self.size}[whence]
        if base + offset < 0:
            raise OSError(f"seek to {base + offset}, before the start of {self.key}")
        self._at = base + offset
        return self._at

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self.read(len(buffer))
        memoryview(buffer)[: len(data)] = data
        return len(data)

    def read(self, size: int | None = -1) -> bytes:
        end = self.size if size is None or size < 0 else min(self.size, self._at + size)
        pieces = []
        while self._at < end:
            index, offset = divmod(self._at, BLOCK_BYTES)
            block = self._block(index)
            piece = block[offset : offset + end - self._at]
            if not piece:
                break
            pieces.append(piece)
            self._at += len(piece)
        return b"".join(pieces)

    def readall(self) -> bytes:
        return self.read(-1)

    def _block(self, index: int) -> bytes:
        block = self._blocks.get(index)
        if block is None:
            start = index * BLOCK_BYTES
            end = min(self.size, start + BLOCK_BYTES)
            if self.fetched + end - start > self.budget:
                raise ReadBudgetExceeded(
                    f"checking {self.key} would read more than {self.budget} bytes of it inside the request"
                )
            block = self.store.read_range(self.key, start, end)
            self.fetched += len(block)
            self._blocks[index] = block
            while len(self._blocks) > CACHED_BLOCKS:
                self._blocks.popitem(last=False)
        self._blocks.move_to_end(index)
        return block
