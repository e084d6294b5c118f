"""Long cell texts are cut as a workbook part's XML streams: whole characters and entities, well-formed XML."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from app.ingest.xlsx_copy import edits_anything, write_copy
from app.ingest.xml_text_cap import TextCap


def capped(xml: bytes, max_chars: int, chunk: int) -> tuple[bytes, int]:
    cap = TextCap(max_chars)
    out = b"".join(cap.feed(xml[i : i + chunk]) for i in range(0, len(xml), chunk)) + cap.close()
    return out, cap.cut


@pytest.mark.parametrize("chunk", [1, 7, 64, 1 << 20])
def test_a_long_text_is_cut_to_whole_characters_whatever_the_chunks(chunk: int) -> None:
    text = "说&amp;é" * 40  # 120 characters: three-byte, entity, two-byte
    xml = f'<sst><si><t xml:space="preserve">{text}</t></si><si><t>short</t></si><v>12345</v></sst>'.encode()
    out, cut = capped(xml, 10, chunk)
    assert cut == 1
    kept = "说&amp;é说&amp;é说&amp;é说"  # ten characters, no entity or character split
    assert out == f'<sst><si><t xml:space="preserve">{kept}</t></si><si><t>short</t></si><v>12345</v></sst>'.encode()


def test_short_texts_and_other_elements_pass_unchanged() -> None:
    xml = b'<worksheet><sheetData><row r="1"><c r="A1"><f>' + b"A" * 50 + b"</f><v>1</v></c></row></sheetData>"
    assert capped(xml, 10, 8) == (xml, 0)  # a formula is not a cell's text
    assert capped(xml, 100, 8) == (xml, 0)


def test_a_run_longer_than_the_deciding_window_is_dropped_as_it_streams() -> None:
    cap = TextCap(5)
    head = cap.feed(b"<si><t>" + b"x" * 200_000)  # decided: 5 characters kept, the rest dropped
    assert b"x" * 6 not in head
    assert cap.feed(b"x" * 1_000_000) == b""  # held nothing, gave nothing
    assert head + cap.feed(b"x</t></si>") + cap.close() == b"<si><t>xxxxx</t></si>"


def test_a_copy_is_edited_only_where_a_text_is_long(tmp_path: Path) -> None:
    path = tmp_path / "book.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("long.xml", b"<sst><si><t>" + "é".encode() * 30_000 + b"</t></si></sst>")
        archive.writestr("other.xml", b"<t>" + b"x" * 30_000 + b"</t>")
    with zipfile.ZipFile(path) as source:
        assert edits_anything(source, "long.xml", TextCap(20_000))
        assert not edits_anything(source, "long.xml", TextCap(30_000))
        write_copy(source, tmp_path / "copy.zip", streamed={"long.xml": lambda: TextCap(3)})
    with zipfile.ZipFile(tmp_path / "copy.zip") as copy:
        assert copy.read("long.xml") == "<sst><si><t>ééé</t></si></sst>".encode()
        assert copy.read("other.xml") == b"<t>" + b"x" * 30_000 + b"</t>"  # not streamed: copied as it was
