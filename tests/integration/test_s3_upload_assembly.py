"""Uploads assembled on an S3 data root (SeaweedFS): chunks copied into the object or read back, which chunk wins a
byte sent twice, resets, and what a `complete` asks the store."""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path
from typing import Any

import pytest
from httpx import Response
from litestar.testing import TestClient

from app.api.controllers import uploads as upload_controller
from app.domain import upload_assembly
from app.paths import upload_prefix
from app.settings import Settings
from app.storage import s3 as s3_storage
from tests.integration.dataset_support import complete_elsewhere, upload
from tests.integration.s3_support import CSV, objects, put_range, s3_settings, send_in_chunks
from tests.s3server import SeaweedS3


@pytest.fixture
def settings(settings: Settings, s3_server: SeaweedS3, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Settings:
    return s3_settings(settings, s3_server, monkeypatch, tmp_path)


def _big_csv(rows: int) -> bytes:
    return b"id,word\n" + b"".join(b"%d,%s\n" % (i, b"w" * (i % 97)) for i in range(rows))


def test_completing_an_upload_sent_in_order_in_8_mib_chunks_reads_none_of_its_bytes(
    client: TestClient, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`complete` streamed every chunk back through the API into the upload's object, hashing it (a 10 GB upload:
    10 GB read and 10 GB written inside one request). Chunks hashed as they arrived, each but the last at least
    5 MiB, are now copied by S3 itself (UploadPartCopy): nothing is read back."""
    content = _big_csv(400_000)  # about 21 MiB: two 8 MiB parts and a short last one
    assert len(content) > 2 * (8 << 20)

    def read_back(*_: object) -> str:
        raise AssertionError("the chunks were read back inside the request")

    monkeypatch.setattr(upload_assembly, "_copy", read_back)
    upload_id = send_in_chunks(client, content, 8 << 20)
    done = client.post(f"/api/v1/uploads/{upload_id}/complete", json={"name": "copied"})
    assert done.status_code == 201, done.text
    assert done.json()["file"]["sha256"] == hashlib.sha256(content).hexdigest()
    assert objects(settings, upload_prefix(uuid.UUID(upload_id))) == [upload_prefix(uuid.UUID(upload_id)) + "/data"]
    raw = client.get(f"/api/v1/datasets/{done.json()['id']}/download", params={"format": "raw"})
    assert raw.content == content


@pytest.fixture
def copies(monkeypatch: pytest.MonkeyPatch) -> list[uuid.UUID]:
    """The uploads whose chunks `complete` read back into their object, one entry a read-back."""
    seen: list[uuid.UUID] = []
    real_copy = upload_assembly._copy

    def counted(store: Any, upload_id: uuid.UUID, chunks: Any, size: int) -> str:
        seen.append(upload_id)
        return real_copy(store, upload_id, chunks, size)

    monkeypatch.setattr(upload_assembly, "_copy", counted)
    return seen


def test_chunks_under_s3_s_part_size_are_put_together_by_reading_them_and_still_checked(
    client: TestClient, settings: Settings, copies: list[uuid.UUID]
) -> None:
    """1 MiB chunks are too small for S3 to copy as parts: the request reads them back (within FULL_READS), and a
    wrong SHA-256 is still found."""
    content = _big_csv(120_000)
    upload_id = send_in_chunks(client, content, 1 << 20)
    done = client.post(f"/api/v1/uploads/{upload_id}/complete", json={"name": "small-chunks"})
    assert done.status_code == 201, done.text
    assert copies == [uuid.UUID(upload_id)]
    raw = client.get(f"/api/v1/datasets/{done.json()['id']}/download", params={"format": "raw"})
    assert raw.content == content


def test_a_range_sent_again_with_corrected_bytes_wins_over_the_first_as_on_a_local_root(
    client: TestClient, settings: Settings
) -> None:
    """`complete` ordered the chunk objects by start, then by a random key: where two overlapped, the bytes of the
    one starting first (or, at one start, a random one) made the file, so a corrected resend could lose to the bad
    bytes it replaced. As on a local root, where a resend writes over them, the chunk written last now wins."""
    bad = CSV[:200] + b"9" * 50 + CSV[250:]
    opened = client.post("/api/v1/uploads", json={"filename": "w.csv", "size": len(CSV)}).json()
    assert put_range(client, opened["id"], 0, bad[:300], len(CSV)).status_code == 200
    assert put_range(client, opened["id"], 300, bad[300:], len(CSV)).status_code == 200
    assert put_range(client, opened["id"], 150, CSV[150:260], len(CSV)).status_code == 200  # inside the first chunk
    for _ in range(3):  # at one start: bad, then corrected, several times over
        assert put_range(client, opened["id"], 300, b"x" * 40, len(CSV)).status_code == 200
        assert put_range(client, opened["id"], 300, CSV[300:340], len(CSV)).status_code == 200
    done = client.post(f"/api/v1/uploads/{opened['id']}/complete", json={"name": "corrected"})
    assert done.status_code == 201, done.text
    raw = client.get(f"/api/v1/datasets/{done.json()['id']}/download", params={"format": "raw"})
    assert raw.content == CSV


def test_a_chunk_recorded_after_a_checksum_reset_removed_its_object_is_refused_not_counted(
    client: TestClient, fast_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A chunk whose object was written before a mismatching `complete` reset the upload (removing every chunk
    object) was recorded after it all the same: the upload counted bytes no object held. Recording checks its
    object under the row lock the reset holds, so it is refused (409 `upload_reset`) and nothing is counted."""
    opened = client.post(
        "/api/v1/uploads", json={"filename": "w.csv", "size": len(CSV), "sha256": hashlib.sha256(CSV).hexdigest()}
    ).json()
    assert put_range(client, opened["id"], 0, b"9" * len(CSV), len(CSV)).status_code == 200
    completions = []
    real_record = upload_controller.service.record_range

    def complete_from_another_api_process() -> Response:
        return complete_elsewhere(fast_settings, client, opened["id"], "reset")

    def reset_before_recording(*args: Any, **kwargs: Any) -> Any:  # the chunk's object is written by now
        if not completions:
            completions.append(complete_from_another_api_process())
        return real_record(*args, **kwargs)

    monkeypatch.setattr(upload_controller.service, "record_range", reset_before_recording)
    late = put_range(client, opened["id"], 0, CSV[:100], len(CSV))
    assert (completions[0].status_code, completions[0].json()["code"]) == (422, "checksum_mismatch")
    assert (late.status_code, late.json()["code"]) == (409, "upload_reset")
    state = client.get(f"/api/v1/uploads/{opened['id']}").json()
    assert state["received"] == 0
    assert objects(fast_settings, upload_prefix(uuid.UUID(opened["id"])) + "/chunks") == []
    monkeypatch.setattr(upload_controller.service, "record_range", real_record)
    assert put_range(client, opened["id"], 0, CSV, len(CSV)).status_code == 200
    done = client.post(f"/api/v1/uploads/{opened['id']}/complete", json={"name": "resent"})
    assert done.status_code == 201, done.text


class CountedRequests:
    """The obstore module as app.storage.s3 calls it, counting each call by name (HEAD is `head`, LIST `list`):
    the requests the S3 backend makes of the real SeaweedFS, not a fake store."""

    def __init__(self, real: Any) -> None:
        self.real, self.calls = real, {}

    def __getattr__(self, name: str) -> Any:
        found = getattr(self.real, name)
        if not callable(found) or isinstance(found, type):
            return found

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls[name] = self.calls.get(name, 0) + 1
            return found(*args, **kwargs)

        return counted


def test_completing_an_upload_asks_the_store_for_no_chunk_s_size(
    client: TestClient, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`complete` sent a HEAD per chunk object, 8 at a time, for its size (100 GB in 8 MiB chunks: 12,800 requests
    before a byte was joined), though the listing that found the chunks already says each one's size."""
    upload_id = send_in_chunks(client, CSV, 300)
    assert len(CSV) > 10 * 300  # over ten chunk objects
    requests = CountedRequests(s3_storage.obstore)
    monkeypatch.setattr(s3_storage, "obstore", requests)
    done = client.post(f"/api/v1/uploads/{upload_id}/complete", json={"name": "counted"})
    assert done.status_code == 201, done.text
    assert requests.calls.get("head", 0) == 0, requests.calls
    assert requests.calls["list"] <= 2, requests.calls  # the chunks', then the cleanup's once committed
    monkeypatch.setattr(s3_storage, "obstore", requests.real)
    raw = client.get(f"/api/v1/datasets/{done.json()['id']}/download", params={"format": "raw"})
    assert raw.content == CSV


def test_a_complete_repeated_after_a_refusal_reads_no_chunk_back(
    client: TestClient, settings: Settings, copies: list[uuid.UUID]
) -> None:
    """A refused `complete` (here: the dataset's name is taken) had made the upload's object, but the next one made
    it again: chunks that were read back once (out of order, under 5 MiB) were read back on every repeat, each a
    full read of the upload inside the request. The object made of the same chunks is now reused, SHA-256 and all;
    a range sent again in between is a new chunk, so the object is made again, of the new bytes."""
    upload(client, CSV, filename="taken.csv", name="taken")
    upload_id = send_in_chunks(client, CSV, 300)  # under 5 MiB: read back once
    for _ in range(3):
        refused = client.post(f"/api/v1/uploads/{upload_id}/complete", json={"name": "taken"})
        assert (refused.status_code, refused.json()["code"]) == (409, "dataset_name_taken"), refused.text
    assert len(copies) == 1
    done = client.post(f"/api/v1/uploads/{upload_id}/complete", json={"name": "fresh"})
    assert done.status_code == 201, done.text
    assert len(copies) == 1
    assert done.json()["file"]["sha256"] == hashlib.sha256(CSV).hexdigest()
    raw = client.get(f"/api/v1/datasets/{done.json()['id']}/download", params={"format": "raw"})
    assert raw.content == CSV
    prefix = upload_prefix(uuid.UUID(upload_id))
    assert objects(settings, prefix) == [prefix + "/data"]


def test_a_range_sent_again_after_a_refused_complete_is_what_the_next_one_checks(
    client: TestClient, settings: Settings
) -> None:
    """The object a refused `complete` made is not reused once a range was sent again: the next one is made of the
    bytes sent last and checked against the declared SHA-256."""
    bad = CSV[:100] + b"9" * 20 + CSV[120:]
    opened = client.post(
        "/api/v1/uploads", json={"filename": "w.csv", "size": len(CSV), "sha256": hashlib.sha256(CSV).hexdigest()}
    ).json()
    upload(client, CSV, filename="taken.csv", name="taken")
    assert put_range(client, opened["id"], 0, CSV, len(CSV)).status_code == 200
    refused = client.post(f"/api/v1/uploads/{opened['id']}/complete", json={"name": "taken"})
    assert (refused.status_code, refused.json()["code"]) == (409, "dataset_name_taken"), refused.text
    assert put_range(client, opened["id"], 0, bad[:200], len(CSV)).status_code == 200
    mismatch = client.post(f"/api/v1/uploads/{opened['id']}/complete", json={"name": "fresh"})
    assert (mismatch.status_code, mismatch.json()["code"]) == (422, "checksum_mismatch"), mismatch.text
    assert put_range(client, opened["id"], 0, CSV, len(CSV)).status_code == 200
    done = client.post(f"/api/v1/uploads/{opened['id']}/complete", json={"name": "fresh"})
    assert done.status_code == 201, done.text
    raw = client.get(f"/api/v1/datasets/{done.json()['id']}/download", params={"format": "raw"})
    assert raw.content == CSV
