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

from app.domain import upload_digest

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
