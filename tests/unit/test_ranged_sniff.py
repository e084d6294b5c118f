"""The format check reads an object of the store by ranges (app.storage.ranged) and decides as it does on a file."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import openpyxl
import pytest

from app.core.errors import DomainError
from app.ingest.config import ImportConfig, ImportLimits
from app.ingest.errors import ContentMismatch
from app.ingest.sniff import sniff
from app.storage.local import LocalStore
from app.storage.ranged import BLOCK_BYTES, RangedFile, ReadBudgetExceeded
from tests.workbook_files import ods_workbook, xls_workbook, xlsb_workbook


def _ranged(store: LocalStore, key: str, budget: int = 1 << 20) -> RangedFile:
    return RangedFile(store, key, store.size(key), budget=budget)


def test_reads_seeks_and_counts_whole_blocks(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "root")
    data = bytes(range(256)) * 1000
    store.put("a/data", data)
    file = _ranged(store, "a/data")
    assert file.read(10) == data[:10]
    assert file.seek(-5, io.SEEK_END) == len(data) - 5
    assert file.read() == data[-5:]
    file.seek(100)
    assert file.read(BLOCK_BYTES) == data[100 : 100 + BLOCK_BYTES]
    assert file.fetched == 2 * BLOCK_BYTES + len(data) % BLOCK_BYTES  # blocks 0, 1 and the last: each fetched once
    assert _ranged(store, "a/data").read() == data


def test_more_than_the_budget_is_refused_before_it_is_fetched(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "root")
    store.put("a/data", b"x" * (3 * BLOCK_BYTES))
    file = _ranged(store, "a/data", budget=2 * BLOCK_BYTES)
    file.read(2 * BLOCK_BYTES)
    with pytest.raises(ReadBudgetExceeded):
        file.read(1)
    assert file.fetched == 2 * BLOCK_BYTES


def _xlsx(path: Path) -> Path:
    book = openpyxl.Workbook()
    book.active.append(["id"])
    book.save(path)
    return path


@pytest.mark.parametrize("name", ["book.xlsx", "book.xls", "book.xlsb", "book.ods", "book.csv", "named.csv"])
def test_the_check_decides_the_same_on_ranges_as_on_a_file(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    if name == "book.xlsx" or name == "named.csv":
        _xlsx(path)
    elif name == "book.xls":
        xls_workbook(path, [["id"], [1]])
    elif name == "book.xlsb":
        xlsb_workbook(path, [["id"], [1]])
    elif name == "book.ods":
        ods_workbook(path, {"Data": [["id"], [1]]})
    else:
        path.write_bytes(b"id,word\n1,a\n")
    store = LocalStore(tmp_path / "root")
    store.put("u/data", path.read_bytes())
    outcomes = []
    for source in (path, _ranged(store, "u/data")):
        try:
            outcomes.append(sniff(source, name, ImportConfig(), ImportLimits()))
        except DomainError as exc:
            outcomes.append(exc.code)
    assert outcomes[0] == outcomes[1]


def test_a_zip_whose_directory_passes_the_budget_is_refused_not_read(tmp_path: Path) -> None:
    """The budget's error is no OSError: zipfile does not take it for a damaged file (415 corrupt_file)."""
    path = tmp_path / "wide.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        for index in range(60):
            archive.writestr(f"{index:04d}" + "n" * 4000, b"")
    store = LocalStore(tmp_path / "root")
    store.put("u/data", path.read_bytes())
    with pytest.raises(ContentMismatch):
        sniff(path, "wide.xlsx", ImportConfig(), ImportLimits())
    with pytest.raises(ReadBudgetExceeded):
        sniff(_ranged(store, "u/data", budget=2 * BLOCK_BYTES), "wide.xlsx", ImportConfig(), ImportLimits())
