"""Settings whose data root is the test's SeaweedFS bucket (the standard AWS variables set for the test), and a
resumable upload sent chunk by chunk."""

from __future__ import annotations

import hashlib
from pathlib import Path

import msgspec
import pytest
from httpx import Response
from litestar.testing import TestClient

from app.settings import Settings
from app.storage.s3 import S3Store
from tests.s3server import SeaweedS3

#: A small CSV of 500 rows (about 6 KiB) to upload.
CSV = b"id,word\n" + b"".join(f"{i},w{i % 5}\n".encode() for i in range(500))


def s3_settings(settings: Settings, s3_server: SeaweedS3, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Settings:
    for name, value in s3_server.env().items():
        monkeypatch.setenv(name, value)
    return msgspec.structs.replace(settings, data_root=s3_server.root_url(), cache_dir=str(tmp_path / "host"))


def objects(settings: Settings, prefix: str) -> list[str]:
    """The keys under `prefix` in the settings' S3 data root, sorted."""
    return sorted(S3Store(settings.data_root).list(prefix))


def put_range(client: TestClient, upload_id: str, start: int, content: bytes, size: int) -> Response:
    """One chunk of an upload of `size` bytes: `content`, from `start`."""
    headers = {"Content-Range": f"bytes {start}-{start + len(content) - 1}/{size}"}
    return client.put(f"/api/v1/uploads/{upload_id}", content=content, headers=headers)


def send_in_chunks(client: TestClient, content: bytes, chunk: int, filename: str = "big.csv") -> str:
    """A resumable upload of `content` (its SHA-256 declared), sent in order in `chunk`-byte pieces; its id."""
    opened = client.post(
        "/api/v1/uploads",
        json={"filename": filename, "size": len(content), "sha256": hashlib.sha256(content).hexdigest()},
    ).json()
    for start in range(0, len(content), chunk):
        sent = put_range(client, opened["id"], start, content[start : start + chunk], len(content))
        assert sent.status_code == 200, sent.text
    return str(opened["id"])
