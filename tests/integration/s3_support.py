"""Settings whose data root is the test's SeaweedFS bucket (the standard AWS variables set for the test), and a
resumable upload sent chunk by chunk."""

from __future__ import annotations

import hashlib
from pathlib import Path

import msgspec
import pytest
from litestar.testing import TestClient

from app.settings import Settings
from tests.s3server import SeaweedS3


def s3_settings(settings: Settings, s3_server: SeaweedS3, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Settings:
    for name, value in s3_server.env().items():
        monkeypatch.setenv(name, value)
    return msgspec.structs.replace(settings, data_root=s3_server.root_url(), cache_dir=str(tmp_path / "host"))


def send_in_chunks(client: TestClient, content: bytes, chunk: int, filename: str = "big.csv") -> str:
    """A resumable upload of `content` (its SHA-256 declared), sent in order in `chunk`-byte pieces; its id."""
    opened = client.post(
        "/api/v1/uploads",
        json={"filename": filename, "size": len(content), "sha256": hashlib.sha256(content).hexdigest()},
    ).json()
    for start in range(0, len(content), chunk):
        end = min(start + chunk, len(content))
        headers = {"Content-Range": f"bytes {start}-{end - 1}/{len(content)}"}
        sent = client.put(f"/api/v1/uploads/{opened['id']}", content=content[start:end], headers=headers)
        assert sent.status_code == 200, sent.text
    return str(opened["id"])
