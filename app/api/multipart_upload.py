"""Stream a multipart/form-data request: its file part goes straight to the store, never whole into memory.

Litestar's own form parsing spools the file to a temporary file first and
limits the body to a fixed size; this writes the one file part to its final
place in the data root (a store writer: a file renamed into place, or an S3
multipart upload), hashing and counting as it goes, and stops at
CONVEYOR_MAX_UPLOAD_BYTES.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import anyio
from litestar import Request
from litestar._multipart import parse_content_header
from litestar.exceptions import InternalServerException
from multipart import MultipartSegment, ParserError, ParserLimitReached, PushMultipartParser  # type: ignore[import-untyped]

from app.core.errors import DomainError, InvalidInput
from app.domain.uploads import write_at
from app.storage import Writer

#: Largest text field accepted beside the file.
MAX_FIELD_BYTES = 64 * 1024
#: Most parts a form may have.
MAX_PARTS = 50


class PayloadTooLarge(DomainError):
    status, code, title = 413, "limit_exceeded", "Limit exceeded"


@dataclass
class ReceivedForm:
    fields: dict[str, list[str]] = field(default_factory=dict)
    filename: str | None = None
    size: int = 0
    sha256: str = ""

    def text(self, name: str, default: str = "") -> str:
        values = self.fields.get(name)
        return values[-1] if values else default


def _bad(message: str) -> InvalidInput:
    return InvalidInput(message, code="invalid_multipart", errors=[{"field": "body", "message": message}])


async def receive_form(request: Request, *, file_field: str, sink: Writer, max_bytes: int) -> ReceivedForm:
    """Parse the body; the part named `file_field` is written to `sink`, the rest kept as text."""
    _, options = parse_content_header(request.headers.get("content-type", ""))
    if "boundary" not in options:  # the media type itself was checked by app/api/media_types.py
        raise _bad("the multipart/form-data Content-Type names no boundary")
    form = ReceivedForm()
    digest = hashlib.sha256()
    try:
        with PushMultipartParser(options["boundary"].encode(), max_segment_count=MAX_PARTS) as parser:
            segment: MultipartSegment | None = None
            text = bytearray()
            async for chunk in request.stream():
                for part in parser.parse(chunk):
                    if isinstance(part, MultipartSegment):
                        segment, text = part, bytearray()
                        if segment.name == file_field:
                            if form.filename is not None:
                                raise _bad(f"send one {file_field!r} part only")
                            form.filename = segment.filename or ""
                    elif part:
                        if segment is not None and segment.name == file_field:
                            form.size += len(part)
                            if form.size > max_bytes:
                                raise PayloadTooLarge(
                                    f"the file is larger than CONVEYOR_MAX_UPLOAD_BYTES ({max_bytes} bytes)",
                                    errors=[{"field": file_field, "message": f"at most {max_bytes} bytes"}],
                                )
                            digest.update(part)
                            await anyio.to_thread.run_sync(sink.write, part)
                        else:
                            text.extend(part)
                            if len(text) > MAX_FIELD_BYTES:
                                raise _bad(f"a form field may hold at most {MAX_FIELD_BYTES} bytes")
                    elif segment is not None:  # end of a part
                        if segment.name != file_field:
                            form.fields.setdefault(segment.name, []).append(text.decode("utf-8", "replace"))
                        segment = None
            if not parser.closed:
                raise _bad("the request body ended before the multipart form did")
    except (ParserError, ParserLimitReached) as exc:
        raise _bad(f"malformed multipart/form-data: {exc}") from None
    if form.filename is None:
        raise _bad(f"the form has no {file_field!r} part")
    form.sha256 = digest.hexdigest()
    return form


class _AtOffset:
    """A sink writing into an existing file from `offset` on (a resumable upload on a local data root)."""

    def __init__(self, dest: Path, offset: int) -> None:
        self.dest, self.offset = dest, offset

    def write(self, data: bytes | memoryview, /) -> int:
        write_at(self.dest, self.offset, bytes(data))
        self.offset += len(data)
        return len(data)


async def receive_range(request: Request, *, dest: Path, offset: int, length: int) -> int:
    """Write the body at `offset` of `dest`; returns how many bytes arrived (fewer if the connection broke)."""
    return await receive_chunk(request, sink=_AtOffset(dest, offset), length=length)


async def receive_chunk(request: Request, *, sink: Writer, length: int) -> int:
    """Write the body to `sink` (one range of a resumable upload in S3); returns how many bytes arrived."""
    received = 0
    try:
        async for chunk in request.stream():
            if received + len(chunk) > length:
                raise InvalidInput(
                    f"the body is longer than the {length} bytes its Content-Range names",
                    code="invalid_content_range",
                    errors=[{"field": "Content-Range", "message": "does not match the body"}],
                )
            await anyio.to_thread.run_sync(sink.write, chunk)
            received += len(chunk)
    except InternalServerException:
        pass  # the client went away mid-chunk: what arrived is kept and counted, to be resumed
    return received
