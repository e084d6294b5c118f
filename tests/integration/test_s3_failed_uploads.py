"""A multipart upload that fails midway leaves no parts in a real SeaweedFS, or leaves them to cleanup.

put_file hands the file to obstore.put, which aborts its multipart upload when
the source or a part fails (its put_multipart_inner and object_store's
WriteMultipart.finish both abort on error); these tests hold it to that. When the
store is gone at that moment, no client can abort: the upload stays until the
cleanup job's pass (abort_stale_uploads) once it is old enough.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import obstore
import pytest

from app.storage import StoreUnavailable
from app.storage.s3 import PART_SIZE, UPLOAD_CONCURRENCY, S3Store
from app.storage.s3_uploads import client as s3_client
from tests.s3proxy import FaultProxy
from tests.s3server import SeaweedS3


@pytest.fixture
def root(s3_server: SeaweedS3) -> str:
    return s3_server.root_url()


def _uploads(s3_server: SeaweedS3, root: str) -> list[dict[str, Any]]:
    prefix = root.removeprefix(f"s3://{s3_server.bucket}/") + "/"
    listed = s3_client(s3_server.env()).list_multipart_uploads(Bucket=s3_server.bucket, Prefix=prefix)
    return list(listed.get("Uploads") or [])


def _source(tmp_path: Path, parts: int) -> Path:
    path = tmp_path / "source"
    path.write_bytes(os.urandom(parts * PART_SIZE + 1))
    return path


@pytest.mark.parametrize("parts_ok", [1, 3])
def test_an_upload_whose_parts_the_store_refuses_midway_is_aborted(
    s3_server: SeaweedS3, root: str, tmp_path: Path, parts_ok: int
) -> None:
    # Given a store that takes `parts_ok` parts of a 6-part file, then answers 503 to further parts
    # (1: the failure is met when the upload finishes; 3: while parts are still being read and sent)
    proxy = FaultProxy(s3_server.s3_port, parts_ok=parts_ok)
    try:
        store = S3Store(root, s3_server.env(AWS_ENDPOINT_URL=proxy.endpoint))
        # When the file is uploaded
        with pytest.raises(StoreUnavailable):
            store.put_file("uploads/ab/refused/data", _source(tmp_path, 5))
        # Then the upload was aborted: no object, and no parts left in the bucket
        assert any(method == "DELETE" and "uploadId=" in path for method, path in proxy.requests)
    finally:
        proxy.stop()
    assert _uploads(s3_server, root) == []
    assert not S3Store(root, s3_server.env()).exists("uploads/ab/refused/data")


def test_an_upload_whose_source_fails_midway_is_aborted(s3_server: SeaweedS3, root: str) -> None:
    # Given a source that gives three parts, then fails to read (a disk error)
    def source() -> Iterator[bytes]:
        for _ in range(3):
            yield os.urandom(PART_SIZE)
        raise OSError("read failed")

    store = S3Store(root, s3_server.env())
    # When obstore.put uploads it as put_file does (the file itself cannot be made to fail a read midway)
    key = store._key("uploads/cd/broken/data")
    with pytest.raises(OSError, match="read failed"):
        obstore.put(store._store, key, source(), chunk_size=PART_SIZE, max_concurrency=UPLOAD_CONCURRENCY)
    # Then the upload was aborted: no object, no parts
    assert _uploads(s3_server, root) == []
    assert not store.exists("uploads/cd/broken/data")


def test_an_upload_cut_off_by_the_store_going_away_is_left_to_cleanup(
    s3_server: SeaweedS3, root: str, tmp_path: Path
) -> None:
    # Given a store that takes two parts and then answers nothing (the abort included) until it comes back
    proxy = FaultProxy(s3_server.s3_port, parts_ok=2, everything=True)
    try:
        store = S3Store(root, s3_server.env(AWS_ENDPOINT_URL=proxy.endpoint))
        # When the upload fails midway
        with pytest.raises(StoreUnavailable):
            store.put_file("uploads/ef/cut/data", _source(tmp_path, 5))
        proxy.recover()
        # Then its parts are still there (nobody could abort it), but no object is
        assert [upload["Key"].rsplit("/", 1)[0] for upload in _uploads(s3_server, root)] == [
            root.removeprefix(f"s3://{s3_server.bucket}/") + "/uploads/ef/cut"
        ]
        assert not store.exists("uploads/ef/cut/data")
        # And the cleanup job's pass aborts it once it is older than the bound, not before
        now = datetime.now(UTC)
        assert store.abort_stale_uploads(now - timedelta(hours=24)) == 0
        assert store.abort_stale_uploads(now + timedelta(minutes=1)) == 1
    finally:
        proxy.stop()
    assert _uploads(s3_server, root) == []
