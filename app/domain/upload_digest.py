"""The SHA-256 of a resumable upload, hashed as its bytes arrive in order, so that `complete` need not read up to
CONVEYOR_MAX_UPLOAD_BYTES again inside its request.

On an S3 data root a chunk is hashed as it streams to its object, when it starts where this process's digest of
the upload ends (`following`, `streamed`, `followed`); one that arrives early is not caught up with later.

As a chunk is recorded, this process hashes the upload's bytes from where it stopped to the end of the received
prefix (`[0, n)` without a gap): chunks sent in order are each hashed once, just after they are written (still
in the page cache); a chunk that arrives early is hashed when the gap before it is filled. hashlib's state cannot
be saved, so it lives in this process, for at most MAX_TRACKED uploads. What it does not cover — chunks that went
to another API process, a restart, a range sent again over bytes already received (the upload's folder is then
marked, for every process) — `complete` reads from the file, at most FULL_READS completions at once per process:
one more is answered 503 `upload_checks_busy` with a Retry-After, not queued behind them.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import uuid
from collections import OrderedDict
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from app.core.errors import Unavailable

logger = logging.getLogger(__name__)

#: Uploads whose digest one API process follows at once (each a few hundred bytes); the oldest is dropped past it.
MAX_TRACKED = 1000
#: Completions of one API process that read their file to hash it at the same time.
FULL_READS = 2
#: Bytes of earlier chunks one chunk's request hashes at most beyond its own: a first chunk sent last would
#: otherwise hash the whole upload in its request; what is left is hashed by the next chunks, or at `complete`.
CATCH_UP_BYTES = 64 << 20
#: Bytes read per step when hashing from the file.
READ_CHUNK = 1 << 20
#: The file in an upload's folder that says a range was sent again over bytes already received.
REWRITTEN = "rewritten"
#: What a completion refused for want of a free full read is told to wait.
RETRY_AFTER_SECONDS = 10


class ChecksBusy(Unavailable):
    """Every full read of this process is taken (503): the client tries again after `retry_after` seconds."""

    code = "upload_checks_busy"

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class _Prefix:
    """The digest of an upload's bytes [0, offset)."""

    def __init__(self) -> None:
        self.offset = 0
        self.digest: Any = hashlib.sha256()
        self.lock = threading.Lock()


_tracked: OrderedDict[uuid.UUID, _Prefix] = OrderedDict()
_guard = threading.Lock()
_full_reads = threading.BoundedSemaphore(FULL_READS)


def overlaps(ranges: list[list[int]], start: int, end: int) -> bool:
    """Whether [start, end) covers a byte of `ranges` (sorted [low, high) pairs). Pure."""
    return any(low < end and start < high for low, high in ranges)


def arrived(folder: Path, data: Path, upload_id: uuid.UUID, span: tuple[int, int], before: list[list[int]]) -> None:
    """Note that bytes `span` = [start, end) of the upload's file `data` were written and recorded, `before` being
    the ranges received until then; hash what is now in order."""
    start, end = span
    if end <= start:
        return
    if overlaps(before, start, end):  # its bytes may differ from those hashed, here or in another process
        (folder / REWRITTEN).touch()
        forget(upload_id)
        return
    merged = sorted([*before, [start, end]])
    prefix = 0
    for low, high in merged:
        if low > prefix:
            break
        prefix = max(prefix, high)
    with _guard:
        state = _tracked.get(upload_id)
        if state is None:
            if start != 0:
                return  # the start went elsewhere (or before a restart): `complete` reads the file
            state = _tracked[upload_id] = _Prefix()
            while len(_tracked) > MAX_TRACKED:
                _tracked.popitem(last=False)
        _tracked.move_to_end(upload_id)
    with state.lock:
        if state.offset < prefix:
            try:
                _hash_range(data, state, min(prefix, state.offset + end - start + CATCH_UP_BYTES))
            except OSError:  # the chunk is stored and recorded all the same: `complete` reads the file
                logger.warning("upload %s: its bytes could not be read back to hash them", upload_id, exc_info=True)
                forget(upload_id)


def following(upload_id: uuid.UUID, start: int) -> Any | None:
    """For a chunk from `start` about to stream to the store (S3 data root): a copy of the digest of the bytes
    before it when this process hashed them all (a new digest at 0), to hash the chunk into as it passes; else
    None (`complete` reads the chunks back)."""
    if start == 0:
        return hashlib.sha256()
    with _guard:
        state = _tracked.get(upload_id)
    if state is None:
        return None
    with state.lock:
        return state.digest.copy() if state.offset == start else None


def streamed(upload_id: uuid.UUID, span: tuple[int, int], before: list[list[int]], hashed: Any | None) -> None:
    """Once a chunk that streamed through `hashed` (from `following`) is recorded as bytes `span`: that digest
    is the upload's from now on, if nothing moved the upload's digest meanwhile."""
    start, end = span
    if hashed is None or end <= start:
        return
    if overlaps(before, start, end):  # sent again: which bytes the object holds is `complete`'s to read
        forget(upload_id)
        return
    with _guard:
        state = _tracked.get(upload_id)
        if state is None:
            if start != 0:
                return
            state = _tracked[upload_id] = _Prefix()
            while len(_tracked) > MAX_TRACKED:
                _tracked.popitem(last=False)
        _tracked.move_to_end(upload_id)
    with state.lock:
        if state.offset == start:
            state.digest, state.offset = hashed, end


def followed(upload_id: uuid.UUID, size: int) -> str | None:
    """The SHA-256 of the upload's `size` bytes when this process hashed every one as it arrived, else None."""
    with _guard:
        state = _tracked.get(upload_id)
    if state is None:
        return None
    with state.lock:
        return str(state.digest.copy().hexdigest()) if state.offset == size else None


def forget(upload_id: uuid.UUID) -> None:
    with _guard:
        _tracked.pop(upload_id, None)


def digest(folder: Path, data: Path, upload_id: uuid.UUID, size: int) -> str:
    """The SHA-256 of the upload's `size` bytes: from what arrived in order here, the rest (all of it, when this
    process did not follow the upload) read from `data` within FULL_READS; ChecksBusy when none is free."""
    with _guard:
        state = _tracked.get(upload_id)
    if state is None or (folder / REWRITTEN).exists():
        state = _Prefix()
    with state.lock:
        if state.offset < size:
            with full_read(size - state.offset):
                _hash_range(data, state, size)
        found = str(state.digest.copy().hexdigest())
    forget(upload_id)
    return found


@contextmanager
def full_read(remaining: int) -> Any:
    if not _full_reads.acquire(blocking=False):
        raise ChecksBusy(
            f"this server is already checking {FULL_READS} uploads ({remaining} bytes of this one are still to "
            f"hash); try again in {RETRY_AFTER_SECONDS} s (sending chunks in order makes completing instant)",
            retry_after=RETRY_AFTER_SECONDS,
        )
    try:
        yield
    finally:
        _full_reads.release()


def _hash_range(data: Path, state: _Prefix, end: int) -> None:
    """Hash the file's bytes [state.offset, end) into the state (hashlib lets other threads run meanwhile)."""
    with data.open("rb") as file:
        file.seek(state.offset)
        while state.offset < end:
            chunk = file.read(min(READ_CHUNK, end - state.offset))
            if not chunk:
                raise OSError(f"{data} ends at {state.offset} bytes, before {end}")
            state.digest.update(chunk)
            state.offset += len(chunk)
