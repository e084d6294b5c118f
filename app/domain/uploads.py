"""Uploads: raw files arriving in one request or in byte ranges (resumable), written in place under the data root."""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, NoReturn

import msgspec
from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from app.core import display_text
from app.core.errors import Conflict, DomainError, InvalidInput, NotFound
from app.core.ids import uuid7
from app.core.patterns import whole
from app.db.datasets import Upload
from app.domain import audit, files, upload_assembly, upload_digest
from app.domain.name_search import holds
from app.domain.namespaces import namespace_id, visible_namespaces
from app.domain.pagination import decode_cursor
from app.domain.permissions import Permission, Principal
from app.domain.upload_ranges import add_range, merge, missing_ranges
from app.ingest.errors import LimitExceeded
from app.paths import upload_chunk_key, upload_data_path, upload_dir, upload_key, upload_prefix
from app.settings import Settings
from app.storage import Store, StoreUnavailable, Writer

logger = logging.getLogger(__name__)

#: The file in an upload's folder (local data root) that a chunk being written holds shared and `complete` exclusive.
LOCK_NAME = "lock"


class UploadBusy(Conflict):
    code = "upload_busy"


class KeptRefusal(DomainError):
    """A refused `complete` that changed the upload's record to say what the client must send again: the
    controller commits that change, then answers the refusal."""


class ChecksumMismatch(InvalidInput, KeptRefusal):
    """The bytes received do not have the SHA-256 the upload was opened with; the upload is reset to 0 bytes
    received (still open)."""

    code = "checksum_mismatch"


class ChunksLost(Conflict, KeptRefusal):
    """On S3, bytes recorded as received that no chunk object holds (a checksum reset whose transaction did not
    commit after it removed them, objects removed from the bucket): they are recorded as missing again."""

    code = "upload_incomplete"


class UploadIn(display_text.Normalised, kw_only=True, forbid_unknown_fields=True):
    """A resumable upload to open: the file's name and exact size, optionally its SHA-256 to check at the end."""

    filename: display_text.one_line(1000)  # type: ignore[valid-type]
    size: Annotated[int, msgspec.Meta(ge=1)]
    sha256: Annotated[str, msgspec.Meta(pattern=whole(r"[0-9a-fA-F]{64}"))] | None = None
    namespace: str = "default"


def too_large(settings: Settings) -> LimitExceeded:
    return LimitExceeded(
        f"the file is larger than CONVEYOR_MAX_UPLOAD_BYTES ({settings.max_upload_bytes} bytes)",
        errors=[{"field": "file", "message": f"at most {settings.max_upload_bytes} bytes"}],
    )


def writable_namespace(session: Session, name: str, principal: Principal) -> uuid.UUID:
    """The namespace an upload goes to, once the caller may write datasets there (checked before a byte is stored)."""
    found = namespace_id(session, name)
    principal.require(Permission.DATASETS_WRITE, found, resource="namespace")
    return found


def open_upload(
    session: Session,
    *,
    principal: Principal,
    namespace_id: uuid.UUID,
    filename: str,
    size: int,
    sha256: str | None,
    settings: Settings,
    now: datetime,
    complete: bool = False,
    audit_as: audit.AuditContext | None = None,
) -> Upload:
    """An upload row; a resumable one (`complete=False`) gets its file made at full size, to be filled in place.

    With `audit_as` the opening is audited (uploads.create); a one-request dataset upload is audited as the dataset's.
    """
    principal.require(Permission.DATASETS_WRITE, namespace_id, resource="namespace")
    if size > settings.max_upload_bytes:
        raise too_large(settings)
    upload = Upload(
        id=uuid7(),
        namespace_id=namespace_id,
        filename=display_text.file_name(filename, "filename"),
        size=size,
        received=size if complete else 0,
        ranges=[[0, size]] if complete else [],
        sha256=sha256.lower() if sha256 else None,
        status="complete" if complete else "open",
        created_by=principal.user_id,
        expires_at=now + timedelta(hours=settings.upload_expiry_hours),
        completed_at=now if complete else None,
    )
    if not complete and not settings.data_in_store:  # in S3, each range is an object until `finish`
        path = upload_data_path(settings.data_path, upload.id)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as file:
            file.truncate(size)
    session.add(upload)
    session.flush()
    if audit_as is not None:
        audit.record(
            session,
            audit_as,
            action="uploads.create",
            resource_type="upload",
            resource_id=upload.id,
            namespace_id=upload.namespace_id,
            details={"after": {"filename": upload.filename, "size": upload.size}},
        )
    return upload


def get_upload(session: Session, upload_id: uuid.UUID, principal: Principal, *, lock: bool = False) -> Upload:
    """An upload of a namespace where the caller may write datasets; 404 otherwise."""
    upload = session.get(Upload, upload_id, with_for_update=lock)
    if upload is None:
        raise NotFound(f"upload {upload_id} does not exist", code="upload_not_found")
    principal.require(Permission.DATASETS_WRITE, upload.namespace_id, resource="upload")
    return upload


def list_uploads(
    session: Session, principal: Principal, *, namespace: str | None, search: str | None, limit: int, cursor: str | None
) -> list[Upload]:
    """Uploads of the namespaces where the caller may write datasets (whose file name holds `search`, in any case,
    when given), newest first; `limit + 1` rows to tell if more exist."""
    query = select(Upload).order_by(Upload.created_at.desc(), Upload.id.desc()).limit(limit + 1)
    visible = visible_namespaces(session, principal, Permission.DATASETS_WRITE, namespace)
    if visible is not None:
        query = query.where(Upload.namespace_id.in_(visible))
    if search:
        query = query.where(holds(search, Upload.filename))
    if cursor:
        position = decode_cursor(cursor)
        query = query.where(tuple_(Upload.created_at, Upload.id) < tuple_(position.at, position.id))
    return list(session.scalars(query))


def check_range(upload: Upload, start: int, end: int) -> None:
    """Before a byte of [start, end) is read: refused if it would leave too many separate ranges."""
    add_range(upload.ranges, start, end)


def record_range(
    session: Session, upload_id: uuid.UUID, start: int, end: int, *, chunk: tuple[Store, str] | None = None
) -> tuple[Upload, list[list[int]]]:
    """Note that [start, end) has arrived (under the row lock: chunks may arrive in parallel, so the
    bound on ranges is checked again here); the upload, and the ranges received before this one.

    On S3, `chunk` is the store and key of its object: a checksum reset (`restart`, under the same row lock) that
    ran while it arrived may have removed it, and bytes whose object is gone must not be counted (409
    `upload_reset`: send it again). The reset and the recording take the row lock in turn, so the ranges recorded
    are always those whose objects exist."""
    upload = session.get_one(Upload, upload_id, with_for_update=True)
    if upload.status != "open":  # completed while this chunk arrived (in a store its object is left unused)
        raise Conflict(f"upload {upload.id} was completed while this chunk arrived", code="upload_closed")
    if chunk is not None and not chunk[0].exists(chunk[1]):
        raise Conflict(
            f"upload {upload.id} was reset (its SHA-256 did not match) while this chunk arrived: send it again",
            code="upload_reset",
        )
    before = [list(pair) for pair in upload.ranges]
    if end > start:
        upload.ranges = add_range(upload.ranges, start, end)
        upload.received = sum(high - low for low, high in upload.ranges)
    session.flush()
    return upload, before


class Hashing:
    """A chunk's sink that hashes what it writes into `digest` (none: only writes): a chunk streaming to S3."""

    def __init__(self, sink: Writer, digest: Any | None) -> None:
        self.sink, self.digest = sink, digest

    def write(self, data: bytes | memoryview, /) -> int:
        if self.digest is not None:
            self.digest.update(data)
        return self.sink.write(data)


def hash_arrived(
    settings: Settings, upload_id: uuid.UUID, span: tuple[int, int], before: list[list[int]], hashed: Any | None
) -> None:
    """Hash what a recorded chunk put in order (app.domain.upload_digest), once its row lock is released; on S3
    `hashed` is what the chunk streamed through (Hashing)."""
    if settings.data_in_store:
        upload_digest.streamed(upload_id, span, before, hashed)
    else:
        data = upload_data_path(settings.data_path, upload_id)
        upload_digest.arrived(upload_dir(settings.data_path, upload_id), data, upload_id, span, before)


def unrecorded(settings: Settings, upload_id: uuid.UUID) -> None:
    """A chunk that failed once its bytes began to be written in place (a body longer than its range, a lost
    database as it was recorded): they may lie over bytes received and hashed, and no recording says so, so the
    upload is marked (app.domain.upload_digest) before the refusal is answered; a store writes none in place."""
    if not settings.data_in_store:
        upload_digest.rewriting(upload_dir(settings.data_path, upload_id), upload_id)


def check_open(upload: Upload, now: datetime) -> None:
    if upload.status != "open" or upload.expires_at <= now:
        raise Conflict(
            f"upload {upload.id} is {upload.status if upload.status != 'open' else 'expired'}", code="upload_closed"
        )


@contextmanager
def held(settings: Settings, upload_id: uuid.UUID, *, exclusive: bool) -> Iterator[None]:
    """On a local data root, the upload's lock: a chunk holds it shared while it is written in place, `complete`
    exclusive while it checks the bytes and closes the upload, so no chunk lands in a file already checked (a
    dataset's by then). It never waits: the second comer is 409 `upload_busy`. A store needs none: there each chunk
    is an object of its own, and only those listed at `complete` make the upload."""
    if settings.data_in_store:
        yield
        return
    try:
        fd = os.open(upload_dir(settings.data_path, upload_id) / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
    except FileNotFoundError:  # no such upload on this data root: the lookup that follows answers 404
        yield
        return
    try:
        try:
            fcntl.flock(fd, (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB)
        except BlockingIOError:
            doing = "a chunk of it is still arriving" if exclusive else "it is being completed"
            raise UploadBusy(f"upload {upload_id} is busy: {doing}; try again once that is answered") from None
        yield
    finally:
        os.close(fd)  # releases the lock


def write_at(path: Path, offset: int, data: bytes) -> None:
    """Write `data` at `offset` of an existing file (ranges may come in any order)."""
    fd = os.open(path, os.O_WRONLY)
    try:
        view = memoryview(data)
        while view:
            written = os.pwrite(fd, view, offset)
            view, offset = view[written:], offset + written
    finally:
        os.close(fd)


def finish(session: Session, upload: Upload, *, settings: Settings, now: datetime) -> None:
    """Close a resumable upload: every byte present, and the SHA-256 right when one was given."""
    check_open(upload, now)
    gaps = missing_ranges(upload.ranges, upload.size)
    if gaps:
        raise Conflict(
            f"{upload.size - upload.received} bytes have not arrived yet; missing ranges: {gaps[:10]}",
            code="upload_incomplete",
        )
    if settings.data_in_store:
        try:
            actual = upload_assembly.assemble(files.store(settings), upload.id, upload.size)
        except upload_assembly.ChunksMissing as lost:
            lose_unheld(session, upload, lost.held)
    else:
        data = upload_data_path(settings.data_path, upload.id)
        actual = upload_digest.digest(upload_dir(settings.data_path, upload.id), data, upload.id, upload.size)
    if upload.sha256 and actual != upload.sha256:
        restart(settings, upload)
        session.flush()
        raise ChecksumMismatch(
            f"the file's SHA-256 is {actual}, not {upload.sha256}: the upload is reset to 0 bytes received; "
            "send the whole file again, then complete it",
            errors=[{"field": "sha256", "message": "does not match the bytes received"}],
        )
    upload.sha256, upload.status, upload.completed_at = actual, "complete", now
    session.flush()


def lose_unheld(session: Session, upload: Upload, held: list[list[int]]) -> NoReturn:
    """Make the upload's record (every byte received) say what its chunk objects hold, `held`, and refuse the
    completion so (ChunksLost, committed): the client's GET then names the bytes to send again, where a record
    that still counted them would answer `upload_incomplete` to every `complete` with nothing `missing`."""
    upload.ranges = merge(held)
    upload.received = sum(high - low for low, high in upload.ranges)
    upload_digest.forget(upload.id)
    session.flush()
    gaps = missing_ranges(upload.ranges, upload.size)
    raise ChunksLost(
        f"{upload.size - upload.received} bytes recorded as received are no longer stored (missing ranges: "
        f"{gaps[:10]}); they are recorded as missing again: send the `missing` ranges, then complete it"
    )


def restart(settings: Settings, upload: Upload) -> None:
    """After a checksum mismatch, the same on both data roots: no byte counts as received (which ones differ is
    unknown), and what was hashed or assembled of them is dropped, so the upload is as if just opened. On S3 its
    chunk objects and the object assembled of them are removed; on a local root the file stays at full size, to be
    written over."""
    upload.ranges, upload.received = [], 0
    if settings.data_in_store:
        upload_digest.forget(upload.id)
        upload_assembly.discard_chunks(files.store(settings), upload.id)
        files.store(settings).delete(upload_key(upload.id))
    else:  # a new mark, not none: a digest another process kept of the old bytes had none, if they were never marked
        upload_digest.rewriting(upload_dir(settings.data_path, upload.id), upload.id)


def discard_chunks(settings: Settings, upload_id: uuid.UUID) -> None:
    """Once a completion is committed: the digest kept for a repeat, and on S3 the chunk objects its object was made
    of (kept until then, so a refused `complete` can be repeated). The dataset exists by then: a store that fails
    here leaves them to the upload's removal, and the request still succeeds."""
    upload_digest.forget(upload_id)
    if settings.data_in_store:
        try:
            upload_assembly.discard_chunks(files.store(settings), upload_id)
        except StoreUnavailable:
            logger.warning("upload %s: its chunk objects could not be removed", upload_id, exc_info=True)


_last_written = 0
_written_guard = threading.Lock()


def chunk_key(upload_id: uuid.UUID, start: int) -> str:
    """Where one received range of a resumable upload goes in S3: a retried range gets a key of its own, tagged
    with when its write began (nanoseconds, rising within a process; random digits after them keep keys apart),
    so that `complete` takes each byte from the chunk written last, as a local root does by writing over it."""
    global _last_written
    with _written_guard:
        _last_written = max(time.time_ns(), _last_written + 1)
        began = _last_written
    return upload_chunk_key(upload_id, start, f"{began:020d}{uuid.uuid4().hex[:8]}")


def remove_files(settings: Settings, upload_id: uuid.UUID) -> None:
    """The upload's objects (its bytes, any received ranges) and this host's folder for it (head cache)."""
    files.store(settings).delete_prefix(upload_prefix(upload_id))
    shutil.rmtree(upload_dir(settings.data_path, upload_id), ignore_errors=True)
