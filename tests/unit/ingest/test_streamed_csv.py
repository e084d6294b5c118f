"""A CSV import of an object in the store, read in ranges as DuckDB parses: the same result as from a local file,
and a store that fails half-way is the store's error, never a truncated version or a bad-file error."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from app.ingest import DuckDBSettings, ImportConfig, ImportLimits, import_file
from app.ingest import importer as importer_module
from app.ingest.errors import ImportCancelled, ImportFailed
from app.ingest.models import ImportResult
from app.storage import StoreUnavailable
from app.storage.local import LocalStore
from app.storage.streamed import RemoteFile

ROWS = 100_000
KEY = "uploads/ab/one/data"


def sales(rows: int = ROWS, bad: tuple[int, ...] = (45_000,)) -> bytes:
    lines = ["id,city,amount,day"]
    for i in range(1, rows + 1):
        amount = "8-30" if i in bad else f"{i % 997}.5"  # a bad row past the sniffer's sample
        lines.append(f"{i},city{i % 13},{amount},2024-01-{1 + i % 28:02d}")
    return ("\n".join(lines) + "\n").encode()


class Fetches:
    """The `fetch` of a RemoteFile: copies the object to a local file, and counts the calls."""

    def __init__(self, store: LocalStore, tmp: Path) -> None:
        self.store, self.tmp, self.calls = store, tmp, 0

    def __call__(self) -> Path:
        self.calls += 1
        target = self.tmp / "fetched"
        self.store.download(KEY, target)
        return target


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> LocalStore:
    monkeypatch.setattr(importer_module, "STREAM_HEAD_BYTES", 2 * 1024 * 1024)  # ~70k lines: enough to sniff
    return LocalStore(tmp_path / "root")


def remote(store: LocalStore, tmp: Path, data: bytes) -> tuple[RemoteFile, Fetches]:
    store.put(KEY, data)
    fetch = Fetches(store, tmp)
    return RemoteFile(store, KEY, len(data), fetch=fetch), fetch


def run(source: Any, out: Path, **config: Any) -> ImportResult:
    return import_file(
        source,
        filename="sales.csv",
        config=ImportConfig(**config),
        limits=ImportLimits(),
        out_dir=out,
        duckdb_settings=DuckDBSettings(memory_limit="256MB", threads=2),
    )


def test_a_streamed_csv_imports_as_the_local_file_does(tmp_path: Path, store: LocalStore) -> None:
    data = sales()
    source, fetch = remote(store, tmp_path, data)
    streamed = run(source, tmp_path / "streamed", on_error="lenient")
    (tmp_path / "sales.csv").write_bytes(data)
    local = run(tmp_path / "sales.csv", tmp_path / "local", on_error="lenient")
    assert fetch.calls == 0  # streamed, not downloaded
    assert (streamed.rows, streamed.rejected, streamed.bytes_read) == (local.rows, local.rejected, len(data))
    assert (streamed.rows, streamed.rejected) == (ROWS - 1, 1)
    assert streamed.columns == local.columns
    assert streamed.config == local.config
    assert pq.read_table(streamed.data_path).equals(pq.read_table(local.data_path))
    assert pq.read_table(streamed.rejects_path).to_pylist() == pq.read_table(local.rejects_path).to_pylist()
    assert sorted(os.listdir(tmp_path / "streamed")) == ["data.parquet", "rejects.parquet"]  # no head, no FIFO


def test_a_strict_streamed_import_lists_the_bad_row(tmp_path: Path, store: LocalStore) -> None:
    source, _ = remote(store, tmp_path, sales())
    with pytest.raises(ImportFailed) as raised:
        run(source, tmp_path / "out", on_error="strict")
    assert raised.value.errors[0]["row"] == 45_001  # the file's line (the header is line 1)
    assert not (tmp_path / "out" / "data.parquet").exists()


def test_a_limit_stops_reading_the_stream_early(tmp_path: Path, store: LocalStore) -> None:
    source, fetch = remote(store, tmp_path, sales(200_000))
    result = run(source, tmp_path / "out", limit=10)
    assert (result.rows, fetch.calls) == (10, 0)


def test_a_head_too_short_to_sniff_or_other_formats_are_fetched(tmp_path: Path, store: LocalStore) -> None:
    wide = b"a,b\n" + b"".join(b"%d,%s\n" % (i, b"x" * 100) for i in range(60_000))  # 20k lines in 2 MiB
    source, fetch = remote(store, tmp_path, wide)
    assert run(source, tmp_path / "out").rows == 60_000
    assert fetch.calls == 1


class Failing(LocalStore):
    """Sends each object's bytes up to `cut`; a range past it fails (`error`) or comes short (a short body)."""

    def __init__(self, root: Path, cut: int, error: BaseException | None) -> None:
        super().__init__(root)
        self.cut, self.error = cut, error

    def read_range(self, key: str, start: int, end: int) -> bytes:
        if end > self.cut and self.error is not None:
            raise self.error
        return super().read_range(key, start, min(end, self.cut))


@pytest.mark.parametrize("error", [StoreUnavailable("the data store did not answer: reset"), None])
def test_a_feed_cut_half_way_is_the_stores_error(tmp_path: Path, store: LocalStore, error: Any) -> None:
    failing = Failing(tmp_path / "root", cut=2_500_003, error=error)  # past the head, mid-line
    source, _ = remote(failing, tmp_path, sales(bad=()))
    with pytest.raises(StoreUnavailable):
        run(source, tmp_path / "out")
    assert os.listdir(tmp_path / "out") == []  # no version, no head, no FIFO


def test_a_cancelled_streamed_import_ends_the_feed(tmp_path: Path, store: LocalStore) -> None:
    source, _ = remote(store, tmp_path, sales(1_000_000, bad=()))  # 0.1 s in, the COPY is interrupted
    with pytest.raises(ImportCancelled):
        import_file(
            source,
            filename="sales.csv",
            config=ImportConfig(),
            limits=ImportLimits(),
            out_dir=tmp_path / "out",
            duckdb_settings=DuckDBSettings(memory_limit="256MB", threads=1),
            should_stop=lambda: True,
        )
    assert os.listdir(tmp_path / "out") == []
