"""Long cell texts are cut as a workbook part's XML streams: whole characters and entities, well-formed XML."""

from __future__ import annotations

import io

import pytest

from app.ingest.xml_text_cap import TextCap, capped_chunks, has_long_text


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


def test_has_long_text_and_capped_chunks_read_a_stream() -> None:
    xml = b"<sst><si><t>" + "é".encode() * 30_000 + b"</t></si></sst>"
    assert has_long_text(io.BytesIO(xml), 20_000)
    assert not has_long_text(io.BytesIO(xml), 30_000)
    assert b"".join(capped_chunks(io.BytesIO(xml), 3)) == "<sst><si><t>ééé</t></si></sst>".encode()
