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

What `complete` hashed stays known: a `complete` refused after it (the format, the dataset's name taken, a lost
database) and sent again reads nothing, where it read the whole file again each time. A digest is only used while
its upload's mark (REWRITTEN, a new token each time bytes may have been written over received ones, by any
process) is the one it was begun under; `complete` holds the upload's lock exclusive, so no chunk is written while
it reads, and every chunk written after it marks the upload once its bytes are in the file (app.domain.uploads).
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
#: The file in an upload's folder that says a range was sent again over bytes already received: a new token each time,
#: so that a digest begun under an older one (or none) is not used, in whichever process it is.
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
    """The digest of an upload's bytes [0, offset), begun when the upload's mark (REWRITTEN) was `mark` (None: no
    mark; unused on S3)."""

    def __init__(self, mark: str | None = None) -> None:
        self.offset = 0
        self.digest: Any = hashlib.sha256()
        self.lock = threading.Lock()
        self.mark = mark


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
        rewriting(folder, upload_id)
        return
    merged = sorted([*before, [start, end]])
    prefix = 0
    for low, high in merged:
        if low > prefix:
            break
        prefix = max(prefix, high)
    mark = mark_of(folder) if start == 0 else None
    with _guard:
        state = _tracked.get(upload_id)
        if state is None:
            if start != 0:
                return  # the start went elsewhere (or before a restart): `complete` reads the file
            state = _track(upload_id, _Prefix(mark))
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
            state = _track(upload_id, _Prefix())
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


def mark_of(folder: Path) -> str | None:
    """The upload's mark: the token last written to its REWRITTEN file, None when there is none."""
    try:
        return (folder / REWRITTEN).read_text()
    except FileNotFoundError:
        return None


def rewriting(folder: Path, upload_id: uuid.UUID) -> None:
    """Bytes of the upload's file may differ from those any digest of it was made of (a range written over received
    bytes, a chunk whose write or recording failed, a checksum reset): a new mark voids every digest of it, in every
    process (this one's is dropped too)."""
    (folder / REWRITTEN).write_text(uuid.uuid4().hex)
    forget(upload_id)


def digest(folder: Path, data: Path, upload_id: uuid.UUID, size: int) -> str:
    """The SHA-256 of the upload's `size` bytes: from what arrived in order here, the rest (all of it, when this
    process did not follow the upload) read from `data` within FULL_READS; ChecksBusy when none is free.

    Called under the upload's exclusive lock (no chunk is written meanwhile); the digest is kept, for a `complete`
    sent again after a refusal, until the upload's mark changes."""
    mark = mark_of(folder)
    with _guard:
        state = _tracked.get(upload_id)
    if state is None or state.mark != mark:
        state = _Prefix(mark)
    with state.lock:
        if state.offset < size:
            with full_read(size - state.offset):
                _hash_range(data, state, size)
        found = str(state.digest.copy().hexdigest())
    with _guard:
        _track(upload_id, state)
    return found


def _track(upload_id: uuid.UUID, state: _Prefix) -> _Prefix:
    """Follow `state` as the upload's (under _guard), dropping the oldest past MAX_TRACKED."""
    _tracked[upload_id] = state
    _tracked.move_to_end(upload_id)
    while len(_tracked) > MAX_TRACKED:
        _tracked.popitem(last=False)
    return state


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
