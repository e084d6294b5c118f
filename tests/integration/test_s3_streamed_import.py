"""A CSV import of an upload in a real S3 store (SeaweedFS): read by DuckDB in ranges, no local copy, the same
version as from a local file; an upload that is not there is the store's error."""

from __future__ import annotations

import os
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from app.ingest import DuckDBSettings, ImportConfig, ImportLimits, import_file
from app.ingest import importer as importer_module
from app.storage import ObjectMissing
from app.storage.cache import LocalCache
from app.storage.s3 import S3Store
from app.storage.streamed import RemoteFile
from tests.s3server import SeaweedS3

KEY = "uploads/ab/streamed/data"


def csv_bytes(rows: int) -> bytes:
    lines = ["id,name,amount"] + [f"{i},n{i % 7},{'x' if i == rows - 5 else i / 4}" for i in range(rows)]
    return ("\n".join(lines) + "\n").encode()


def run(source: object, out: Path) -> object:
    return import_file(
        source,  # type: ignore[arg-type]
        filename="data.csv",
        config=ImportConfig(on_error="lenient"),
        limits=ImportLimits(),
        out_dir=out,
        duckdb_settings=DuckDBSettings(memory_limit="256MB", threads=2),
    )


def test_a_csv_upload_is_streamed_from_s3(s3_server: SeaweedS3, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(importer_module, "STREAM_HEAD_BYTES", 2 * 1024 * 1024)
    store = S3Store(s3_server.root_url(), s3_server.env())
    data = csv_bytes(200_000)
    store.put(KEY, data)
    cache = LocalCache(tmp_path / "cache", 1024**3)
    source = cache.source(store, KEY)
    assert isinstance(source, RemoteFile)
    assert source.size == len(data)
    streamed = run(source, tmp_path / "streamed")
    (tmp_path / "data.csv").write_bytes(data)
    local = run(tmp_path / "data.csv", tmp_path / "local")
    assert not (tmp_path / "cache").exists()  # nothing was downloaded
    assert (streamed.rows, streamed.rejected) == (local.rows, local.rejected) == (199_999, 1)  # type: ignore[attr-defined]
    assert pq.read_table(streamed.data_path).equals(pq.read_table(local.data_path))  # type: ignore[attr-defined]
    assert sorted(os.listdir(tmp_path / "streamed")) == ["data.parquet", "rejects.parquet"]


def test_a_small_upload_is_fetched_into_the_cache_and_then_found_there(s3_server: SeaweedS3, tmp_path: Path):
    store = S3Store(s3_server.root_url(), s3_server.env())
    store.put(KEY, csv_bytes(100))
    cache = LocalCache(tmp_path / "cache", 1024**3)
    source = cache.source(store, KEY)
    assert isinstance(source, RemoteFile)
    assert run(source, tmp_path / "out").rows == 100  # type: ignore[attr-defined]  (the "x" sampled: text)
    assert isinstance(cache.source(store, KEY), Path)  # the copy fetched for it


def test_a_missing_upload_is_object_missing(s3_server: SeaweedS3, tmp_path: Path) -> None:
    store = S3Store(s3_server.root_url(), s3_server.env())
    with pytest.raises(ObjectMissing):
        LocalCache(tmp_path / "cache", 1024**3).source(store, KEY)
    gone = RemoteFile(store, KEY, 10, fetch=lambda: tmp_path / "never").filesystem("upload/data.csv")
    with pytest.raises(OSError, match="uploads/ab/streamed"):
        gone.open(gone.url, "rb").read()
    with pytest.raises(ObjectMissing):
        gone.check()
