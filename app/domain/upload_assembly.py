"""`complete` of a resumable upload on an S3 data root: its chunk objects made one object by S3 itself.

Each chunk was an object of its own, hashed as it streamed through the API when it
started where the upload's digest ended (app.domain.upload_digest). When every byte
was hashed so, and the chunks meet S3's part rules (every one but the last at least
5 MiB: the console and the Python client send 8 MiB), S3 copies them into the
upload's object (UploadPartCopy) and no byte passes through the request. Otherwise
— chunks sent out of order, to another API process, again over bytes already sent,
or smaller than 5 MiB — the request reads them back and writes the object, at most
FULL_READS at once per process (503 `upload_checks_busy`, Retry-After, past it).

Either way the object's SHA-256 is recorded beside it with what it was made of (the chunk objects' keys and
sizes, which are never rewritten: a range sent again is a new key). A `complete` repeated after a refusal (the
format, the dataset's name, a lost database) over the same chunks reuses the object and that SHA-256: it neither
copies nor reads a chunk again, where it read every byte back (the digest followed as they arrived is used once).
"""

from __future__ import annotations

import hashlib
import heapq
import itertools
import json
import logging
import uuid

from app.core.errors import Conflict
from app.domain import upload_digest
from app.paths import upload_assembled_key, upload_key, upload_prefix
from app.storage import ObjectMissing, Store, StoreUnavailable
from app.storage.base import Part, PartsRefused

logger = logging.getLogger(__name__)

#: One chunk object of an upload: where its bytes start in the upload, its key, its size.
Chunk = tuple[int, str, int]


class ChunksMissing(Conflict):
    """Bytes of the upload that no chunk object holds (409 `upload_incomplete`); `held`: the [start, end) of the
    chunk objects there are, so the upload's record can be made to say what is really there."""

    code = "upload_incomplete"

    def __init__(self, detail: str, *, held: list[list[int]]) -> None:
        super().__init__(detail)
        self.held = held


def assemble(store: Store, upload_id: uuid.UUID, size: int) -> str:
    """Make the upload's object of its chunks; its SHA-256. The chunks stay until `discard_chunks`, once the
    upload's completion is committed: a `complete` refused after this (SHA-256, format) can be repeated."""
    chunks = [(_start(key), key, length) for key, length in store.listed(upload_prefix(upload_id) + "/chunks")]
    parts, overlapped = layers(chunks, size)
    made_of = _made_of(chunks)
    known = _assembled(store, upload_id, made_of)
    if known is not None:  # a `complete` refused after it made this very object
        upload_digest.forget(upload_id)
        return known
    store.delete(upload_assembled_key(upload_id))  # before the object is made again
    digest = upload_digest.followed(upload_id, size)
    try:
        if digest is not None and not overlapped:  # else the digest may be of bytes written over since
            try:
                store.compose(upload_key(upload_id), parts)
            except PartsRefused:
                digest = None
        else:
            digest = None
        if digest is None:
            with upload_digest.full_read(size):
                digest = _copy(store, upload_id, parts, size)
    finally:
        upload_digest.forget(upload_id)
    try:
        store.put(upload_assembled_key(upload_id), json.dumps({"made_of": made_of, "sha256": digest}).encode())
    except StoreUnavailable:  # only a repeated `complete` would have used it: it makes the object again
        logger.warning("upload %s: what its object was made of could not be recorded", upload_id, exc_info=True)
    return digest


def discard_chunks(store: Store, upload_id: uuid.UUID) -> None:
    """Remove the upload's chunk objects (its object made of them, or no longer wanted), and the record of what its
    object was made of."""
    store.delete(upload_assembled_key(upload_id))
    store.delete_prefix(upload_prefix(upload_id) + "/chunks")


def _made_of(chunks: list[Chunk]) -> str:
    """One digest of the chunk objects an upload's object is made of: their keys (each written once) and sizes."""
    listed = hashlib.sha256()
    for _start_at, key, length in sorted(chunks, key=lambda chunk: chunk[1]):
        listed.update(f"{key} {length}\n".encode())
    return listed.hexdigest()


def _assembled(store: Store, upload_id: uuid.UUID, made_of: str) -> str | None:
    """The SHA-256 of the upload's object when it is there and was made of exactly the chunks `made_of` says."""
    try:
        record = json.loads(store.get(upload_assembled_key(upload_id)))
        if record["made_of"] != made_of or not store.exists(upload_key(upload_id)):
            return None
        return str(record["sha256"])
    except (ObjectMissing, ValueError, KeyError, TypeError):  # none, or not one this code wrote
        return None


def written(key: str) -> str:
    """What orders a chunk object's write among the upload's others (app.domain.uploads.chunk_key): its tag."""
    return key.rsplit("/", 1)[1].split("-", 1)[1]


def _start(key: str) -> int:
    return int(key.rsplit("/", 1)[1].split("-", 1)[0])


def layers(chunks: list[Chunk], size: int) -> tuple[list[Part], bool]:
    """The parts that make bytes [0, size), each byte from the chunk written last that holds it (as on a local
    root, where a range sent again is written over the bytes before it), and whether two chunks overlap (a range
    sent again, whose bytes may not be those hashed as they arrived); ChunksMissing at a gap. Pure."""
    ranked = sorted(chunks, key=lambda chunk: written(chunk[1]))
    by_start = sorted((start, rank, key, start + length) for rank, (start, key, length) in enumerate(ranked))
    points = sorted({0, size, *(min(c[0], size) for c in by_start), *(min(c[3], size) for c in by_start)})
    live: list[tuple[int, int, str, int]] = []  # (-rank, end, key, start): the latest written on top
    parts: list[Part] = []
    overlapped, reach, at = False, 0, 0
    for low, high in itertools.pairwise(points):
        while at < len(by_start) and by_start[at][0] <= low:
            start, rank, key, end = by_start[at]
            overlapped = overlapped or (start < reach and end > start)
            reach = max(reach, end)
            heapq.heappush(live, (-rank, end, key, start))
            at += 1
        while live and live[0][1] <= low:  # entries under the top that ended are dropped once they are on top
            heapq.heappop(live)
        if not live:
            held = [[start, min(end, size)] for start, _rank, _key, end in by_start if start < min(end, size)]
            raise ChunksMissing(f"no chunk holds the bytes from {low}", held=held)
        _, _, key, start = live[0]
        if parts and parts[-1][0] == key and parts[-1][2] == low - start:
            parts[-1] = (key, parts[-1][1], high - start)
        else:
            parts.append((key, low - start, high - start))
    return parts, overlapped


def _copy(store: Store, upload_id: uuid.UUID, parts: list[Part], size: int) -> str:
    """Stream the parts, in order, into the upload's object; its SHA-256. The object is written with a multipart
    upload that is aborted if this fails."""
    digest, at = hashlib.sha256(), 0
    with store.writer(upload_key(upload_id)) as out:
        for key, start, end in parts:
            skip, left = start, end - start
            for piece in store.stream(key):
                if skip >= len(piece):
                    skip -= len(piece)
                    continue
                piece = piece[skip:][:left]
                skip, left = 0, left - len(piece)
                digest.update(piece)
                out.write(piece)
                at += len(piece)
                if not left:
                    break
        if at != size:
            raise Conflict(f"{size - at} bytes have not arrived", code="upload_incomplete")
    return digest.hexdigest()
