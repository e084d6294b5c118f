"""Format and encoding from content, not the name; refusals for mismatches, empty files and zip bombs."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from app.ingest import ImportConfig, ImportLimits, safe_display_name, sniff
from app.ingest.errors import ContentMismatch, EmptyFile, LimitExceeded, UnsupportedMediaType
from app.ingest.sniff import detect_encoding
from tests.unit.ingest.conftest import write_xlsx


def test_text_files_are_told_apart_by_content(tmp_path: Path, limits: ImportLimits):
    files = {
        "a.csv": b"a,b\n1,2\n",
        "b.json": b'  [{"a": 1}]',
        "c.ndjson": b'{"a": 1}\n{"a": 2}\n',
        "d.json": b'{"data": {"items": []}}',
        "e.txt": b"a\tb\n1\t2\n",
    }
    kinds = {}
    for name, content in files.items():
        (tmp_path / name).write_bytes(content)
        kinds[name] = sniff(tmp_path / name, name, ImportConfig(), limits).kind
    assert kinds == {"a.csv": "csv", "b.json": "json", "c.ndjson": "ndjson", "d.json": "json", "e.txt": "csv"}


def test_a_workbook_is_recognised_whatever_its_name(tmp_path: Path, limits: ImportLimits):
    path = write_xlsx(tmp_path / "upload.bin", {"S": [["a"], [1]]})
    found = sniff(path, "report.xls", ImportConfig(), limits)
    assert (found.format, found.kind) == ("excel", "xlsx")
    assert found.warnings  # named .xls but is an xlsx


def test_an_ods_is_recognised_by_its_mimetype(tmp_path: Path, limits: ImportLimits):
    path = tmp_path / "a.ods"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", "<x/>")
    assert sniff(path, "a.ods", ImportConfig(), limits).kind == "ods"


def test_an_ole2_file_is_an_xls(tmp_path: Path, limits: ImportLimits):
    path = tmp_path / "old.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512)
    assert sniff(path, "old.xls", ImportConfig(), limits).kind == "xls"


def test_a_csv_named_xlsx_is_a_content_mismatch(tmp_path: Path, limits: ImportLimits):
    path = tmp_path / "fake.xlsx"
    path.write_bytes(b"a,b\n1,2\n")
    with pytest.raises(ContentMismatch) as caught:
        sniff(path, "fake.xlsx", ImportConfig(), limits)
    assert (caught.value.status, caught.value.code) == (415, "content_mismatch")


def test_a_workbook_named_csv_is_a_content_mismatch(tmp_path: Path, limits: ImportLimits):
    path = write_xlsx(tmp_path / "a.xlsx", {"S": [["a"]]})
    with pytest.raises(ContentMismatch):
        sniff(path, "data.csv", ImportConfig(), limits)


def test_text_that_is_not_json_named_json_is_a_content_mismatch(tmp_path: Path, limits: ImportLimits):
    path = tmp_path / "a.json"
    path.write_bytes(b"a,b\n1,2\n")
    with pytest.raises(ContentMismatch):
        sniff(path, "a.json", ImportConfig(), limits)


def test_a_zip_that_is_no_workbook_is_refused(tmp_path: Path, limits: ImportLimits):
    path = tmp_path / "a.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(ContentMismatch):
        sniff(path, "a.xlsx", ImportConfig(), limits)


def test_a_corrupted_xlsx_is_refused_clearly(tmp_path: Path, limits: ImportLimits):
    good = write_xlsx(tmp_path / "good.xlsx", {"S": [["a"], [1]]}).read_bytes()
    path = tmp_path / "broken.xlsx"
    path.write_bytes(good[: len(good) // 2])  # the central directory is gone
    with pytest.raises(UnsupportedMediaType) as caught:
        sniff(path, "broken.xlsx", ImportConfig(), limits)
    assert caught.value.code == "corrupt_file"


def test_a_zip_bomb_disguised_as_xlsx_is_refused_before_inflating(tmp_path: Path):
    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "spreadsheetml.sheet.main+xml")
        with archive.open("xl/worksheets/sheet1.xml", "w") as member:
            for _ in range(8):
                member.write(b"\0" * (1024 * 1024))
    assert path.stat().st_size < 100_000
    with pytest.raises(LimitExceeded) as by_ratio:
        sniff(path, "bomb.xlsx", ImportConfig(), ImportLimits(max_compression_ratio=100))
    with pytest.raises(LimitExceeded) as by_size:
        sniff(path, "bomb.xlsx", ImportConfig(), ImportLimits(max_workbook_uncompressed_bytes=4 * 1024 * 1024))
    assert "zip bomb" in by_ratio.value.detail
    assert "max_workbook_uncompressed_bytes" in by_size.value.detail
    assert by_size.value.status == 413


def test_an_empty_file_gives_a_clear_error(tmp_path: Path, limits: ImportLimits):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    with pytest.raises(EmptyFile) as caught:
        sniff(path, "empty.csv", ImportConfig(), limits)
    assert "empty" in caught.value.detail
    assert caught.value.code == "empty_file"


def test_an_upload_over_the_limit_names_the_limit(tmp_path: Path):
    path = tmp_path / "a.csv"
    path.write_bytes(b"a\n1\n2\n")
    with pytest.raises(LimitExceeded, match="max_upload_bytes"):
        sniff(path, "a.csv", ImportConfig(), ImportLimits(max_upload_bytes=3))


def test_binary_content_is_refused(tmp_path: Path, limits: ImportLimits):
    path = tmp_path / "a.csv"
    path.write_bytes(b"%PDF-1.7\n...")
    with pytest.raises(UnsupportedMediaType):
        sniff(path, "a.csv", ImportConfig(), limits)
    path.write_bytes(b"a,b\x00\x00\x01\n")
    with pytest.raises(ContentMismatch):
        sniff(path, "a.csv", ImportConfig(), limits)


@pytest.mark.parametrize(
    ("content", "encoding"),
    [
        ("id,name\n1,café\n".encode(), "utf-8"),
        (b"\xef\xbb\xbf" + "id,name\n1,café\n".encode(), "utf-8-sig"),
        ("id,name\n1,café\n".encode("utf-16"), "utf-16"),
        ("编号,名称\n1,北京市朝阳区\n2,上海市浦东新区\n".encode("gb18030"), "gb18030"),
        ("id;nom\n1;café crème\n2;naïve élève\n".encode("latin-1"), "latin-1"),
    ],
)
def test_encodings_are_detected(content: bytes, encoding: str):
    assert detect_encoding(content, at_eof=True)[0] == encoding


@pytest.mark.parametrize(
    ("given", "shown"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\boot.ini", "boot.ini"),
        ("/abs/path/data.csv", "data.csv"),
        ("..", "upload"),
        ("", "upload"),
        ("bad\x00name\n.csv", "badname.csv"),
        (".hidden.csv", "hidden.csv"),
    ],
)
def test_display_names_have_no_directories_or_control_characters(given: str, shown: str):
    assert safe_display_name(given) == shown


def test_long_display_names_keep_their_extension():
    name = safe_display_name("x" * 500 + ".xlsx")
    assert len(name) <= 200
    assert name.endswith(".xlsx")
