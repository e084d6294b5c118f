"""The storage contract, against both backends: the local disk and a real S3-compatible server (SeaweedFS)."""

from __future__ import annotations

import os
import re
import uuid
from pathlib import Path

import pytest

from app.paths import UnsafePath, key, upload_key
from app.storage import ObjectMissing, Store, StoreMisconfigured, StoreUnavailable
from app.storage.base import MIN_PART_BYTES, PartsRefused
from app.storage.local import LocalStore
from app.storage.s3 import PART_SIZE, S3Store
from app.storage.s3_uploads import client as s3_client
from tests.s3proxy import FaultProxy
from tests.s3server import SeaweedS3


def test_put_get_and_ranges(store: Store) -> None:
    # Given an object written whole
    store.put("a/b/c", b"0123456789")
    # Then it reads back whole, in ranges and streamed, with its size
    assert store.get("a/b/c") == b"0123456789"
    assert store.read_range("a/b/c", 2, 5) == b"234"
    assert b"".join(store.stream("a/b/c", chunk_size=3)) == b"0123456789"
    assert store.size("a/b/c") == 10
    assert store.exists("a/b/c")
    assert not store.exists("a/b/d")


def test_missing_objects_raise_object_missing(store: Store, tmp_path: Path) -> None:
    with pytest.raises(ObjectMissing):
        store.get("no/such")
    with pytest.raises(ObjectMissing):
        store.size("no/such")
    with pytest.raises(ObjectMissing):
        list(store.stream("no/such"))
    with pytest.raises(ObjectMissing):
        store.download("no/such", tmp_path / "out")
    assert not (tmp_path / "out").exists()
    store.delete("no/such")  # deleting nothing is fine


def test_list_and_delete_prefix(store: Store) -> None:
    for name in ("x/1", "x/2/3", "y/1"):
        store.put(name, name.encode())
    assert sorted(store.list("x")) == ["x/1", "x/2/3"]
    assert sorted(store.listed("x")) == [("x/1", 3), ("x/2/3", 5)]
    assert store.delete_prefix("x") == 2
    assert list(store.list("x")) == []
    assert store.get("y/1") == b"y/1"


def test_list_after_gives_the_keys_past_a_point_in_key_order(store: Store) -> None:
    """What the attempt-folder sweep reads a range of a dataset's runs' folders with, stopping past its last run."""
    for name in ("r/aa/1", "r/ab/2", "r/ab/10", "r/b/1", "r/c/d/1", "r/c/e", "s/1"):
        store.put(name, name.encode())
    assert list(store.list_after("r", "r/a")) == ["r/aa/1", "r/ab/10", "r/ab/2", "r/b/1", "r/c/d/1", "r/c/e"]
    assert list(store.list_after("r", "r/ab/10")) == ["r/ab/2", "r/b/1", "r/c/d/1", "r/c/e"]
    assert list(store.list_after("r", "r/c/e")) == []


def test_streamed_multipart_write_and_download(store: Store, tmp_path: Path) -> None:
    # Given an object written in pieces, larger than one multipart part
    payload = uuid.uuid4().bytes * ((PART_SIZE * 2 + 12345) // 16)
    with store.writer("big/data") as out:
        for start in range(0, len(payload), 1_000_000):
            out.write(payload[start : start + 1_000_000])
    # Then it is whole, and downloads to a local file
    assert store.size("big/data") == len(payload)
    store.download("big/data", tmp_path / "copy")
    assert (tmp_path / "copy").read_bytes() == payload
    source = tmp_path / "src"
    source.write_bytes(payload[:1000])
    store.put_file("small/file", source)
    assert store.get("small/file") == payload[:1000]


def test_a_write_that_fails_leaves_nothing(store: Store) -> None:
    # Given a streamed write past the first multipart part that then fails
    def interrupted() -> None:
        with store.writer("half/data") as out:
            out.write(b"x" * (PART_SIZE + 10))
            raise RuntimeError("the worker died")

    with pytest.raises(RuntimeError):
        interrupted()
    # Then no object is visible and no leftover is listed
    assert not store.exists("half/data")
    assert list(store.list("half")) == []


def test_keys_are_built_from_ids_only() -> None:
    assert upload_key(uuid.UUID(int=5)).startswith("uploads/05/")
    for bad in ("..", "", "a/b", "a\\b"):
        with pytest.raises(UnsafePath):
            key("uploads", bad)


def test_local_store_refuses_to_leave_its_root(tmp_path: Path) -> None:
    with pytest.raises(UnsafePath):
        LocalStore(tmp_path).put("../outside", b"x")


def test_bad_settings_and_an_unreachable_store_are_told_apart(s3_server: SeaweedS3) -> None:
    bucket = s3_server.bucket
    S3Store(s3_server.root_url(), s3_server.env()).check()
    with pytest.raises(StoreMisconfigured, match="AWS_SECRET_ACCESS_KEY"):
        S3Store(f"s3://{bucket}", s3_server.env(AWS_SECRET_ACCESS_KEY="wrong")).check()
    with pytest.raises(StoreMisconfigured, match="CONVEYOR_DATA_ROOT"):
        S3Store("s3://no-such-bucket", s3_server.env()).check()
    with pytest.raises(StoreUnavailable):
        S3Store(f"s3://{bucket}", s3_server.env(AWS_ENDPOINT_URL="http://127.0.0.1:9")).check()


def test_seaweedfs_keeps_our_objects_as_sent_not_gzipped(s3_server: SeaweedS3, tmp_path: Path) -> None:
    # Given text objects (what CSV and JSON uploads are), one written in multipart parts and one whole
    store = S3Store(s3_server.root_url(), s3_server.env())
    text = b"".join(b"%d,word %d\n" % (i, i % 7) for i in range(200_000))
    source = tmp_path / "big.csv"
    source.write_bytes(text * (2 * PART_SIZE // len(text) + 1))
    before = _stored_bytes(s3_server)
    store.put_file("text/big", source)
    store.put("text/small", text)
    # Then SeaweedFS stored them as they came, not gzipped (which takes the server's CPU, shared with the
    # workers, to compress on write and again to decompress on every read): its volumes grew by their size
    assert _stored_bytes(s3_server) - before >= source.stat().st_size + len(text)
    assert store.get("text/small") == text


def _stored_bytes(server: SeaweedS3) -> int:
    """What SeaweedFS's volume files hold (objects' chunks are appended to them as stored)."""
    return sum(path.stat().st_size for path in (server.dir / "data").rglob("*.dat"))


def test_a_streamed_write_the_store_fails_midway_is_unavailable_and_leaves_no_upload(
    s3_server: SeaweedS3,
) -> None:
    # Given a store that takes one part, then answers 503 to further parts
    root = s3_server.root_url()
    proxy = FaultProxy(s3_server.s3_port, parts_ok=1)
    try:
        store = S3Store(root, s3_server.env(AWS_ENDPOINT_URL=proxy.endpoint))
        # When four parts are streamed into a writer, Then the store's failure is StoreUnavailable (a run retries),
        # not obstore's bare OSError
        with pytest.raises(StoreUnavailable), store.writer("v/data.parquet") as out:  # noqa: PT012
            for _ in range(4):
                out.write(os.urandom(PART_SIZE))
        # And no object appears, and the multipart upload was aborted
        assert not S3Store(root, s3_server.env()).exists("v/data.parquet")
        prefix = root.removeprefix(f"s3://{s3_server.bucket}/") + "/"
        listed = s3_client(s3_server.env()).list_multipart_uploads(Bucket=s3_server.bucket, Prefix=prefix)
        assert list(listed.get("Uploads") or []) == []
    finally:
        proxy.stop()


def test_compose_makes_one_object_of_ranges_of_others(store: Store) -> None:
    """A resumable upload's chunks become its object without passing through the API (S3: UploadPartCopy)."""
    first, second = os.urandom(MIN_PART_BYTES), os.urandom(1000)
    store.put("c/one", b"xx" + first)
    store.put("c/two", second)
    store.compose("c/whole", [("c/one", 2, 2 + MIN_PART_BYTES), ("c/two", 0, 1000)])
    assert store.get("c/whole") == first + second
    store.compose("c/empty", [])
    assert store.get("c/empty") == b""
    with pytest.raises(PartsRefused):  # S3 takes no part but the last under 5 MiB
        store.compose("c/refused", [("c/two", 0, 1000), ("c/one", 2, 2 + MIN_PART_BYTES)])
    assert not store.exists("c/refused")


def test_delete_many_removes_the_keys_given_and_no_others(store: Store) -> None:
    """What the attempt-folder sweep and `delete_prefix` remove objects with: the same on a disk and on S3."""
    for name in ("m/1", "m/2/3", "m/4", "n/1"):
        store.put(name, name.encode())
    # a generator, and a key that names nothing: counted, not an error
    assert store.delete_many(name for name in ("m/1", "m/2/3", "m/none")) == 3
    assert sorted(store.list("m")) == ["m/4"]
    assert store.get("n/1") == b"n/1"
    assert store.delete_many([]) == 0


def _deletes(proxy: FaultProxy) -> list[tuple[str, str]]:
    """The delete requests that reached the store: DELETE one object, or POST ?delete (DeleteObjects; obstore sends
    even a single key's delete as one)."""
    return [(method, path) for method, path in proxy.requests if method == "DELETE" or path.endswith("?delete")]


def test_deleting_many_objects_takes_a_request_per_thousand_on_s3(s3_server: SeaweedS3) -> None:
    """A prefix of 50 objects is one DeleteObjects request against the real SeaweedFS, not 50 DELETEs, and a request
    names at most 1,000 keys (S3's most)."""
    proxy = FaultProxy(s3_server.s3_port, parts_ok=1 << 30)
    try:
        store = S3Store(s3_server.root_url(), s3_server.env(AWS_ENDPOINT_URL=proxy.endpoint))
        for index in range(50):
            store.put(f"p/{index}", b"x")
        proxy.requests.clear()
        assert store.delete_prefix("p") == 50
        assert _deletes(proxy) == [("POST", f"/{s3_server.bucket}?delete")]
        assert list(store.list("p")) == []
        proxy.requests.clear()
        assert store.delete_many(f"q/{index}" for index in range(2500)) == 2500  # S3: missing keys are deleted
        assert len(_deletes(proxy)) == 3
    finally:
        proxy.stop()


def test_an_object_the_store_fails_to_delete_is_store_unavailable(s3_server: SeaweedS3) -> None:
    """DeleteObjects answers 200 with an <Error> for each key it could not delete: that raises, so no caller takes
    the objects for removed (a sweep leaves its run to the next pass) while one is still there."""

    def one_fails(method: str, path: str, body: bytes) -> bytes:
        if method != "POST" or not path.endswith("?delete"):
            return body
        failed = rb"<Error><Key>\1</Key><Code>InternalError</Code><Message>injected</Message></Error>"
        return re.sub(rb"<Deleted><Key>([^<]*/f/3)</Key></Deleted>", failed, body)

    proxy = FaultProxy(s3_server.s3_port, parts_ok=1 << 30, rewrite=one_fails)
    try:
        store = S3Store(s3_server.root_url(), s3_server.env(AWS_ENDPOINT_URL=proxy.endpoint))
        for index in range(5):
            store.put(f"f/{index}", b"x")
        with pytest.raises(StoreUnavailable):
            store.delete_many(f"f/{index}" for index in range(5))
        for index in range(5):  # (SeaweedFS did delete them: only its answer was changed)
            store.put(f"f/{index}", b"x")
        with pytest.raises(StoreUnavailable):
            store.delete_prefix("f")
    finally:
        proxy.stop()
