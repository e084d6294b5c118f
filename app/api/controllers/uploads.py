"""/api/v1/uploads: resumable uploads of large files, chunk by chunk in any order, then completed into a dataset."""

from __future__ import annotations

import uuid

import anyio
from litestar import Controller, Request, Response, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from app.api import idempotent
from app.api.controllers.datasets import dataset_out
from app.api.dataset_schemas import CHUNK, CONTENT_RANGE, CompleteUploadIn, DatasetOut, UploadOut
from app.api.idempotent import IdempotencyKey
from app.api.multipart_upload import receive_chunk, receive_range
from app.api.openapi import problem_response
from app.api.schemas import FileNameSearch, NamespaceFilter, Page, PageCursor, PageLimit, page, page_cursor
from app.api.security import audit_context, principal_of
from app.clock import utcnow
from app.db.database import Database
from app.domain import datasets as dataset_service
from app.domain import files as data_files
from app.domain import upload_digest, upload_ranges
from app.domain import uploads as service
from app.domain.namespaces import namespace_id
from app.domain.pagination import check_limit
from app.domain.permissions import Permission
from app.paths import upload_data_path
from app.settings import Settings
from app.storage import Store

UploadId = FromPath[uuid.UUID]
WRITE = Permission.DATASETS_WRITE


class UploadController(Controller):
    path = "/api/v1/uploads"
    tags = ["datasets"]

    @post(
        "/",
        operation_id="createUpload",
        opt={"permission": WRITE, "action": "uploads.create", "errors": (413,)},
        sync_to_thread=True,
        status_code=201,
        summary="Open a resumable upload: file name, exact size, optional SHA-256 checked at completion",
    )
    def create(
        self,
        request: Request,
        data: JSONBody[service.UploadIn],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[UploadOut]:
        principal = principal_of(request)

        def create() -> uuid.UUID:
            return service.open_upload(
                session,
                principal=principal,
                namespace_id=namespace_id(session, data.namespace),
                filename=data.filename,
                size=data.size,
                sha256=data.sha256,
                settings=settings,
                now=utcnow(),
                audit_as=audit_context(request),
            ).id

        with db.transaction() as session:
            upload_id, replayed = idempotent.create_one(
                session, request, settings, key=idempotency_key, body=data, create=create
            )
            out = UploadOut.of(service.get_upload(session, upload_id, principal))
        return Response(out, status_code=201, headers=idempotent.headers(replayed, f"/api/v1/uploads/{out.id}"))

    @put(
        "/{upload_id:uuid}",
        operation_id="putUploadChunk",
        opt={
            "permission": WRITE,
            "action": "uploads.put",
            "errors": (409, 416, 503),
            "accepts": {"application/octet-stream": CHUNK},
            "headers": {"Content-Range": CONTENT_RANGE},
        },
        responses={
            409: problem_response(
                409,
                code="too_many_ranges",
                description="The upload is closed or expired (`upload_closed`), is being completed (`upload_busy`), "
                "was reset by a mismatching SHA-256 while the chunk arrived (`upload_reset`: send it again), "
                f"or the range would leave more than {upload_ranges.MAX_RANGES} separate ranges (`too_many_ranges`); "
                "send ranges that join those received",
            )
        },
        request_max_body_size=None,
        summary="Send one chunk: the body, with Content-Range: bytes START-END/TOTAL (any order, repeatable)",
    )
    async def put_chunk(
        self, request: Request, upload_id: UploadId, db: NamedDependency[Database], settings: NamedDependency[Settings]
    ) -> UploadOut:
        principal = principal_of(request)

        def check() -> tuple[int, int]:
            with db.read() as session:
                upload = service.get_upload(session, upload_id, principal)
                service.check_open(upload, utcnow())
                start, end = upload_ranges.parse_content_range(request.headers.get("content-range"), upload.size)
                service.check_range(upload, start, end)  # refused before a byte of the body is read
                return start, end

        hashed = None  # on S3: the upload's digest, with this chunk hashed in as it streams (when in order)

        def record(start: int, arrived: int, chunk: tuple[Store, str] | None = None) -> UploadOut:
            with db.transaction() as session:
                upload, before = service.record_range(session, upload_id, start, start + arrived, chunk=chunk)
                out = UploadOut.of(upload)
            service.hash_arrived(settings, upload_id, (start, start + arrived), before, hashed)
            return out

        with service.held(settings, upload_id, exclusive=False):  # `complete` cannot check the file meanwhile
            start, end = await anyio.to_thread.run_sync(check)
            if settings.data_in_store:  # each range an object of its own, put together at `complete`
                store, key = data_files.store(settings), service.chunk_key(upload_id, start)
                hashed = upload_digest.following(upload_id, start)
                with store.writer(key) as sink:
                    arrived = await receive_chunk(request, sink=service.Hashing(sink, hashed), length=end - start)
                try:
                    return await anyio.to_thread.run_sync(record, start, arrived, (store, key))
                except Exception:  # refused (409 upload_closed or upload_reset meanwhile): its object goes too
                    await anyio.to_thread.run_sync(store.delete, key)
                    raise
            path = upload_data_path(settings.data_path, upload_id)
            try:
                arrived = await receive_range(request, dest=path, offset=start, length=end - start)
                return await anyio.to_thread.run_sync(record, start, arrived)
            except BaseException:  # bytes written in place, unrecorded: no digest of the file holds any longer
                service.unrecorded(settings, upload_id)
                raise

    @get(
        "/",
        operation_id="listUploads",
        opt={"permission": WRITE},
        sync_to_thread=True,
        summary="Uploads of the namespaces where the caller may write datasets, newest first",
    )
    def list_uploads(
        self,
        request: Request,
        db: NamedDependency[Database],
        namespace: NamespaceFilter = None,
        search: FileNameSearch = None,
        limit: PageLimit = 50,
        cursor: PageCursor = None,
    ) -> Page[UploadOut]:
        with db.read() as session:
            rows = service.list_uploads(
                session,
                principal_of(request),
                namespace=namespace,
                search=search,
                limit=check_limit(limit),
                cursor=page_cursor(request, cursor),
            )
        return page(request, rows, limit, position=lambda u: (u.created_at, u.id), item=UploadOut.of)

    @get(
        "/{upload_id:uuid}",
        operation_id="getUpload",
        opt={"permission": WRITE},
        sync_to_thread=True,
        summary="How much has arrived, and which ranges are missing",
    )
    def read(self, request: Request, upload_id: UploadId, db: NamedDependency[Database]) -> UploadOut:
        with db.read() as session:
            return UploadOut.of(service.get_upload(session, upload_id, principal_of(request)))

    @post(
        "/{upload_id:uuid}/complete",
        operation_id="completeUpload",
        opt={"permission": WRITE, "action": "uploads.complete", "errors": (409, 413, 415, 503)},
        responses={
            503: problem_response(
                503,
                code="upload_checks_busy",
                description="The bytes must be read back to check them (chunks sent out of order, to another API "
                "process, again over received bytes, or on S3 under 5 MiB but the last) and this process is already "
                f"reading {upload_digest.FULL_READS} uploads (`upload_checks_busy`): retry after `Retry-After` "
                "seconds, the upload stays open; or the database or the store is unavailable",
            )
        },
        sync_to_thread=True,
        status_code=201,
        summary="Check the upload (every byte, SHA-256, content) and make it a dataset; an upload sent in order is "
        "not read again (on S3: chunks of at least 5 MiB, joined by S3 itself)",
    )
    def complete(
        self,
        request: Request,
        upload_id: UploadId,
        data: JSONBody[CompleteUploadIn],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[DatasetOut]:
        principal = principal_of(request)
        # Exclusive: a chunk still being written would change the bytes after they were checked.
        refusal: service.KeptRefusal | None = None

        def create() -> uuid.UUID:
            service.finish(session, upload, settings=settings, now=utcnow())
            found = data_files.upload_format(settings, upload.id, upload.filename, upload.size)
            return dataset_service.create_dataset(
                session,
                principal=principal,
                namespace_id=upload.namespace_id,
                name=data.name,
                description=data.description,
                tags=data.tags,
                upload=upload,
                file_format=found.kind,
                audit_as=audit_context(request),
                action="uploads.complete",
            ).id

        with service.held(settings, upload_id, exclusive=True), db.transaction() as session:
            upload = service.get_upload(session, upload_id, principal, lock=True)
            try:
                dataset_id, replayed = idempotent.create_one(
                    session, request, settings, key=idempotency_key, body=data, resource_id=upload_id, create=create
                )
            except service.KeptRefusal as exc:  # what it says to send again is committed, then answered
                idempotent.release(session, request, key=idempotency_key, resource_id=upload_id)
                refusal = exc
            else:
                out = dataset_out(session, dataset_service.get_dataset(session, dataset_id, principal))
        if refusal is not None:
            raise refusal
        service.discard_chunks(settings, upload_id)
        return Response(out, status_code=201, headers=idempotent.headers(replayed, f"/api/v1/datasets/{out.id}"))
