"""How much of a JSON file the record reading takes in, and in what pieces: bounded before the records, and a
long string read in few large reads (yajl lexes a token split across reads again on each)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from app.ingest import json_reader
from app.ingest.errors import LimitExceeded
from app.ingest.json_budget import ReadBudget

MIB = 1024**2


class _CountingReads:
    """A file handle that counts the reads asked of it and the bytes they gave."""

    def __init__(self, handle: Any) -> None:
        self._handle = handle
        self.reads = 0
        self.bytes = 0
        self.non_finite = handle.non_finite

    def read(self, size: int = -1) -> bytes:
        chunk = self._handle.read(size)
        self.reads += 1
        self.bytes += len(chunk)
        return chunk

    def __enter__(self) -> _CountingReads:
        return self

    def __exit__(self, *exc: object) -> None:
        self._handle.__exit__(*exc)


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> list[_CountingReads]:
    opened: list[_CountingReads] = []
    real = json_reader.reader

    def counting(path: str, encoding: str) -> _CountingReads:
        opened.append(_CountingReads(real(path, encoding)))
        return opened[-1]

    monkeypatch.setattr(json_reader, "reader", counting)
    return opened


def test_a_long_value_before_the_records_is_read_only_as_far_as_a_record_may_span(
    tmp_path: Path, counted: list[_CountingReads]
) -> None:
    path = tmp_path / "export.json"
    path.write_bytes(b'{"note": "' + b"y" * 6 * MIB + b'", "rows": [{"x": 1}]}')

    with pytest.raises(LimitExceeded, match="first record under the record path"):
        json_reader.find_record_path(str(path), "utf-8", record_bytes=1 * MIB)
    assert counted[0].bytes <= 1 * MIB + json_reader.READ_BYTES  # not the 6 MiB string


def test_a_value_within_the_limit_before_the_records_still_finds_them(tmp_path: Path) -> None:
    path = tmp_path / "export.json"
    path.write_bytes(b'{"note": "' + b"y" * MIB + b'", "rows": [{"x": 1}]}')
    assert json_reader.find_record_path(str(path), "utf-8", record_bytes=4 * MIB) == "rows"


def test_a_long_string_is_read_in_few_large_reads(tmp_path: Path, counted: list[_CountingReads]) -> None:
    source = tmp_path / "big.ndjson"
    source.write_bytes(b'{"id": 1}\n{"id": 2, "note": "' + b"y" * 16 * MIB + b'"}\n')

    extracted = json_reader.extract_records(
        str(source), str(tmp_path / "out.ndjson"), None, budget=ReadBudget(total=MIB, record=32 * MIB)
    )

    assert extracted.records == 2
    assert counted[0].reads <= 20  # 64 KiB reads took 257, each lexing the string again from its start
