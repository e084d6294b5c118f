"""Completing a resumable upload does not read its file again when its chunks were hashed as they arrived in order,
reads it (within a bound) when they were not, and never trusts a digest of bytes sent again since."""

from __future__ import annotations

import hashlib
import threading
import uuid
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from app.core.errors import Unavailable
from app.domain import upload_digest, uploads

CONTENT = b"id,word\n" + b"".join(f"{i},w{i}\n".encode() for i in range(4000))
SIXTHS = [len(CONTENT) * k // 6 for k in range(7)]


@pytest.fixture
def hashed(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Bytes hashed from the upload's file: {"chunks": while chunks arrive, "complete": while completing}."""
    counts = {"chunks": 0, "complete": 0}
    real = upload_digest._hash_range
    phase = threading.local()

    def counting(data: Path, state: Any, end: int) -> None:
        before = state.offset
        real(data, state, end)
        counts[getattr(phase, "name", "chunks")] += state.offset - before

    real_digest = upload_digest.digest

    def completing(*args: Any) -> str:
        phase.name = "complete"
        try:
            return real_digest(*args)
        finally:
            phase.name = "chunks"

    monkeypatch.setattr(upload_digest, "_hash_range", counting)
    monkeypatch.setattr(upload_digest, "digest", completing)
    return counts


def start(client: TestClient, body: bytes = CONTENT) -> str:
    sha = hashlib.sha256(body).hexdigest()
    response = client.post("/api/v1/uploads", json={"filename": "words.csv", "size": len(body), "sha256": sha})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def put(client: TestClient, upload_id: str, first: int, end: int, body: bytes = CONTENT) -> None:
    headers = {"Content-Range": f"bytes {first}-{end - 1}/{len(body)}"}
    response = client.put(f"/api/v1/uploads/{upload_id}", content=body[first:end], headers=headers)
    assert response.status_code == 200, response.text


def complete(client: TestClient, upload_id: str, name: str) -> Any:
    return client.post(f"/api/v1/uploads/{upload_id}/complete", json={"name": name})


def test_chunks_sent_in_order_are_not_read_again_at_completion(client: TestClient, hashed: dict[str, int]) -> None:
    upload_id = start(client)
    for low, high in pairwise(SIXTHS):
        put(client, upload_id, low, high)
    done = complete(client, upload_id, "in-order")
    assert done.status_code == 201, done.text
    assert hashed == {"chunks": len(CONTENT), "complete": 0}
    raw = client.get(f"/api/v1/datasets/{done.json()['id']}/download", params={"format": "raw"})
    assert raw.content == CONTENT


def test_a_chunk_that_arrives_early_is_hashed_once_the_gap_before_it_is_filled(
    client: TestClient, hashed: dict[str, int]
) -> None:
    upload_id = start(client)
    for index in (0, 2, 1, 5, 4, 3):
        put(client, upload_id, SIXTHS[index], SIXTHS[index + 1])
    assert complete(client, upload_id, "early").status_code == 201
    assert hashed == {"chunks": len(CONTENT), "complete": 0}


def test_a_chunk_that_fills_the_gap_before_the_rest_hashes_a_bounded_part_of_it(
    client: TestClient, hashed: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given everything but the first chunk received, when the first chunk arrives, then its request hashes its own
    bytes and at most CATCH_UP_BYTES more, not the whole upload; completing hashes the rest."""
    monkeypatch.setattr(upload_digest, "CATCH_UP_BYTES", SIXTHS[1])
    upload_id = start(client)
    put(client, upload_id, SIXTHS[1], len(CONTENT))
    put(client, upload_id, 0, SIXTHS[1])
    assert hashed == {"chunks": 2 * SIXTHS[1], "complete": 0}
    assert complete(client, upload_id, "gap").status_code == 201
    assert hashed == {"chunks": 2 * SIXTHS[1], "complete": len(CONTENT) - 2 * SIXTHS[1]}


def test_bytes_sent_again_are_read_from_the_file_at_completion(client: TestClient, hashed: dict[str, int]) -> None:
    """The client sends a range again, with other bytes: the digest of the first bytes must not be used."""
    changed = CONTENT[: SIXTHS[2]] + CONTENT[SIXTHS[2] : SIXTHS[3]].replace(b"w", b"v") + CONTENT[SIXTHS[3] :]
    upload_id = start(client, changed)
    put(client, upload_id, 0, len(CONTENT))
    put(client, upload_id, SIXTHS[2], SIXTHS[3], changed)
    done = complete(client, upload_id, "sent-again")
    assert done.status_code == 201, done.text  # the SHA-256 given at the start is the changed bytes'
    assert hashed["complete"] == len(CONTENT)


def test_a_completion_past_the_full_reads_is_refused_with_a_retry_after(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given every full read of the process taken, when an upload nobody hashed is completed, then it is told to
    come back (503 upload_checks_busy, Retry-After) instead of queueing, and it stays open; later it completes."""
    upload_id = start(client)
    put(client, upload_id, 0, len(CONTENT))
    upload_digest.forget(uuid.UUID(upload_id))  # as if its chunks had gone to another API process
    taken = threading.BoundedSemaphore(1)
    taken.acquire()
    monkeypatch.setattr(upload_digest, "_full_reads", taken)
    busy = complete(client, upload_id, "busy")
    assert (busy.status_code, busy.json()["code"]) == (503, "upload_checks_busy")
    assert busy.headers["Retry-After"] == str(upload_digest.RETRY_AFTER_SECONDS)
    assert client.get(f"/api/v1/uploads/{upload_id}").json()["status"] == "open"
    taken.release()
    assert complete(client, upload_id, "busy").status_code == 201


def test_a_chunk_whose_bytes_cannot_be_read_back_is_still_taken(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Hashing as chunks arrive is a shortcut: when it fails, the chunk is still stored and `complete` reads the
    file, instead of the chunk being answered 500."""
    upload_id = start(client)
    real = upload_digest._hash_range

    def broken(data: Path, state: Any, end: int) -> None:
        raise OSError("the disk hiccupped")

    monkeypatch.setattr(upload_digest, "_hash_range", broken)
    put(client, upload_id, 0, len(CONTENT))
    monkeypatch.setattr(upload_digest, "_hash_range", real)
    assert complete(client, upload_id, "hiccup").status_code == 201


class _Counted:
    """A file of an upload's bytes whose reads add to `counts["read"]`."""

    def __init__(self, file: Any, counts: dict[str, int]) -> None:
        self.file, self.counts = file, counts

    def read(self, size: int = -1) -> bytes:
        data = self.file.read(size)
        self.counts["read"] += len(data)
        return bytes(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.file, name)

    def __enter__(self) -> _Counted:
        return self

    def __exit__(self, *exc: object) -> None:
        self.file.close()


@pytest.fixture
def read_back(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Bytes read from uploads' files through Path.open (the hashing's reads: the format check opens its own)."""
    counts = {"read": 0}
    real = Path.open

    def counting(self: Path, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        file = real(self, mode, *args, **kwargs)
        if self.name == "data" and "uploads" in self.parts and "r" in mode and "+" not in mode:
            return _Counted(file, counts)
        return file

    monkeypatch.setattr(Path, "open", counting)
    return counts


def sent_elsewhere(client: TestClient, body: bytes = CONTENT, *, resent: bool = False) -> str:
    """An upload of `body` whose chunks this process did not follow (as if they went to another API process), so
    `complete` reads its file; `resent`: a range of it was sent again (its folder is marked)."""
    upload_id = start(client, body)
    put(client, upload_id, 0, len(body), body)
    if resent:
        put(client, upload_id, 0, SIXTHS[1], body)
    upload_digest.forget(uuid.UUID(upload_id))
    return upload_id


def taken(client: TestClient) -> str:
    """A dataset's name already taken."""
    other = start(client)
    put(client, other, 0, len(CONTENT))
    assert complete(client, other, "taken").status_code == 201
    return "taken"


@pytest.mark.parametrize("resent", [False, True], ids=["in-one-go", "range-sent-again"])
def test_a_complete_repeated_after_a_refused_name_reads_nothing_again(
    client: TestClient, read_back: dict[str, int], resent: bool
) -> None:
    """A `complete` refused after it read the file (here: the dataset's name is taken) read all of it again in every
    repeat (the whole upload, inside the request); the digest it made is now kept, also when a range had been sent
    again before it (the folder's mark is the same), and the upload still completes with the right bytes."""
    name = taken(client)
    upload_id = sent_elsewhere(client, resent=resent)
    before = read_back["read"]
    for _ in range(3):
        refused = complete(client, upload_id, name)
        assert (refused.status_code, refused.json()["code"]) == (409, "dataset_name_taken"), refused.text
    done = complete(client, upload_id, "fresh")
    assert done.status_code == 201, done.text
    assert read_back["read"] - before == len(CONTENT)
    assert done.json()["file"]["sha256"] == hashlib.sha256(CONTENT).hexdigest()
    raw = client.get(f"/api/v1/datasets/{done.json()['id']}/download", params={"format": "raw"})
    assert raw.content == CONTENT


def test_a_complete_repeated_after_a_refused_format_reads_nothing_again(
    client: TestClient, read_back: dict[str, int]
) -> None:
    body = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 200
    upload_id = sent_elsewhere(client, body)
    before = read_back["read"]
    for _ in range(3):
        refused = complete(client, upload_id, "picture")
        assert refused.status_code == 415, refused.text
    assert read_back["read"] - before == len(body)


def bad_copy() -> bytes:
    return CONTENT[: SIXTHS[1]].replace(b"w", b"v")


@pytest.mark.parametrize("where", ["here", "elsewhere"])
def test_a_range_sent_again_after_a_refused_complete_is_what_the_next_one_checks(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    """Given a refused `complete` whose digest is kept (of bytes that match the declared SHA-256), when a range is
    sent again with other bytes — to this process, or to another one (whose mark is all this one sees) — then the
    next `complete` hashes the file as it is: 422 checksum_mismatch, not a dataset of the new bytes under the
    old digest."""
    name = taken(client)
    upload_id = sent_elsewhere(client, resent=True)
    assert complete(client, upload_id, name).status_code == 409
    if where == "elsewhere":  # this process does not hear of it: its kept digest stays, unless the mark voids it
        monkeypatch.setattr(upload_digest, "forget", lambda _upload_id: None)
    changed = bad_copy() + CONTENT[SIXTHS[1] :]
    put(client, upload_id, 0, SIXTHS[1], changed)
    monkeypatch.undo()
    mismatch = complete(client, upload_id, "fresh")
    assert mismatch.status_code == 422, mismatch.text
    assert mismatch.json()["code"] == "checksum_mismatch"
    put(client, upload_id, 0, len(CONTENT))
    done = complete(client, upload_id, "fresh")
    assert done.status_code == 201, done.text
    raw = client.get(f"/api/v1/datasets/{done.json()['id']}/download", params={"format": "raw"})
    assert raw.content == CONTENT


def test_a_chunk_refused_after_its_bytes_were_written_voids_the_kept_digest(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given a refused `complete` whose digest is kept, when a range sent again is written in place but its
    recording fails (the database lost: 503), then no recording marks the upload, yet its file changed: the next
    `complete` must hash it again (422), not answer 201 from the digest of the bytes before."""
    name = taken(client)
    upload_id = sent_elsewhere(client)
    assert complete(client, upload_id, name).status_code == 409

    def lost(*_args: Any, **_kwargs: Any) -> Any:
        raise Unavailable("the database is unavailable")

    monkeypatch.setattr(uploads, "record_range", lost)
    headers = {"Content-Range": f"bytes 0-{SIXTHS[1] - 1}/{len(CONTENT)}"}
    failed = client.put(f"/api/v1/uploads/{upload_id}", content=bad_copy(), headers=headers)
    assert failed.status_code == 503, failed.text
    monkeypatch.undo()
    mismatch = complete(client, upload_id, "fresh")
    assert mismatch.status_code == 422, mismatch.text
    assert mismatch.json()["code"] == "checksum_mismatch"


def test_a_checksum_reset_voids_a_digest_another_process_kept(client: TestClient) -> None:
    """Given a digest kept by a refused `complete` in one process (of matching bytes, before any mark), and a range
    sent again then a mismatch in another process, which resets the upload: when the whole file is sent again with
    other bytes and completed where the old digest is kept, then the new bytes are hashed (422), where a reset that
    removed the mark made the old digest look current (201 for bytes that do not match the declared SHA-256)."""
    name = taken(client)
    upload_id = sent_elsewhere(client)
    assert complete(client, upload_id, name).status_code == 409
    kept = upload_digest._tracked[uuid.UUID(upload_id)]  # what the first process holds
    changed = bad_copy() + CONTENT[SIXTHS[1] :]
    put(client, upload_id, 0, SIXTHS[1], changed)
    assert complete(client, upload_id, "fresh").status_code == 422  # reset: 0 bytes received
    put(client, upload_id, 0, len(CONTENT), changed)
    upload_digest._tracked[uuid.UUID(upload_id)] = kept  # the whole file went to the second process
    mismatch = complete(client, upload_id, "fresh")
    assert mismatch.status_code == 422, mismatch.text
    assert mismatch.json()["code"] == "checksum_mismatch"
