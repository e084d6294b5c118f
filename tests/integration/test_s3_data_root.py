"""The data root in S3 (a real SeaweedFS): uploads (one-shot and resumable), import, rows, a pipeline over the
import, downloads and cleanup go through the store, and the API's and the worker's local folders differ."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
import pytest
from httpx import Response
from litestar.testing import TestClient
from sqlalchemy import Engine, text

from app.api.controllers import uploads as upload_controller
from app.api.multipart_upload import receive_chunk
from app.paths import dataset_prefix, upload_prefix
from app.settings import Settings
from app.storage.s3 import PART_SIZE, S3Store
from app.storage.s3_uploads import client as s3_client
from scheduler.cleanup import Cleanup
from tests.integration.dataset_support import complete_elsewhere, run_import, upload
from tests.integration.engine_parts import Engine_
from tests.integration.s3_support import CSV, objects, s3_settings
from tests.s3proxy import FaultProxy
from tests.s3server import SeaweedS3

#: A child that starts a multipart upload of three parts under the data root, says so, then waits to be killed.
UPLOADER = """
import sys
from app.storage import s3 as s3_storage
from app.storage.s3 import PART_SIZE, S3Store
out = S3Store(sys.argv[1]).writer("uploads/or/orphan/data").__enter__()
for _ in range(3):
    out.write(b"x" * PART_SIZE)
print("written", flush=True)
sys.stdin.read()
"""
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def settings(settings: Settings, s3_server: SeaweedS3, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Settings:
    return s3_settings(settings, s3_server, monkeypatch, tmp_path)


def test_upload_import_rows_pipeline_and_download_through_s3(
    client: TestClient, parts: Engine_, settings: Settings
) -> None:
    # Given a CSV uploaded in one request and imported by a worker
    dataset = upload(client, CSV, filename="words.csv")
    assert run_import(client, parts, dataset["id"])["status"] == "SUCCEEDED"
    # Then its raw bytes and its version are objects in the bucket
    version = objects(settings, dataset_prefix(uuid.UUID(dataset["id"])))[-1]
    assert version.endswith("data.parquet")
    # And the worker's host keeps the Parquet it wrote as its cached copy (its next reader downloads nothing)
    assert (settings.cache_path / version).read_bytes() == S3Store(settings.data_root).get(version)
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
    output = objects(settings, dataset_prefix(uuid.UUID(finished["output_dataset_id"])))[-1]
    assert (settings.cache_path / output).read_bytes() == S3Store(settings.data_root).get(output)


def test_a_lenient_import_that_writes_its_data_twice_publishes_the_second(
    client: TestClient, parts: Engine_, settings: Settings
) -> None:
    """A lenient CSV import whose float column holds 1e400 reads it again as text (app.ingest.csv_range): its first
    data file had gone to the store as DuckDB wrote it, so the worker imports again without streaming and uploads
    the local file (workers.ingest_job, SinkSpent)."""
    # Given a CSV whose float column holds a number no float holds
    dataset = upload(client, b"id,v\n1,1.5\n2,1e400\n3,2.5\n", filename="huge.csv")
    # When it is imported leniently with the data root in S3
    run = run_import(client, parts, dataset["id"], {"on_error": "lenient"})
    # Then the run succeeds and the version in the bucket holds the column as text, every value as written
    assert run["status"] == "SUCCEEDED", run
    rows = client.get(f"/api/v1/datasets/{dataset['id']}/rows", params={"limit": 3}).json()
    assert rows["rows"] == [[1, "1.5"], [2, "1e400"], [3, "2.5"]]
    assert (
        len(
            [key for key in objects(settings, dataset_prefix(uuid.UUID(dataset["id"]))) if key.endswith("data.parquet")]
        )
        == 1
    )


def test_a_csv_whose_rows_end_in_lf_far_past_its_crlf_head_is_imported_whole_through_the_store(
    client: TestClient, parts: Engine_, settings: Settings
) -> None:
    """DuckDB fails on the first LF row past a CRLF head the import checked; the import finds the mix then and reads
    the file again with every line end as LF, its first data file having gone to the store in part (SinkSpent)."""
    # Given an Excel export of 30,000 CRLF rows with 5 rows a script appended in LF
    body = "id,note\r\n" + "".join(f"{i},row{i}\r\n" for i in range(30_000)) + "".join(f"{i},tail\n" for i in range(5))
    dataset = upload(client, body.encode(), filename="appended.csv")
    # When it is imported with the data root in S3
    run = run_import(client, parts, dataset["id"], {"on_error": "strict"})
    # Then every row is in the version in the bucket, and the version says the line ends were mixed
    assert run["status"] == "SUCCEEDED", run
    rows = client.get(f"/api/v1/datasets/{dataset['id']}/rows", params={"limit": 1, "offset": 30_004}).json()
    assert (rows["total"], rows["rows"]) == (30_005, [[4, "tail"]])
    notices = client.get(f"/api/v1/datasets/{dataset['id']}").json()["versions"][0]["notices"]
    assert [n["ends"] for n in notices if n["code"] == "line_ends"] == ["mixed"], notices


def test_an_import_meeting_the_store_gone_fails_retryably_and_publishes_nothing(
    client: TestClient, parts: Engine_, settings: Settings, monkeypatch: pytest.MonkeyPatch, s3_server: SeaweedS3
) -> None:
    # Given an upload, then a store that answers 503 to everything, and no copy on the worker's host
    dataset = upload(client, CSV, filename="words.csv")
    shutil.rmtree(settings.cache_path, ignore_errors=True)
    proxy = FaultProxy(s3_server.s3_port, parts_ok=0, everything=True)
    proxy.failing = True
    try:
        monkeypatch.setenv("AWS_ENDPOINT_URL", proxy.endpoint)
        # When a worker imports it
        finished = run_import(client, parts, dataset["id"])
    finally:
        proxy.stop()
        monkeypatch.setenv("AWS_ENDPOINT_URL", s3_server.endpoint)
    # Then the run failed retryably with storage_unavailable, and no version file was published
    assert finished["status"] in ("RETRYING", "FAILED"), finished
    assert finished["error"]["code"] == "storage_unavailable", finished
    assert objects(settings, dataset_prefix(uuid.UUID(dataset["id"]))) == []


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


def test_a_chunk_that_arrives_after_completion_is_refused_not_counted(
    client: TestClient, fast_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In a store a chunk is an object of its own, so one still arriving when the upload was completed is not part
    of the dataset; it was answered 200 and counted all the same, as if its bytes had landed."""
    opened = client.post("/api/v1/uploads", json={"filename": "w.csv", "size": len(CSV)}).json()
    headers = {"Content-Range": f"bytes 0-{len(CSV) - 1}/{len(CSV)}"}
    assert client.put(f"/api/v1/uploads/{opened['id']}", content=CSV, headers=headers).status_code == 200
    completions = []

    def complete_from_another_api_process() -> Response:
        return complete_elsewhere(fast_settings, client, opened["id"], "resumed")

    async def body_still_arriving(request, **kwargs):  # type: ignore[no-untyped-def]
        completions.append(await anyio.to_thread.run_sync(complete_from_another_api_process))
        return await receive_chunk(request, **kwargs)

    monkeypatch.setattr(upload_controller, "receive_chunk", body_still_arriving)
    late = client.put(f"/api/v1/uploads/{opened['id']}", content=b"x,y\n", headers={"Content-Range": "bytes 0-3/*"})
    assert completions[0].status_code == 201, completions[0].text
    assert (late.status_code, late.json()["code"]) == (409, "upload_closed")
    raw = client.get(f"/api/v1/datasets/{completions[0].json()['id']}/download", params={"format": "raw"})
    assert raw.content == CSV
    # and the refused chunk left no object behind (nothing would ever have removed it: the upload is complete)
    prefix = upload_prefix(uuid.UUID(opened["id"]))
    assert objects(fast_settings, prefix) == [prefix + "/data"]


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


def test_a_multipart_upload_left_by_a_killed_process_is_aborted_by_cleanup_once_old_enough(
    settings: Settings, engine: Engine, s3_server: SeaweedS3
) -> None:
    store = S3Store(settings.data_root)
    s3 = s3_client(os.environ)
    prefix = settings.data_root.removeprefix(f"s3://{s3_server.bucket}/") + "/"
    # Given completed objects (one multipart, one small) and, elsewhere in the bucket, another data root's upload
    store.put("uploads/ke/keep/small", b"kept")
    store.put_file("uploads/ke/keep/big", _file(settings, 2 * PART_SIZE + 1))
    other = s3.create_multipart_upload(Bucket=s3_server.bucket, Key=f"other-{uuid.uuid4().hex[:8]}/x")
    # And a process killed (SIGKILL) in the middle of a multipart upload under our data root
    child = subprocess.Popen(
        [sys.executable, "-c", UPLOADER, settings.data_root],
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline() == b"written\n"
        upload = _wait_for_parts(s3, s3_server.bucket, prefix)
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(10)
    assert not store.exists("uploads/or/orphan/data")  # never completed: not an object

    # When the cleanup job passes while the upload is younger than the bound, it is left alone
    now = datetime.now(UTC)
    assert Cleanup(engine=engine, settings=settings).run_once(now)["unfinished_writes"] == 0
    assert [u["UploadId"] for u in _uploads(s3, s3_server.bucket, prefix)] == [upload["UploadId"]]

    # When it passes a day later (the bound is 24 h)
    later = now + timedelta(hours=settings.multipart_upload_max_age_hours, minutes=1)
    assert Cleanup(engine=engine, settings=settings).run_once(later)["unfinished_writes"] == 1

    # Then the upload and its parts are gone, and the completed objects and the other root's upload are untouched
    assert _uploads(s3, s3_server.bucket, prefix) == []
    with pytest.raises(s3.exceptions.NoSuchUpload):
        s3.list_parts(Bucket=s3_server.bucket, Key=upload["Key"], UploadId=upload["UploadId"])
    assert store.get("uploads/ke/keep/small") == b"kept"
    assert store.size("uploads/ke/keep/big") == 2 * PART_SIZE + 1
    others = [u["UploadId"] for u in _uploads(s3, s3_server.bucket, other["Key"])]
    assert others == [other["UploadId"]]
    s3.abort_multipart_upload(Bucket=s3_server.bucket, Key=other["Key"], UploadId=other["UploadId"])


def _file(settings: Settings, size: int) -> Path:
    path = Path(settings.cache_dir) / "big"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(os.urandom(size))
    return path


def _uploads(s3: Any, bucket: str, prefix: str) -> list[dict[str, str]]:
    return s3.list_multipart_uploads(Bucket=bucket, Prefix=prefix).get("Uploads", [])  # type: ignore[no-any-return]


def _wait_for_parts(s3: Any, bucket: str, prefix: str) -> dict[str, str]:
    """The child's upload, once the store holds at least one of its parts (they are sent in the background)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        for started in _uploads(s3, bucket, prefix):
            if s3.list_parts(Bucket=bucket, Key=started["Key"], UploadId=started["UploadId"]).get("Parts"):
                return started
        time.sleep(0.1)
    raise AssertionError(f"no multipart upload with parts under {prefix} within 30 s")


def test_a_retry_of_an_import_whose_version_is_published_writes_no_object(
    client: TestClient, parts: Engine_, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On S3 the retry of an import whose earlier attempt published its version (then was lost) sent the version's
    objects again; it ends SUCCEEDED from the version, writing nothing (tests/integration/test_published_then_lost)."""
    dataset = upload(client, CSV, filename="words.csv")
    run = run_import(client, parts, dataset["id"])
    version = objects(settings, dataset_prefix(uuid.UUID(dataset["id"])))
    with parts.engine.begin() as connection:  # a retry is sent: QUEUED, attempt 1 behind it
        connection.execute(text("UPDATE runs SET status = 'QUEUED' WHERE id = :id"), {"id": run["id"]})
    written: list[str] = []
    monkeypatch.setattr(S3Store, "put_file", lambda self, key, source: written.append(key))
    monkeypatch.setattr(S3Store, "writer", lambda self, key: written.append(key))

    assert parts.executor.execute(uuid.UUID(run["id"])) is not None
    assert client.get(f"/api/v1/runs/{run['id']}").json()["status"] == "SUCCEEDED"
    assert written == []
    assert objects(settings, dataset_prefix(uuid.UUID(dataset["id"]))) == version
