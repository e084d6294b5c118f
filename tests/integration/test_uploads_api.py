"""Resumable uploads: chunks in any order and again, progress, SHA-256 check, completion into a dataset."""

from __future__ import annotations

import hashlib
import uuid

import anyio
import pytest
from httpx import Response
from litestar.testing import TestClient

from app.api.controllers import uploads as upload_controller
from app.api.multipart_upload import receive_range
from app.domain import upload_ranges
from app.domain.upload_ranges import add_range, missing_ranges
from app.paths import upload_data_path
from app.settings import Settings
from tests.integration.dataset_support import complete_elsewhere

CONTENT = b"id,word\n" + b"".join(f"{i},w{i}\n".encode() for i in range(2000))


def open_upload(client: TestClient, **fields: object) -> dict:
    response = client.post("/api/v1/uploads", json={"filename": "words.csv", "size": len(CONTENT), **fields})
    assert response.status_code == 201, response.text
    return response.json()


def put(client: TestClient, upload_id: str, start: int, end: int, body: bytes | None = None):  # type: ignore[no-untyped-def]
    headers = {"Content-Range": f"bytes {start}-{end - 1}/{len(CONTENT)}"}
    return client.put(
        f"/api/v1/uploads/{upload_id}", content=CONTENT[start:end] if body is None else body, headers=headers
    )


def test_chunks_in_any_order_then_complete(client: TestClient) -> None:
    upload = open_upload(client, sha256=hashlib.sha256(CONTENT).hexdigest())
    middle = len(CONTENT) // 2
    assert put(client, upload["id"], middle, len(CONTENT)).json()["missing"] == [[0, middle]]
    half = put(client, upload["id"], 0, 100).json()
    assert (half["received"], half["missing"]) == (len(CONTENT) - middle + 100, [[100, middle]])
    early = client.post(f"/api/v1/uploads/{upload['id']}/complete", json={"name": "words"})
    assert (early.status_code, early.json()["code"]) == (409, "upload_incomplete")
    put(client, upload["id"], 50, middle)  # overlapping a range already sent is fine
    assert client.get(f"/api/v1/uploads/{upload['id']}").json()["received"] == len(CONTENT)
    done = client.post(f"/api/v1/uploads/{upload['id']}/complete", json={"name": "words", "tags": ["big"]})
    assert done.status_code == 201, done.text
    dataset = done.json()
    assert (dataset["file"]["size"], dataset["file"]["format"], dataset["tags"]) == (len(CONTENT), "csv", ["big"])
    assert client.get(f"/api/v1/datasets/{dataset['id']}/download", params={"format": "raw"}).content == CONTENT
    closed = put(client, upload["id"], 0, 10)
    assert (closed.status_code, closed.json()["code"]) == (409, "upload_closed")


def test_a_wrong_checksum_is_refused_and_the_upload_stays_open(client: TestClient) -> None:
    upload = open_upload(client, sha256="0" * 64)
    put(client, upload["id"], 0, len(CONTENT))
    refused = client.post(f"/api/v1/uploads/{upload['id']}/complete", json={"name": "words-bad"})
    assert (refused.status_code, refused.json()["code"]) == (422, "checksum_mismatch")
    assert client.get(f"/api/v1/uploads/{upload['id']}").json()["status"] == "open"


def test_bad_ranges_and_sizes(client: TestClient, fast_settings) -> None:  # type: ignore[no-untyped-def]
    upload = open_upload(client)
    outside = client.put(
        f"/api/v1/uploads/{upload['id']}", content=b"x", headers={"Content-Range": f"bytes 0-0/{len(CONTENT) + 1}"}
    )
    assert (outside.status_code, outside.json()["code"]) == (416, "range_not_satisfiable")
    missing = client.put(f"/api/v1/uploads/{upload['id']}", content=b"x")
    assert (missing.status_code, missing.json()["code"]) == (422, "invalid_content_range")
    longer = put(client, upload["id"], 0, 10, body=CONTENT[:20])
    assert (longer.status_code, longer.json()["code"]) == (422, "invalid_content_range")
    huge = client.post("/api/v1/uploads", json={"filename": "x.csv", "size": fast_settings.max_upload_bytes + 1})
    assert (huge.status_code, huge.json()["code"]) == (413, "limit_exceeded")


def test_range_arithmetic() -> None:
    ranges = add_range(add_range(add_range([], 10, 20), 30, 40), 15, 32)
    assert ranges == [[10, 40]]
    assert missing_ranges(ranges, 50) == [[0, 10], [40, 50]]
    assert missing_ranges([[0, 50]], 50) == []


def test_a_dataset_name_with_a_slash_or_a_control_character_is_refused_on_both_upload_paths(
    client: TestClient,
) -> None:
    for name in ("a/b", "tab\there", "back\\slash"):
        upload = open_upload(client)
        put(client, upload["id"], 0, len(CONTENT))
        completed = client.post(f"/api/v1/uploads/{upload['id']}/complete", json={"name": name})
        assert completed.status_code == 422, completed.text
        assert [e["field"] for e in completed.json()["errors"]] == ["name"]
        posted = client.post("/api/v1/datasets", files={"file": ("w.csv", CONTENT, "text/csv")}, data={"name": name})
        assert posted.status_code == 422, posted.text
        assert [e["field"] for e in posted.json()["errors"]] == ["name"]
    assert client.get("/api/v1/datasets").json()["items"] == []


def test_a_range_that_would_make_too_many_separate_ranges_is_refused_and_nothing_is_written(
    client: TestClient, fast_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """1-byte PUTs at every other offset grew `ranges` (rewritten whole on every PUT) without end."""
    monkeypatch.setattr(upload_ranges, "MAX_RANGES", 3)
    upload = open_upload(client)
    for offset in (0, 2, 4):
        assert put(client, upload["id"], offset, offset + 1).status_code == 200
    refused = put(client, upload["id"], 6, 7, body=b"Z")
    assert (refused.status_code, refused.json()["code"]) == (409, "too_many_ranges")
    assert refused.headers["content-type"].startswith("application/problem+json")
    after = client.get(f"/api/v1/uploads/{upload['id']}").json()
    assert (after["ranges"], after["received"]) == ([[0, 1], [2, 3], [4, 5]], 3)
    with upload_data_path(fast_settings.data_path, uuid.UUID(upload["id"])).open("rb") as file:
        assert file.read(7)[6:] == b"\x00"  # the refused byte never reached the file
    joined = put(client, upload["id"], 1, 2)  # a range that joins others is always taken
    assert (joined.status_code, joined.json()["ranges"]) == (200, [[0, 3], [4, 5]])


def test_a_chunk_still_arriving_is_never_written_into_a_completed_upload(
    client: TestClient, fast_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A PUT that had passed its checks and was still receiving its body when the upload was completed wrote into
    the checked file, a dataset's by then: the dataset's bytes no longer matched the SHA-256 the API answered."""
    upload = open_upload(client, sha256=hashlib.sha256(CONTENT).hexdigest())
    put(client, upload["id"], 0, len(CONTENT))
    completions = []

    def complete_from_another_api_process() -> Response:
        return complete_elsewhere(fast_settings, client, upload["id"], "words")

    async def body_still_arriving(request, **kwargs):  # type: ignore[no-untyped-def]
        completions.append(await anyio.to_thread.run_sync(complete_from_another_api_process))
        return await receive_range(request, **kwargs)

    monkeypatch.setattr(upload_controller, "receive_range", body_still_arriving)
    late = put(client, upload["id"], 0, 4, body=b"x,y\n")
    assert late.status_code == 200, late.text
    assert (completions[0].status_code, completions[0].json()["code"]) == (409, "upload_busy")
    assert client.get(f"/api/v1/uploads/{upload['id']}").json()["status"] == "open"
    assert client.get("/api/v1/datasets").json()["items"] == []
