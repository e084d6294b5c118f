"""The S3 backend, on obstore (Rust object_store): streamed multipart writes, ranged reads, bounded memory.

Chosen over boto3 by measurement (300 MB object against SeaweedFS on this
machine): obstore put 9-18 MB/s at 55 MB RSS and get 40-63 MB/s at 28 MB RSS,
boto3 put 4-10 MB/s at 158 MB RSS and get 24-49 MB/s at 90 MB RSS. Its
streamed writer aborts the multipart upload when the `with` block raises.
"""

from __future__ import annotations

import contextlib
import itertools
import os
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import obstore
from obstore.exceptions import (
    BaseError,
    NotFoundError,
    PermissionDeniedError,
    UnauthenticatedError,
)
from obstore.store import S3Store as ObjectStoreS3

from app.storage.base import Part, check_parts
from app.storage.errors import ObjectMissing, StoreMisconfigured, StoreUnavailable
from app.storage.local import temporary_name
from app.storage.s3_uploads import abort_stale, client, copy_parts

#: Bytes buffered per multipart part: object_store needs at least 5 MiB per part but the last.
PART_SIZE = 8 * 1024 * 1024
#: Parts sent at once by one writer: bounds memory to about PART_SIZE times this.
PART_CONCURRENCY = 4
#: Bytes a download writes at a time (see S3Store.download).
DOWNLOAD_CHUNK = 1024 * 1024
#: Parts a whole-file upload (put_file) sends at once. Neither this nor the part size changes what an upload
#: costs SeaweedFS (its CPU is 57% MD5): the bench import's 220 MiB of Parquet took 2.1-2.3 server CPU-s and
#: 1.4-1.6 s as 8 MiB x 4, 8 x 8, 16 x 4, 16 x 8, 32 x 8, 64 x 4 or one PUT (5 rounds each, load ~2).
UPLOAD_CONCURRENCY = 4
#: The Content-Type of every object (see S3Store: which one decides whether SeaweedFS compresses it).
CONTENT_TYPE = "binary/octet-stream"
#: Keys one DeleteObjects request may name (S3's most); obstore sends a list of paths as such requests.
DELETE_BATCH = 1000
#: How long a call keeps retrying a store that does not answer before StoreUnavailable.
RETRY_SECONDS = 10.0


@contextlib.contextmanager
def translated(key: str = "") -> Iterator[None]:
    """obstore's errors as ours: missing object, bad setting (credentials, bucket) or store unavailable."""
    try:
        yield
    except (NotFoundError, FileNotFoundError):
        raise ObjectMissing(key) from None
    except (PermissionDeniedError, UnauthenticatedError) as exc:
        raise StoreMisconfigured(
            f"the store refused the credentials: check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY ({_first_line(exc)})"
        ) from None
    except BaseError as exc:
        text = str(exc)
        if "NoSuchBucket" in text or "bucket does not exist" in text.lower():
            raise StoreMisconfigured("the bucket named in CONVEYOR_DATA_ROOT does not exist") from None
        if "SignatureDoesNotMatch" in text or "InvalidAccessKeyId" in text or "AccessDenied" in text:
            raise StoreMisconfigured(
                "the store refused the credentials: check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
            ) from None
        raise StoreUnavailable(f"the data store did not answer: {_first_line(exc)}") from None


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]


class S3Writer:
    """obstore's buffered writer (multipart once past PART_SIZE), aborted when the block raises."""

    def __init__(self, store: ObjectStoreS3, key: str) -> None:
        self._key = key
        self._store = store
        self._file: Any = None

    def __enter__(self) -> Self:
        with translated(self._key):
            self._file = obstore.open_writer(
                self._store, self._key, buffer_size=PART_SIZE, max_concurrency=PART_CONCURRENCY
            ).__enter__()
        return self

    def write(self, data: bytes | memoryview, /) -> int:
        with translated(self._key), _sending():
            return int(self._file.write(data))

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if kind is not None:
            # Aborts the upload; the caller's error says what went wrong, and an upload the store could not be
            # told to abort is left to the cleanup job (abort_stale_uploads).
            with contextlib.suppress(Exception):
                self._file.__exit__(kind, exc, tb)
            return
        with translated(self._key), _sending():
            self._file.__exit__(None, None, None)


@contextlib.contextmanager
def _sending() -> Iterator[None]:
    """obstore's streamed writer reports a store that fails as a plain OSError ("Generic S3 error"): unavailable."""
    try:
        yield
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise StoreUnavailable(f"the data store did not answer: {_first_line(exc)}") from None


class S3Store:
    """Objects in `bucket` under `prefix`; keys from app.paths, prefixed here and only here."""

    def __init__(self, url: str, environ: Mapping[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        self._env = {name: value for name, value in env.items() if name.startswith("AWS_")}
        self._uploads_client: Any = None
        bucket, _, prefix = url.removeprefix("s3://").partition("/")
        self.url = url
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        options: dict[str, Any] = {"region": env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1"}
        endpoint = env.get("AWS_ENDPOINT_URL_S3") or env.get("AWS_ENDPOINT_URL")
        if endpoint:
            # S3-compatible servers on one host name need path-style requests.
            options.update(endpoint=endpoint, virtual_hosted_style_request=False)
        # Over TLS the body needs no SHA-256 of its own in the signature (botocore's rule too): 256 MiB put cost
        # 0.12 client CPU-s unsigned against 0.29 signed, the server the same (2.3 s; 4 pairs). Over plain HTTP
        # the signed payload is all that shows the store the bytes were not changed on the way, so it stays.
        options["unsigned_payload"] = not (endpoint or "https://").startswith("http://")
        for name, option in (
            ("AWS_ACCESS_KEY_ID", "access_key_id"),
            ("AWS_SECRET_ACCESS_KEY", "secret_access_key"),
            ("AWS_SESSION_TOKEN", "token"),
        ):
            if env.get(name):
                options[option] = env[name]
        self._store = ObjectStoreS3(
            bucket,
            client_options={
                "allow_http": bool(endpoint and endpoint.startswith("http://")),
                "connect_timeout": timedelta(seconds=3),
                "timeout": timedelta(seconds=120),
                # Objects are opaque bytes to us: AWS S3's own default type for them, sent on every request, so
                # on each multipart part too. Not `application/octet-stream`: SeaweedFS takes that as "unknown",
                # sniffs the bytes, finds text in CSV and JSON and then gzips every chunk on write and gunzips it
                # on every read, on the CPU the workers share (64 MiB of CSV: server CPU put 1.57 s -> 0.85 s,
                # get 0.73 s -> 0.10 s, stored 25 MiB -> 64 MiB; bench.storage_s3's 1 GiB import job: server
                # CPU 12.1-14.9 s -> 6.3-6.9 s).
                "default_headers": {"Content-Type": CONTENT_TYPE},
            },
            retry_config={"max_retries": 4, "retry_timeout": timedelta(seconds=RETRY_SECONDS)},
            **options,
        )

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def put(self, key: str, data: bytes) -> None:
        with translated(key):
            obstore.put(self._store, self._key(key), data)

    def put_file(self, key: str, source: Path) -> None:
        """obstore reads the file itself and sends PART_SIZE parts UPLOAD_CONCURRENCY at a time; atomic.

        An upload that fails is aborted by obstore itself, whether the file or a part fails; a store gone by
        then cannot be told, so the cleanup job aborts it later (tests/integration/test_s3_failed_uploads.py).
        1.6-1.7x faster than feeding our writer from Python (256 MiB to SeaweedFS here: 5.9 s against 10.0 s,
        4.5 s against 7.6 s)."""
        with translated(key):
            obstore.put(self._store, self._key(key), source, chunk_size=PART_SIZE, max_concurrency=UPLOAD_CONCURRENCY)

    def writer(self, key: str) -> S3Writer:
        return S3Writer(self._store, self._key(key))

    def compose(self, key: str, parts: list[Part]) -> None:
        """S3 copies each part into a multipart upload of `key` (UploadPartCopy), COPY_CONCURRENCY at a time."""
        check_parts(parts)
        if self._uploads_client is None:
            self._uploads_client = client(self._env)
        copied = [(self._key(source), start, end) for source, start, end in parts]
        copy_parts(self._uploads_client, self.bucket, self._key(key), copied, content_type=CONTENT_TYPE)

    def get(self, key: str) -> bytes:
        with translated(key):
            return bytes(obstore.get(self._store, self._key(key)).bytes())

    def stream(self, key: str, *, chunk_size: int = 1024 * 1024) -> Iterator[bytes]:
        with translated(key):
            result = obstore.get(self._store, self._key(key))
            for chunk in result.stream(min_chunk_size=chunk_size):
                yield bytes(chunk)

    def read_range(self, key: str, start: int, end: int) -> bytes:
        if end <= start:
            return b""
        with translated(key):
            return bytes(obstore.get_range(self._store, self._key(key), start=start, end=end))

    def download(self, key: str, target: Path) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        temp = temporary_name(target)
        try:
            with temp.open("wb") as file, translated(key):
                # obstore's buffers are written as they are (no copy to bytes), in pieces of about 1 MiB:
                # gathering 8 MiB first costs copies too. 1 GiB from SeaweedFS here: 0.6-0.8 CPU-s and
                # 1.7-1.9 s against 1.5-2.8 CPU-s and 3.1-9.9 s as bytes(8 MiB) (load 9-10); pieces of 64 KiB,
                # 256 KiB and 4 MiB took 1.78, 1.59 and 2.24 s against 1.49 s (medians of 5, load ~2). Most of
                # the client's CPU is the kernel copying into the page cache; 2 or 4 ranged GETs into one file
                # took 1.10 and 1.05 s against 1.11 s: the server's CPU (1.1-1.2 s per GiB) is the limit.
                # The client CPU swings (0.55-2.1 s per GiB) with the VM's memory, not this loop: a page-cache
                # write of 1 GiB costs 0.17 CPU-s on pages freed a moment ago, 1.5-2.5 on pages the host took
                # back (free page reporting; see bench.storage_s3.settle). O_DIRECT through one aligned 8 MiB
                # buffer did not pay: download 0.57 against 0.70 client CPU-s, but the import then reads the CSV
                # from disk, 10.7 against 9.8 CPU-s; the S3 job 11.5 against 10.8 CPU-s (medians of 6, load 3-4).
                for chunk in obstore.get(self._store, self._key(key)).stream(min_chunk_size=DOWNLOAD_CHUNK):
                    file.write(chunk)
            os.replace(temp, target)
        finally:
            temp.unlink(missing_ok=True)

    def size(self, key: str) -> int:
        with translated(key):
            return int(obstore.head(self._store, self._key(key))["size"])

    def exists(self, key: str) -> bool:
        try:
            self.size(key)
        except ObjectMissing:
            return False
        return True

    def list(self, prefix: str) -> Iterator[str]:
        for key, _size in self.listed(prefix):
            yield key

    def listed(self, prefix: str) -> Iterator[tuple[str, int]]:
        """Keys and sizes from ListObjectsV2 pages (up to 1,000 keys a request), never a HEAD per key."""
        yield from self._pages(prefix, None)

    def list_after(self, prefix: str, after: str) -> Iterator[str]:
        for key, _size in self._pages(prefix, self._key(after)):  # S3 lists in key order, from StartAfter
            yield key

    def _pages(self, prefix: str, offset: str | None) -> Iterator[tuple[str, int]]:
        skip = len(self.prefix) + 1 if self.prefix else 0
        with translated(prefix):
            for batch in obstore.list(self._store, self._key(prefix.rstrip("/")) + "/", offset=offset, chunk_size=500):
                for meta in batch:
                    yield meta["path"][skip:], int(meta["size"])

    def delete(self, key: str) -> None:
        with translated(key), contextlib.suppress(NotFoundError, FileNotFoundError):
            obstore.delete(self._store, self._key(key))

    def delete_many(self, keys: Iterable[str]) -> int:
        """obstore sends a list of paths as DeleteObjects requests (SeaweedFS answers them too): 50 keys are one
        request, not 50 (one each); S3 reports a missing key as deleted. A key the store answers it could not delete
        (an <Error> in the answer) makes obstore retry the request, then raise: StoreUnavailable, so a caller never
        takes a batch for removed while one of its objects is still there."""
        count = 0
        iterator = iter(keys)
        while batch := list(itertools.islice(iterator, DELETE_BATCH)):
            with translated(batch[0]):
                obstore.delete(self._store, [self._key(key) for key in batch])
            count += len(batch)
        return count

    def delete_prefix(self, prefix: str) -> int:
        """The keys listed first, then deleted (never deleting under a listing still paging)."""
        return self.delete_many(list(self.list(prefix)))

    def local_path(self, key: str) -> Path | None:
        return None

    def abort_stale_uploads(self, before: datetime) -> int:
        """Abort the multipart uploads under our prefix started before `before` (left by killed processes)."""
        if self._uploads_client is None:
            self._uploads_client = client(self._env)
        prefix = f"{self.prefix}/" if self.prefix else ""
        return abort_stale(self._uploads_client, self.bucket, prefix, before=before)

    def check(self) -> None:
        """List one key: proves the endpoint answers, the credentials are accepted and the bucket exists."""
        with translated(""):
            next(iter(obstore.list(self._store, self.prefix or None, chunk_size=1)), None)
