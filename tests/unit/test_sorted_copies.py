"""Sorted pages of a big version read from its sorted copy once written, with the same rows, order and ties
(equal sort values in the version's row order) as sorting the version itself."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from app.domain import dataset_reader, sorted_copies
from app.domain.dataset_reader import Reader
from app.domain.row_totals import TOTALS
from app.domain.sorted_copies import SORTED
from app.ingest.config import DuckDBSettings

SETTINGS = DuckDBSettings(memory_limit="128MB", threads=1)
ROWS = 5_000


def test_pages_from_the_copy_equal_pages_sorted_per_request(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dataset_reader, "MIN_ROWS", 1_000)  # a copy for this small version too
    monkeypatch.setattr(sorted_copies, "MAX_WRITERS", 3)  # all three orders' copies may be written at once
    parquet = tmp_path / "data.parquet"
    duckdb.sql(
        f"COPY (SELECT i AS id, i % 7 AS grp, CASE WHEN i % 11 = 0 THEN NULL ELSE (i * 31) % 50 END AS score "
        f"FROM range({ROWS}) t(i)) TO '{parquet}' (FORMAT parquet)"
    )
    TOTALS.clear()
    cases = [
        {"order_by": ["-score"], "filters": [], "offset": 0},
        {"order_by": ["score", "-grp"], "filters": ["grp:ne:3"], "offset": 700},
        {"order_by": ["-score"], "filters": ["score:gt:40"], "offset": 250},
        {"order_by": ["score"], "filters": [], "offset": ROWS - 30},  # the nulls, last, in file order
    ]

    def pages(*, copied: bool | None) -> list[dict]:
        found = []
        for case in cases:
            with Reader(parquet, tmp_path / "work", SETTINGS, sorted_dir=tmp_path / "sorted") as reader:
                found.append(reader.rows(limit=60, columns=None, **case))  # type: ignore[arg-type]
                assert copied is None or (reader.path != reader.source) is copied
        return found

    sorted_per_request = pages(copied=None)  # the first -score page starts a copy the third may find written
    SORTED.wait()
    assert len(list((tmp_path / "sorted").glob("*.parquet"))) == 3  # one per order: -score, score+-grp, score
    from_copies = pages(copied=True)
    assert from_copies == sorted_per_request
    rows = [(i, i % 7, None if i % 11 == 0 else (i * 31) % 50) for i in range(ROWS)]
    expected = sorted(rows, key=lambda r: (r[2] is None, -(r[2] or 0), r[0]))[:60]
    assert [tuple(r) for r in from_copies[0]["rows"]] == expected
    assert from_copies[3]["rows"][-1] == [ROWS - 1 - (ROWS - 1) % 11, (ROWS - 1 - (ROWS - 1) % 11) % 7, None]


def test_old_copies_are_deleted_past_the_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sorted_copies, "MAX_COPIES", 2)
    for i in range(4):
        (tmp_path / f"{i}.parquet").write_bytes(b"x")
        sorted_copies._evict(tmp_path)
    assert sorted(p.name for p in tmp_path.glob("*.parquet")) == ["2.parquet", "3.parquet"]


def test_one_copy_is_written_at_a_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Requests for many orders must not start many full sorts in the API process at once."""
    parquet = tmp_path / "data.parquet"
    duckdb.sql(f"COPY (SELECT i AS id FROM range(10) t(i)) TO '{parquet}' (FORMAT parquet)")
    copies = sorted_copies.SortedCopies()
    copies._writing["another copy"] = sorted_copies.threading.Thread()  # one being written now
    assert copies.find(str(parquet), "id DESC", tmp_path / "sorted", SETTINGS) is None
    assert list(copies._writing) == ["another copy"]  # nothing new started
    del copies._writing["another copy"]
    assert copies.find(str(parquet), "id DESC", tmp_path / "sorted", SETTINGS) is None  # now it starts
    copies.wait()
    assert copies.find(str(parquet), "id DESC", tmp_path / "sorted", SETTINGS) is not None


def test_a_copy_evicted_under_a_reader_falls_back_to_sorting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dataset_reader, "MIN_ROWS", 1)
    parquet = tmp_path / "data.parquet"
    duckdb.sql(f"COPY (SELECT i AS id FROM range(100) t(i)) TO '{parquet}' (FORMAT parquet)")
    page = {"offset": 0, "limit": 3, "columns": None, "order_by": ["-id"], "filters": []}
    with Reader(parquet, tmp_path / "work", SETTINGS, sorted_dir=tmp_path / "sorted") as reader:
        reader.rows(**page)  # type: ignore[arg-type]
    SORTED.wait()
    with Reader(parquet, tmp_path / "work", SETTINGS, sorted_dir=tmp_path / "sorted") as reader:
        assert reader._sorted_copy(reader._order(["-id"]))
        Path(reader.path).unlink()  # evicted by another request's new copy
        monkeypatch.setattr(reader, "_sorted_copy", lambda order: False)
        assert reader.rows(**page)["rows"] == [[99], [98], [97]]  # type: ignore[arg-type]
        assert reader.path == reader.source
