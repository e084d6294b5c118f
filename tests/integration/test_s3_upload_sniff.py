"""`complete` on an S3 data root checks the upload's format from byte ranges of its object: the head, and of a
workbook its end (the zip's central directory) and a small member, never the whole file through the API."""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from litestar.testing import TestClient

from app.settings import Settings
from app.storage.s3 import S3Store
from tests.integration.dataset_support import upload
from tests.integration.s3_support import s3_settings, send_in_chunks
from tests.s3server import SeaweedS3

#: The most bytes a format check may fetch here: a few 64 KiB blocks.
READ_BOUND = 512 << 10


@pytest.fixture
def settings(settings: Settings, s3_server: SeaweedS3, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Settings:
    return s3_settings(settings, s3_server, monkeypatch, tmp_path)


@pytest.fixture
def fetched(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """What the API fetched of an upload's object: ("range", bytes) per range read; a whole read fails the test."""
    seen: list[tuple[str, int]] = []
    real_range = S3Store.read_range

    def read_range(self: S3Store, key: str, start: int, end: int) -> bytes:
        data = real_range(self, key, start, end)
        if key.endswith("/data"):
            seen.append(("range", len(data)))
        return data

    def forbidden(name: str) -> Any:
        real = getattr(S3Store, name)

        def whole(self: S3Store, key: str, *args: Any, **kwargs: Any) -> Any:
            if key.endswith("/data"):
                raise AssertionError(f"{key} was read whole inside the request")
            return real(self, key, *args, **kwargs)  # small objects beside it (what it was made of)

        return whole

    monkeypatch.setattr(S3Store, "read_range", read_range)
    for name in ("download", "get", "stream"):
        monkeypatch.setattr(S3Store, name, forbidden(name))
    return seen


def _complete(client: TestClient, content: bytes, filename: str) -> Any:
    upload_id = send_in_chunks(client, content, 8 << 20, filename)
    return client.post(f"/api/v1/uploads/{upload_id}/complete", json={"name": filename.replace(".", "-")})


def test_completing_a_large_csv_on_s3_reads_only_its_head(client: TestClient, fetched: list) -> None:
    """The format check downloaded the whole object into the API's cache inside the request."""
    content = b"id,word\n" + b"".join(b"%d,%s\n" % (i, b"w" * (i % 97)) for i in range(400_000))
    done = _complete(client, content, "big.csv")
    assert done.status_code == 201, done.text
    assert done.json()["file"]["format"] == "csv"
    assert 0 < sum(size for _kind, size in fetched) <= READ_BOUND < len(content)


def test_a_large_csv_uploaded_in_one_request_on_s3_is_checked_from_its_head_only(
    client: TestClient, fetched: list
) -> None:
    """The one-request upload (POST /datasets) downloaded its whole object back into the API's cache to check its
    format, where a resumable `complete` reads byte ranges: both now check the format the same way."""
    content = b"id,word\n" + b"".join(b"%d,%s\n" % (i, b"w" * (i % 97)) for i in range(400_000))
    dataset = upload(client, content, filename="big.csv")
    assert dataset["file"]["format"] == "csv"
    assert 0 < sum(size for _kind, size in fetched) <= READ_BOUND < len(content)


def test_completing_a_large_workbook_on_s3_reads_its_head_and_directory_only(client: TestClient, fetched: list) -> None:
    book = openpyxl.Workbook()
    book.active.append(["id", "word"])
    book.active.append([1, "one"])
    saved = io.BytesIO()
    book.save(saved)
    with zipfile.ZipFile(saved, "a") as archive:  # 12 MiB that do not compress, between head and directory
        archive.writestr("xl/media/padding.bin", os.urandom(12 << 20), compress_type=zipfile.ZIP_STORED)
    content = saved.getvalue()
    done = _complete(client, content, "big.xlsx")
    assert done.status_code == 201, done.text
    assert done.json()["file"]["format"] == "xlsx"
    assert 0 < sum(size for _kind, size in fetched) <= READ_BOUND < len(content)
