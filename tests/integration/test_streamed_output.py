"""An import's Parquet sent to the store while DuckDB writes it: the same bytes, complete only at the end,
never half there, and a store that fails is reported as the store's failure (retryable), not the file's."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from app.ingest import import_file
from app.ingest.config import ColumnSpec, DuckDBSettings, ImportConfig, ImportLimits
from app.ingest.errors import ImportCancelled, ImportFailed
from app.ingest.models import ImportResult
from app.paths import DATA_FILE
from app.storage import Store, StoreUnavailable
from app.storage.local import LocalStore
from app.storage.s3 import PART_SIZE, S3Store
from app.storage.s3_uploads import client as s3_client
from app.storage.streamed_output import PROTOCOL, StreamedOutput
from tests.s3proxy import FaultProxy
from tests.s3server import SeaweedS3

KEY = "datasets/ab/abc/versions/run/data.parquet"


def _csv(path: Path, rows: int, *, width: int = 8, bad_row: int | None = None) -> Path:
    """`rows` rows of an id, an amount and `width` random bytes as hex (so the Parquet stays large)."""
    with path.open("w") as file:
        file.write("id,amount,note\n")
        for start in range(0, rows, 100_000):
            count = min(100_000, rows - start)
            notes = os.urandom(width * count).hex()
            step = 2 * width
            for i, n in enumerate(range(start, start + count)):
                amount = "not a number" if n == bad_row else n * 3
                file.write(f"{n},{amount},{notes[i * step : (i + 1) * step]}\n")
    return path


def _import(
    source: Path, out: Path, sink: StreamedOutput, *, should_stop: Callable[[], bool] | None = None, **config: object
) -> ImportResult:
    return import_file(
        source,
        filename=source.name,
        config=ImportConfig(**config),  # type: ignore[arg-type]
        limits=ImportLimits(),
        out_dir=out,
        duckdb_settings=DuckDBSettings(memory_limit="512MB", threads=2),
        should_stop=should_stop,
        data_sink=sink,
    )


def test_the_store_gets_the_same_bytes_and_only_when_the_block_ends(store: Store, tmp_path: Path) -> None:
    # Given a CSV whose Parquet takes several multipart parts
    source = _csv(tmp_path / "data.csv", 400_000, width=24)
    # When it is imported with the data file streamed to the store
    with StreamedOutput(store, KEY) as sink:
        result = _import(source, tmp_path / "out", sink)
        # Then nothing is visible before the block ends, though DuckDB wrote through the sink
        assert sink.streamed
        assert not store.exists(KEY)
    local = Path(result.data_path)
    assert local.stat().st_size > PART_SIZE  # two parts at least
    # And the object is the local file, byte for byte
    assert store.get(KEY) == local.read_bytes()
    assert result.rows == 400_000


def test_an_import_that_fails_after_the_copy_leaves_no_object(store: Store, tmp_path: Path) -> None:
    # Given a strict import of a file with one bad value: DuckDB's COPY completes, then the rejects fail it
    source = _csv(tmp_path / "data.csv", 50_000, bad_row=49_000)
    columns = {"amount": ColumnSpec(type="integer")}
    with pytest.raises(ImportFailed), StreamedOutput(store, KEY) as sink:
        _import(source, tmp_path / "out", sink, on_error="strict", columns=columns)
    # Then the upload was abandoned: no object
    assert not store.exists(KEY)
    assert not (tmp_path / "out" / DATA_FILE).exists()


def test_a_cancelled_import_leaves_no_object(store: Store, tmp_path: Path) -> None:
    source = _csv(tmp_path / "data.csv", 20_000)
    with pytest.raises(ImportCancelled), StreamedOutput(store, KEY) as sink:
        _import(source, tmp_path / "out", sink, should_stop=lambda: True)
    assert not store.exists(KEY)


def test_a_store_failing_midway_fails_the_import_as_unavailable_and_leaves_no_upload(
    s3_server: SeaweedS3, tmp_path: Path
) -> None:
    # Given a store that takes one part, then answers 503 to the next ones
    root = s3_server.root_url()
    proxy = FaultProxy(s3_server.s3_port, parts_ok=1)
    # ~55 MiB of Parquet: more than the parts the writer keeps in flight, so the COPY itself meets the 503
    source = _csv(tmp_path / "data.csv", 2_400_000, width=24)
    try:
        store = S3Store(root, s3_server.env(AWS_ENDPOINT_URL=proxy.endpoint))
        # When a CSV whose Parquet needs several parts is imported through it
        # Then the import fails with the store's error (a run retries it), not as a bad file
        with pytest.raises(StoreUnavailable), StreamedOutput(store, KEY) as sink:
            _import(source, tmp_path / "out", sink)
    finally:
        proxy.stop()
    # And no object appears, and no multipart upload is left behind
    assert not S3Store(root, s3_server.env()).exists(KEY)
    prefix = root.removeprefix(f"s3://{s3_server.bucket}/") + "/"
    listed = s3_client(s3_server.env()).list_multipart_uploads(Bucket=s3_server.bucket, Prefix=prefix)
    assert list(listed.get("Uploads") or []) == []


def test_the_sink_takes_one_file_written_in_order(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "root")
    with pytest.raises(OSError, match="in order"), StreamedOutput(store, KEY) as sink:  # noqa: PT012
        url = sink.url_for(tmp_path / "data.parquet")
        assert url == f"{PROTOCOL}://out/data.parquet"
        file = sink._open("data.parquet")
        file.write(b"PAR1")
        assert file.seek(4) == 4  # where it is: fine
        with pytest.raises(PermissionError):
            sink._open("data.parquet")  # a second file
        file.seek(0)  # an earlier offset: refused, and the block's error aborts the write
    assert not store.exists(KEY)


def test_a_json_import_streams_its_parquet_too(store: Store, tmp_path: Path) -> None:
    source = tmp_path / "records.ndjson"
    source.write_text("".join(f'{{"id": {n}, "name": "n{n}"}}\n' for n in range(5_000)))
    with StreamedOutput(store, KEY) as sink:
        result = _import(source, tmp_path / "out", sink)
        assert sink.streamed
    assert result.rows == 5_000
    assert store.get(KEY) == Path(result.data_path).read_bytes()
