"""The data root in S3 (a real SeaweedFS): uploads (one-shot and resumable), import, rows, a pipeline over the
import, downloads and cleanup go through the store, and the API's and the worker's local folders differ."""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path

import msgspec
import pytest
from litestar.testing import TestClient
from sqlalchemy import Engine, text

from app.paths import dataset_prefix, upload_prefix
from app.settings import Settings
from app.storage.s3 import S3Store
from scheduler.cleanup import Cleanup
from tests.integration.dataset_support import run_import, upload
from tests.integration.engine_parts import Engine_
from tests.s3server import SeaweedS3

CSV = b"id,word\n" + b"".join(f"{i},w{i % 5}\n".encode() for i in range(500))


@pytest.fixture
def settings(settings: Settings, s3_server: SeaweedS3, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Settings:
    for name, value in s3_server.env().items():
        monkeypatch.setenv(name, value)
    return msgspec.structs.replace(settings, data_root=s3_server.root_url(), cache_dir=str(tmp_path / "host"))


def objects(settings: Settings, prefix: str) -> list[str]:
    return sorted(S3Store(settings.data_root).list(prefix))


def test_upload_import_rows_pipeline_and_download_through_s3(
    client: TestClient, parts: Engine_, settings: Settings
) -> None:
    # Given a CSV uploaded in one request and imported by a worker
    dataset = upload(client, CSV, filename="words.csv")
    assert run_import(client, parts, dataset["id"])["status"] == "SUCCEEDED"
    # Then its raw bytes and its version are objects in the bucket
    assert objects(settings, dataset_prefix(uuid.UUID(dataset["id"])))[-1].endswith("data.parquet")
    raw = client.get(f"/api/v1/datasets/{dataset['id']}/download", params={"format": "raw"})
    assert raw.content == CSV
    rows = client.get(f"/api/v1/datasets/{dataset['id']}/rows", params={"limit": 3}).json()
    assert (rows["rows"], rows["total"]) == ([[0, "w0"], [1, "w1"], [2, "w2"]], 500)
    csv = client.get(f"/api/v1/datasets/{dataset['id']}/download", params={"format": "csv"}).content
    assert csv.decode().splitlines()[:2] == ['"id","word"', '0,"w0"']
    # When a pipeline reads it and writes an output dataset
    spec = {
        "inputs": {"src": {"dataset": dataset["name"]}},
        "steps": [{"id": "f", "type": "filter", "where": "word = 'w1'"}],
        "output": {"dataset": "only-w1"},
    }
    made = client.post("/api/v1/pipelines", json={"name": "w1", "spec": spec})
    assert made.status_code == 201, made.text
    run = client.post(f"/api/v1/pipelines/{made.json()['id']}/runs", json={})
    assert run.status_code == 201, run.text
    parts.relay.relay_once()
    parts.executor.execute(uuid.UUID(run.json()["id"]))
    finished = client.get(f"/api/v1/runs/{run.json()['id']}").json()
    assert finished["status"] == "SUCCEEDED", finished
    out = client.get(f"/api/v1/datasets/{finished['output_dataset_id']}/rows", params={"limit": 1000}).json()
    assert out["total"] == 100


def test_resumable_upload_composes_its_ranges_and_leaves_no_parts(client: TestClient, settings: Settings) -> None:
    opened = client.post(
        "/api/v1/uploads", json={"filename": "w.csv", "size": len(CSV), "sha256": hashlib.sha256(CSV).hexdigest()}
    ).json()
    middle = len(CSV) // 2
    for start, end in ((middle, len(CSV)), (0, 100), (50, middle)):  # out of order, overlapping
        headers = {"Content-Range": f"bytes {start}-{end - 1}/{len(CSV)}"}
        assert client.put(f"/api/v1/uploads/{opened['id']}", content=CSV[start:end], headers=headers).status_code == 200
    done = client.post(f"/api/v1/uploads/{opened['id']}/complete", json={"name": "resumed"})
    assert done.status_code == 201, done.text
    assert objects(settings, upload_prefix(uuid.UUID(opened["id"]))) == [
        upload_prefix(uuid.UUID(opened["id"])) + "/data"
    ]
    raw = client.get(f"/api/v1/datasets/{done.json()['id']}/download", params={"format": "raw"})
    assert raw.content == CSV


def test_an_abandoned_resumable_upload_leaves_no_parts_after_cleanup(
    client: TestClient, settings: Settings, engine: Engine
) -> None:
    # Given a resumable upload that received one range and was then abandoned
    opened = client.post("/api/v1/uploads", json={"filename": "w.csv", "size": len(CSV)}).json()
    headers = {"Content-Range": f"bytes 0-99/{len(CSV)}"}
    assert client.put(f"/api/v1/uploads/{opened['id']}", content=CSV[:100], headers=headers).status_code == 200
    prefix = upload_prefix(uuid.UUID(opened["id"]))
    assert len(objects(settings, prefix)) == 1
    # When it expires and the cleanup job passes
    with engine.begin() as connection:
        connection.execute(text("UPDATE uploads SET expires_at = now() - interval '1 hour' WHERE id = :id"), opened)
    assert Cleanup(engine=engine, settings=settings).run_once()["uploads"] == 1
    # Then none of its objects are left in the bucket
    assert objects(settings, prefix) == []
