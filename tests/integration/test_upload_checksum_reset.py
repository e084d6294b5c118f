"""A resumable upload whose bytes do not have the SHA-256 it was opened with: the same clear answer on both data
roots (the local disk, S3), the upload reset to 0 bytes received, and the whole file sent again completes it."""

from __future__ import annotations

import hashlib
from pathlib import Path

import psycopg
import pytest
from litestar.testing import TestClient
from sqlalchemy import event
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import object_session

from app.db.datasets import Upload
from app.domain import upload_assembly, uploads
from app.settings import Settings
from app.storage import StoreUnavailable
from tests.integration.s3_support import s3_settings

CONTENT = b"id,word\n" + b"".join(f"{i},w{i}\n".encode() for i in range(3000))


@pytest.fixture(params=["local", "s3"])
def root(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def settings(
    settings: Settings, root: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Settings:
    if root == "local":
        return settings
    return s3_settings(settings, request.getfixturevalue("s3_server"), monkeypatch, tmp_path)


def _put(client: TestClient, upload_id: str, start: int, body: bytes) -> None:
    headers = {"Content-Range": f"bytes {start}-{start + len(body) - 1}/{len(CONTENT)}"}
    sent = client.put(f"/api/v1/uploads/{upload_id}", content=body, headers=headers)
    assert sent.status_code == 200, sent.text


def test_a_checksum_mismatch_resets_the_upload_and_sending_it_again_completes_it(client: TestClient) -> None:
    """On S3 the chunk objects were gone once assembled, so the next `complete` said `upload_incomplete` while GET
    said every byte had arrived, and resending a range could not help. Now both roots reset the upload."""
    opened = client.post(
        "/api/v1/uploads",
        json={"filename": "words.csv", "size": len(CONTENT), "sha256": hashlib.sha256(CONTENT).hexdigest()},
    ).json()
    half = len(CONTENT) // 2
    damaged = CONTENT[:half].replace(b"w1", b"x1")
    _put(client, opened["id"], 0, damaged)
    _put(client, opened["id"], half, CONTENT[half:])
    refused = client.post(f"/api/v1/uploads/{opened['id']}/complete", json={"name": "words"})
    assert (refused.status_code, refused.json()["code"]) == (422, "checksum_mismatch"), refused.text
    assert "send the whole file again" in refused.json()["detail"]
    state = client.get(f"/api/v1/uploads/{opened['id']}").json()
    assert (state["status"], state["received"], state["missing"]) == ("open", 0, [[0, len(CONTENT)]])
    again = client.post(f"/api/v1/uploads/{opened['id']}/complete", json={"name": "words"})
    assert (again.status_code, again.json()["code"]) == (409, "upload_incomplete")
    _put(client, opened["id"], half, CONTENT[half:])  # out of order this time
    _put(client, opened["id"], 0, CONTENT[:half])
    done = client.post(f"/api/v1/uploads/{opened['id']}/complete", json={"name": "words"})
    assert done.status_code == 201, done.text
    assert done.json()["file"]["sha256"] == hashlib.sha256(CONTENT).hexdigest()
    raw = client.get(f"/api/v1/datasets/{done.json()['id']}/download", params={"format": "raw"})
    assert raw.content == CONTENT


def test_a_file_complete_refuses_for_its_content_is_refused_the_same_way_again(client: TestClient) -> None:
    """On S3 the chunk objects were deleted once assembled, before the format check: a refused file left an open
    upload whose GET said every byte had arrived while the next `complete` answered `upload_incomplete`."""
    content = b"%PDF-1.4\n" + b"x" * 5000
    opened = client.post("/api/v1/uploads", json={"filename": "report.csv", "size": len(content)}).json()
    headers = {"Content-Range": f"bytes 0-{len(content) - 1}/{len(content)}"}
    assert client.put(f"/api/v1/uploads/{opened['id']}", content=content, headers=headers).status_code == 200
    for _ in range(2):
        refused = client.post(f"/api/v1/uploads/{opened['id']}/complete", json={"name": "report"})
        assert (refused.status_code, refused.json()["code"]) == (415, "unsupported_media_type"), refused.text
        state = client.get(f"/api/v1/uploads/{opened['id']}").json()
        assert (state["status"], state["received"]) == ("open", len(content))


def test_chunks_the_store_fails_to_remove_after_completion_do_not_fail_the_request(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The chunks are removed once the dataset is committed: a store failing then must not answer 503 for it."""

    def down(*_: object) -> None:
        raise StoreUnavailable("the data store did not answer")

    monkeypatch.setattr(upload_assembly, "discard_chunks", down)
    opened = client.post("/api/v1/uploads", json={"filename": "words.csv", "size": len(CONTENT)}).json()
    _put(client, opened["id"], 0, CONTENT)
    done = client.post(f"/api/v1/uploads/{opened['id']}/complete", json={"name": "words"})
    assert done.status_code == 201, done.text


def test_a_reset_whose_transaction_rolls_back_leaves_an_upload_that_says_what_to_send_again(
    client: TestClient, root: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On S3 the reset removes the chunk objects before its transaction commits. When that commit failed, the
    record still counted every byte while no object held any: each later `complete` answered 409
    `upload_incomplete` with nothing `missing`, so a client resuming from GET had nothing to send."""
    opened = client.post(
        "/api/v1/uploads",
        json={"filename": "words.csv", "size": len(CONTENT), "sha256": hashlib.sha256(CONTENT).hexdigest()},
    ).json()
    _put(client, opened["id"], 0, CONTENT.replace(b"w1", b"x1"))
    real_restart = uploads.restart

    def reset_then_commit_fails(settings: Settings, upload: Upload) -> None:
        real_restart(settings, upload)

        def connection_lost(*_: object) -> None:
            raise OperationalError("COMMIT", None, psycopg.OperationalError("server closed the connection"))

        event.listen(object_session(upload), "before_commit", connection_lost, once=True)

    monkeypatch.setattr(uploads, "restart", reset_then_commit_fails)
    failed = client.post(f"/api/v1/uploads/{opened['id']}/complete", json={"name": "words"})
    assert (failed.status_code, failed.json()["code"]) == (503, "database_unavailable"), failed.text
    monkeypatch.setattr(uploads, "restart", real_restart)

    # The next complete says what to do: local, the bytes are still there and still wrong; S3, they are gone
    again = client.post(f"/api/v1/uploads/{opened['id']}/complete", json={"name": "words"})
    expected = ("checksum_mismatch", 422) if root == "local" else ("upload_incomplete", 409)
    assert (again.json()["code"], again.status_code) == expected, again.text
    state = client.get(f"/api/v1/uploads/{opened['id']}").json()
    assert (state["status"], state["received"], state["missing"]) == ("open", 0, [[0, len(CONTENT)]])
    _put(client, opened["id"], 0, CONTENT)
    done = client.post(f"/api/v1/uploads/{opened['id']}/complete", json={"name": "words"})
    assert done.status_code == 201, done.text
    raw = client.get(f"/api/v1/datasets/{done.json()['id']}/download", params={"format": "raw"})
    assert raw.content == CONTENT
