"""CSV line ends and dialects: Excel's sep= line, lone CR and LF CR line ends, CRLF and LF mixed in one file, a dialect
that cannot be told."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.ingest import ImportConfig, ImportLimits, preview, textio
from app.ingest.errors import ImportFailed
from app.ingest.notices.file import LineEnds
from app.ingest.textio import odd_line_ends
from tests.unit.ingest.conftest import rows_of, write


@pytest.mark.parametrize("delimiter", [";", ",", "\t", "|"])
def test_excels_sep_line_names_the_delimiter_and_is_skipped_in_preview_and_import(
    tmp_path: Path, limits: ImportLimits, run_import, delimiter: str
):
    """`sep=;` on line 1 (Excel writes and honours it) was read as the header: one column named 'sep='."""
    rows = [["city", "amount"], ["Paris", "12"], ["Lyon", "7"]]
    text = f"sep={delimiter}\r\n" + "".join(delimiter.join(row) + "\r\n" for row in rows)
    path = write(tmp_path / "export.csv", text)
    shown = preview(path, "export.csv", ImportConfig(), limits)
    assert (shown.config.delimiter, shown.config.header_row) == (delimiter, 2)
    assert [c.name for c in shown.columns] == ["city", "amount"]
    assert shown.suggestions == []
    assert f"line 1 is Excel's delimiter hint {'sep=' + delimiter!r}: skipped; {delimiter!r} is the delimiter" in (
        shown.warnings
    )
    assert shown.rows == [["Paris", 12], ["Lyon", 7]]
    assert rows_of(run_import(path)) == [{"city": "Paris", "amount": 12}, {"city": "Lyon", "amount": 7}]


def test_a_configured_delimiter_wins_over_the_sep_line_which_is_still_skipped(tmp_path: Path, run_import):
    path = write(tmp_path / "export.csv", '"sep=;"\nid,name\n1,a\n')
    result = run_import(path, delimiter=",")
    assert rows_of(result) == [{"id": 1, "name": "a"}]
    assert "line 1 is Excel's delimiter hint 'sep=;': skipped; the delimiter set, ',', is used" in result.warnings


@pytest.mark.parametrize("last_line_end", ["\n", "\r\n"])
def test_lone_cr_line_ends_with_a_last_line_from_another_system_preview_and_import_alike(
    tmp_path: Path, limits: ImportLimits, run_import, last_line_end: str
):
    """Classic Mac line ends (lone CR) with one LF or CRLF line end: DuckDB's sniffer gave a page-long error, or
    (the other line end past the sniffed head) the preview worked and the import failed ('invalid state')."""
    lines = ["Name,Note,Amount", '"Smith, J","call back\rtomorrow",1.5'] + [f"Row {i},-,{i}" for i in range(30_000)]
    text = "\r".join(lines) + "\r" + "Last,added on Linux,2" + last_line_end
    path = write(tmp_path / "mac.csv", text, "cp1252")
    shown = preview(path, "mac.csv", ImportConfig(), limits)
    assert [(c.name, c.type) for c in shown.columns] == [("Name", "string"), ("Note", "string"), ("Amount", "float")]
    assert shown.rows[0] == ["Smith, J", "call back\ntomorrow", 1.5]  # a line break in a cell, as LF
    result = run_import(path)
    stored = rows_of(result)
    assert (len(stored), stored[0], stored[-1]) == (
        30_002,
        {"Name": "Smith, J", "Note": "call back\ntomorrow", "Amount": 1.5},
        {"Name": "Last", "Note": "added on Linux", "Amount": 2.0},
    )


@pytest.mark.parametrize("chunk", [None, 5])
def test_lf_cr_line_ends_are_read_as_one_line_end_in_preview_and_import_alike(
    tmp_path: Path, limits: ImportLimits, run_import, monkeypatch: pytest.MonkeyPatch, chunk: int | None
):
    """LF then CR (some old tools) was refused as csv_dialect_unknown; an empty line stays an empty line."""
    if chunk:  # transcode in tiny chunks: an LF at a chunk's end, its CR in the next
        monkeypatch.setattr(textio, "CHUNK_BYTES", chunk)
    lines = ["Name,Amount", "a,1.5", "", "b,2"] + [f"r{i},{i}" for i in range(20)]
    path = write(tmp_path / "acorn.csv", "\n\r".join(lines) + "\n\r", "cp1252")
    shown = preview(path, "acorn.csv", ImportConfig(), limits)
    said = "the lines end in LF then CR: read as one line end each"
    assert said in shown.warnings
    assert [(c.name, c.type) for c in shown.columns] == [("Name", "string"), ("Amount", "float")]
    assert shown.rows[:2] == [["a", 1.5], ["b", 2.0]]
    result = run_import(path)
    assert said in result.warnings
    stored = rows_of(result)
    assert (len(stored), stored[1], stored[-1]) == (22, {"Name": "b", "Amount": 2.0}, {"Name": "r19", "Amount": 19.0})


@pytest.mark.parametrize("end", ["\r\n", "\n"])
def test_an_empty_line_in_a_crlf_or_lf_file_is_not_taken_for_lf_cr_line_ends(
    tmp_path: Path, limits: ImportLimits, run_import, end: str
):
    path = write(tmp_path / "gap.csv", end.join(["id,v", "1,a", "", "2,b", "", "", "3,c"]) + end)
    assert odd_line_ends(path.read_text(encoding="utf-8")) is None
    assert not any("line end" in w for w in preview(path, "gap.csv", ImportConfig(), limits).warnings)
    assert [r["id"] for r in rows_of(run_import(path))] == [1, 2, 3]


def test_a_csv_whose_dialect_cannot_be_told_gets_a_short_message_and_its_own_code(
    tmp_path: Path, limits: ImportLimits, run_import
):
    path = write(tmp_path / "mixed.csv", "a,b\n\r1,2\n3,4\n\r5,6\n")  # half the lines end in LF CR: no line end wins
    with pytest.raises(ImportFailed) as shown:
        preview(path, "acorn.csv", ImportConfig(), limits)
    with pytest.raises(ImportFailed) as imported:
        run_import(path)
    assert shown.value.code == imported.value.code == "csv_dialect_unknown"
    assert (
        shown.value.detail
        == imported.value.detail
        == (
            "could not tell the CSV's delimiter and quote from its first lines: set delimiter (and quote) in the "
            "import configuration"
        )
    )


@pytest.mark.parametrize(("first", "then"), [("\r\n", "\n"), ("\n", "\r\n")])
def test_a_csv_whose_line_ends_change_past_the_checked_head_imports_every_row(
    tmp_path: Path, run_import, first: str, then: str
):
    # rows past the first 64 KiB end differently (a script appended them): the preview's head does not show it
    head = 'id,note\r\n1,"a\nb"' + first if first == "\r\n" else "id,note" + first
    text = head + "".join(f"{i},row{i}{first}" for i in range(2, 30_001)) + "".join(f"{i},tail{then}" for i in range(5))
    result = run_import(write(tmp_path / "appended.csv", text), on_error="strict")
    stored = rows_of(result)
    assert len(stored) == (30_005 if first == "\r\n" else 30_004)
    assert stored[-1] == {"id": 4, "note": "tail"}
    assert [n.ends for n in result.notices if isinstance(n, LineEnds)] == ["mixed"]


@pytest.mark.parametrize("then", [b"\r\n", b"\n"])
def test_a_file_that_is_not_utf8_past_its_head_still_fails_on_its_bytes(tmp_path: Path, run_import, then: bytes):
    # its last row's bytes are not UTF-8, and (the second time) it ends in LF where the rows before end in CRLF
    path = tmp_path / "broken.csv"
    path.write_bytes(b"id,note\r\n" + b"".join(b"%d,row\r\n" % i for i in range(30_000)) + b"1,\xff\xfe" + then)
    with pytest.raises(ImportFailed) as failed:
        run_import(path, on_error="strict")
    assert failed.value.code == "import_failed"
    assert "utf-8" in failed.value.detail.lower()


@pytest.mark.parametrize(("text", "mixed"), [('a\r\n"x\ny"\r\nb\r\n', False), ("a\r\nb\r\nc\nd\r\n", True)])
def test_the_whole_file_scan_for_mixed_line_ends_keeps_a_crlf_cut_by_a_chunk_and_a_quoted_lf(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, mixed: bool
):
    monkeypatch.setattr(textio, "CHUNK_BYTES", 2)  # every CRLF of the first lines cut between two chunks
    assert textio.file_mixes_crlf_and_lf(write(tmp_path / "ends.csv", text), "utf-8") is mixed


def test_a_preview_whose_line_ends_change_past_the_first_64_kib_of_its_head_reads_them_as_the_import_does(
    tmp_path: Path, limits: ImportLimits
):
    # 80 rows of 1 KB in CRLF, then rows in LF: the preview's head holds both, past the 64 KiB checked first
    text = (
        "id,note\r\n" + "".join(f"{i},{'x' * 1000}\r\n" for i in range(80)) + "".join(f"{i},tail\n" for i in range(50))
    )
    shown = preview(write(tmp_path / "long.csv", text), "long.csv", ImportConfig(), limits)
    assert [n.ends for n in shown.notices if isinstance(n, LineEnds)] == ["mixed"]
    assert (len(shown.rows), shown.rows[-1][0]) == (50, 49)
