"""JSON records against the read limits: a record past max_line_bytes, and the bounded reads of previews and of
what precedes records under a path."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from app.ingest import ImportConfig, ImportLimits, preview
from app.ingest.errors import LimitExceeded
from app.ingest.json_budget import record_limit
from tests.unit.ingest.conftest import rows_of


def counted_reads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The bytes each reader json_reader opens from now on gives, in the order they were opened."""
    from app.ingest import json_reader

    given: list[int] = []
    real_reader = json_reader.reader

    def spy(path: str, encoding: str) -> Any:
        handle = real_reader(path, encoding)
        index, read = len(given), handle.read
        given.append(0)

        def counted(size: int = -1) -> bytes:
            chunk = read(size)
            given[index] += len(chunk)
            return chunk

        handle.read = counted
        return handle

    monkeypatch.setattr(json_reader, "reader", spy)
    return given


def test_a_record_past_the_line_limit_is_a_limit_not_duckdbs_hint(tmp_path: Path, limits: ImportLimits, run_import):
    path = tmp_path / "big.ndjson"  # DuckDB reads records of up to 32 MiB, whatever max_line_bytes below that says
    note = "y" * 33 * 1024**2
    path.write_bytes(b'{"id": 1, "note": "x"}\n{"id": 2, "note": "' + note.encode() + b'"}\n{"id": 3, "note": "z"}\n')
    with pytest.raises(LimitExceeded) as shown:
        preview(path, "big.ndjson", ImportConfig(), limits)
    with pytest.raises(LimitExceeded) as imported:
        run_import(path)
    for caught in (shown, imported):
        assert caught.value.code == "limit_exceeded"
        assert f"a record is larger than an import reads ({32 * 1024**2} bytes of JSON" in caught.value.detail
        assert "maximum_object_size" not in caught.value.detail


@pytest.mark.parametrize("name", ["mid.ndjson", "mid.json"])
def test_a_record_between_max_line_bytes_and_what_duckdb_reads_is_previewed_as_it_is_imported(
    tmp_path: Path, limits: ImportLimits, run_import, name: str
):
    """DuckDB reads a record of up to 32 MiB whatever max_line_bytes (8 MiB) below that says: the preview refused
    a 12 MiB record that the import then read. One limit now (json_budget.record_limit): both read it."""
    path = tmp_path / name
    note = "y" * 12 * 1024**2
    records = [{"id": 1, "note": "x"}, {"id": 2, "note": note}, {"id": 3, "note": "z"}]
    if name.endswith(".ndjson"):
        path.write_text("".join(json.dumps(record) + "\n" for record in records))
    else:
        path.write_text(json.dumps(records))
    shown = preview(path, name, ImportConfig(), limits)
    assert [row[0] for row in shown.rows][:2] == [1, 2]  # the preview's bytes are spent after the 2nd
    assert [(row["id"], len(row["note"])) for row in rows_of(run_import(path))] == [(1, 1), (2, len(note)), (3, 1)]


@pytest.mark.parametrize("name", ["big.ndjson", "big.json"])
def test_a_preview_reads_a_bounded_prefix_of_a_huge_record(
    tmp_path: Path, limits: ImportLimits, monkeypatch: pytest.MonkeyPatch, name: str
):
    """A 2nd record holding a 50 MB string was read whole (10-20 s in the API) before DuckDB refused it: the preview
    stops within record_limit of that record's start, with the import's limit_exceeded."""
    from app.ingest import json_reader

    given = counted_reads(monkeypatch)  # bytes each opened reader gave
    path = tmp_path / name
    big = b'{"id": 2, "note": "' + b"y" * 50 * 1024**2 + b'"}'
    if name.endswith(".ndjson"):
        path.write_bytes(b'{"id": 1, "note": "x"}\n' + big + b"\n")
    else:
        path.write_bytes(b'[{"id": 1, "note": "x"},\n' + big + b"]")
    with pytest.raises(LimitExceeded) as shown:
        preview(path, name, ImportConfig(), limits)
    assert shown.value.code == "limit_exceeded"
    assert f"({record_limit(limits.max_line_bytes)} bytes of JSON" in shown.value.detail
    # past the limit by at most the read that found it and the one holding the end of the record before
    assert 0 < max(given) <= record_limit(limits.max_line_bytes) + 2 * json_reader.READ_BYTES


def test_a_preview_of_many_large_records_stops_after_its_bytes(tmp_path: Path, limits: ImportLimits):
    """Records each well within max_line_bytes are read until the preview's bytes are spent: it shows those."""
    from app.ingest.preview import PREVIEW_BYTES

    path = tmp_path / "wide.ndjson"
    record = 1024**2
    path.write_text("".join(json.dumps({"id": i, "note": "z" * record}) + "\n" for i in range(12)))
    shown = preview(path, "wide.ndjson", ImportConfig(), limits)
    assert [c.name for c in shown.columns] == ["id", "note"]
    assert 1 <= len(shown.rows) <= PREVIEW_BYTES // record + 1
    assert [row[0] for row in shown.rows] == list(range(len(shown.rows)))


@pytest.mark.parametrize(
    "document",
    [
        b'{"data": {"items": [{"id": 1, "note": "%s"}, {"id": 2, "note": "z"}]}}',
        b'{"meta": "%s", "data": {"items": [{"id": 1}, {"id": 2}]}}',
    ],
    ids=["first-record", "value-before"],
)
def test_the_first_record_under_a_path_and_what_precedes_it_are_read_within_the_record_limit(
    tmp_path: Path, limits: ImportLimits, run_import, monkeypatch: pytest.MonkeyPatch, document: bytes
):
    """Under a record path the preview's bytes counted only from the end of the first record: a huge first record,
    or a huge value before the records, was read whole into the API process. Both now count against the limit
    of one record, in the preview and in the import alike."""
    from app.ingest import json_reader

    given = counted_reads(monkeypatch)
    path = tmp_path / "nested.json"
    path.write_bytes(document % (b"y" * 60 * 1024**2))
    config = ImportConfig(record_path="data.items")
    said = f"the first record under the record path ends more than {record_limit(limits.max_line_bytes)} bytes"
    with pytest.raises(LimitExceeded, match=said):
        preview(path, "nested.json", config, limits)
    # past the limit by at most the read that found it and the one holding the end of the record before
    assert 0 < max(given) <= record_limit(limits.max_line_bytes) + 2 * json_reader.READ_BYTES
    with pytest.raises(LimitExceeded, match=said):
        run_import(path, record_path="data.items")


def test_a_large_value_before_the_records_under_a_path_is_no_record(tmp_path: Path, limits: ImportLimits, run_import):
    """Bytes before the first record under a path are no record's: the preview shows the records, as imported."""
    path = tmp_path / "meta.json"
    meta = b"m" * (limits.max_line_bytes + 1024**2)
    path.write_bytes(b'{"meta": "' + meta + b'", "data": [{"a": 1}, {"a": 2}]}')
    shown = preview(path, "meta.json", ImportConfig(), limits)
    assert shown.rows == [[1], [2]]
    assert shown.config.record_path == "data"
    assert rows_of(run_import(path)) == [{"a": 1}, {"a": 2}]
