"""`complete` of a resumable upload on an S3 data root: its chunk objects made one object by S3 itself.

Each chunk was an object of its own, hashed as it streamed through the API when it
started where the upload's digest ended (app.domain.upload_digest). When every byte
was hashed so, and the chunks meet S3's part rules (every one but the last at least
5 MiB: the console and the Python client send 8 MiB), S3 copies them into the
upload's object (UploadPartCopy) and no byte passes through the request. Otherwise
— chunks sent out of order, to another API process, again over bytes already sent,
or smaller than 5 MiB — the request reads them back and writes the object, at most
FULL_READS at once per process (503 `upload_checks_busy`, Retry-After, past it).
"""

from __future__ import annotations

import hashlib
import uuid

from app.core.errors import Conflict
from app.domain import upload_digest
from app.paths import upload_key, upload_prefix
from app.storage import Store
from app.storage.base import Part, PartsRefused

#: One chunk object of an upload: where its bytes start in the upload, its key, its size.
Chunk = tuple[int, str, int]


def assemble(store: Store, upload_id: uuid.UUID, size: int) -> str:
    """Make the upload's object of its chunks; its SHA-256. The chunks stay until `discard_chunks`, once the
    upload's completion is committed: a `complete` refused after this (SHA-256, format) can be repeated."""
    prefix = upload_prefix(upload_id) + "/chunks"
    chunks = sorted((int(k.rsplit("/", 1)[1].split("-")[0]), k) for k in store.list(prefix))
    digest = upload_digest.followed(upload_id, size)
    parts = plan([(start, key, store.size(key)) for start, key in chunks], size) if digest is not None else None
    try:
        if digest is not None and parts is not None:
            try:
                store.compose(upload_key(upload_id), parts)
            except PartsRefused:
                digest = None
        if digest is None or parts is None:
            with upload_digest.full_read(size):
                digest = _copy(store, upload_id, chunks, size)
    finally:
        upload_digest.forget(upload_id)
    return digest


def discard_chunks(store: Store, upload_id: uuid.UUID) -> None:
    """Remove the upload's chunk objects (its object made of them, or no longer wanted)."""
    store.delete_prefix(upload_prefix(upload_id) + "/chunks")


def plan(chunks: list[Chunk], size: int) -> list[Part] | None:
    """The parts that make bytes [0, size) of the chunks, in order; None when two chunks overlap (a range sent
    again, whose bytes may not be those hashed as they arrived); Conflict `upload_incomplete` at a gap. Pure."""
    parts: list[Part] = []
    at = 0
    for start, key, length in sorted(chunks):
        if start != at or not length:
            if start > at:
                raise Conflict(f"bytes from {at} have not arrived", code="upload_incomplete")
            return None
        end = min(start + length, size)
        parts.append((key, 0, end - start))
        at = end
    if at != size:
        raise Conflict(f"{size - at} bytes have not arrived", code="upload_incomplete")
    return parts


def _copy(store: Store, upload_id: uuid.UUID, chunks: list[tuple[int, str]], size: int) -> str:
    """Stream the chunks, in order and without overlaps, into the upload's object; its SHA-256. The object is
    written with a multipart upload that is aborted if this fails."""
    digest, at = hashlib.sha256(), 0
    with store.writer(upload_key(upload_id)) as out:
        for start, key in chunks:
            if start > at:
                raise Conflict(f"bytes from {at} have not arrived", code="upload_incomplete")
            skip = at - start
            for piece in store.stream(key):
                if skip >= len(piece):
                    skip -= len(piece)
                    continue
                piece = piece[skip:][: size - at]
                skip = 0
                digest.update(piece)
                out.write(piece)
                at += len(piece)
        if at != size:
            raise Conflict(f"{size - at} bytes have not arrived", code="upload_incomplete")
    return digest.hexdigest()
