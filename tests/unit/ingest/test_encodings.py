"""Legacy single- and double-byte encodings are detected (charset-normalizer beyond our GB check) and read right."""
# ruff: noqa: RUF001  (Cyrillic and Greek letters are the point of these texts)

from __future__ import annotations

from pathlib import Path

import pytest

from app.ingest import ImportConfig, ImportLimits, preview
from app.ingest.sniff import detect_encoding
from app.ingest.textio import CHUNK_BYTES, transcode_to_utf8
from tests.unit.ingest.conftest import rows_of

RUSSIAN = """код,город,население,описание
1,Москва,13010112,Столица России и крупнейший город страны
2,Санкт-Петербург,5601911,Северная столица на берегу Финского залива
3,Новосибирск,1633595,Крупнейший город Сибири и важный научный центр
4,Екатеринбург,1544376,Промышленный город на границе Европы и Азии
"""
JAPANESE = """番号,都市,人口,説明
1,東京,13960000,日本の首都であり最大の都市です
2,大阪,2750000,関西地方の中心都市として知られています
3,名古屋,2330000,中部地方の経済の中心です
4,札幌,1970000,北海道で一番大きな都市です
"""
TRADITIONAL_CHINESE = """編號,城市,人口,說明
1,臺北,2600000,臺灣的首都與最大的城市
2,高雄,2730000,南部最重要的港口城市
3,臺中,2850000,中部地區的經濟與文化中心
4,臺南,1860000,歷史最悠久的古都
"""
KOREAN = """번호,도시,인구,설명
1,서울,9700000,대한민국의 수도이자 가장 큰 도시입니다
2,부산,3400000,남부의 가장 큰 항구 도시입니다
3,인천,2950000,국제공항이 있는 서해안의 도시입니다
4,대구,2380000,경상북도 지역의 중심 도시입니다
"""
GREEK = """κωδικός,πόλη,πληθυσμός,περιγραφή
1,Αθήνα,664046,Η πρωτεύουσα και μεγαλύτερη πόλη της Ελλάδας
2,Θεσσαλονίκη,325182,Η δεύτερη μεγαλύτερη πόλη της χώρας
3,Πάτρα,167446,Σημαντικό λιμάνι της δυτικής Ελλάδας
4,Ηράκλειο,173993,Η μεγαλύτερη πόλη της Κρήτης
"""

CASES = [
    pytest.param(RUSSIAN, "cp1251", id="cp1251-russian"),
    pytest.param(JAPANESE, "shift_jis", id="shift-jis-japanese"),
    pytest.param(TRADITIONAL_CHINESE, "big5", id="big5-traditional-chinese"),
    pytest.param(KOREAN, "euc-kr", id="euc-kr-korean"),
    pytest.param(GREEK, "cp1253", id="cp1253-greek"),
    pytest.param(GREEK, "iso-8859-7", id="iso-8859-7-greek"),
]


@pytest.mark.parametrize(("text", "encoding"), CASES)
def test_the_encoding_is_detected_so_the_text_reads_back_unchanged(text: str, encoding: str):
    raw = text.encode(encoding)
    detected, guessed = detect_encoding(raw, at_eof=True)
    assert guessed
    assert raw.decode(detected) == text


@pytest.mark.parametrize(("text", "encoding"), CASES)
def test_a_file_in_the_encoding_imports_with_its_own_letters(tmp_path: Path, run_import, text: str, encoding: str):
    path = tmp_path / "cities.csv"
    path.write_bytes(text.encode(encoding))
    result = run_import(path)
    header, *lines = [line.split(",") for line in text.strip().splitlines()]
    assert [c.name for c in result.columns] == header
    assert [[str(value) for value in row.values()] for row in rows_of(result)] == lines


def test_the_preview_names_the_detected_encoding(tmp_path: Path, limits: ImportLimits):
    path = tmp_path / "cities.csv"
    path.write_bytes(KOREAN.encode("euc-kr"))
    shown = preview(path, "cities.csv", ImportConfig(), limits)
    assert shown.encoding in ("euc-kr", "cp949")
    assert shown.rows[0][1] == "서울"
    assert shown.config.encoding == shown.encoding


def test_the_detected_encodings_can_be_named_in_a_config():
    for name in ("cp1251", "Shift_JIS", "big5", "EUC-KR", "cp1253", "ISO-8859-7", "cp932", "cp949"):
        assert ImportConfig(encoding=name).validate().encoding == name


def test_line_ends_become_lf_even_where_a_chunk_ends_between_cr_and_lf(tmp_path: Path):
    head = "x" * (CHUNK_BYTES - 1)  # the first chunk ends with the CR of a CRLF
    source = tmp_path / "mixed.csv"
    source.write_bytes(f"{head}\r\nb\rc\r\n".encode())
    target = tmp_path / "out.csv"
    transcode_to_utf8(source, target, "utf-8", lenient=False, line_ends="\r")
    assert target.read_bytes() == f"{head}\nb\nc\n".encode()


@pytest.mark.parametrize(("bom", "codec"), [(b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")])
def test_excel_unicode_text_with_either_byte_order_mark_imports(tmp_path: Path, run_import, bom: bytes, codec: str):
    # given Excel's "Unicode Text" export (UTF-16, tabs, CRLF), little- or big-endian with its byte order mark
    text = "姓名\t金额\r\n张三\t12.5\r\n李四\t3\r\n"
    path = tmp_path / "unicode.txt"
    path.write_bytes(bom + text.encode(codec))
    # when it is imported (the preview already read it; DuckDB's own utf-16 is little-endian only)
    result = run_import(path)
    # then every row is there with its letters and numbers
    assert rows_of(result) == [{"姓名": "张三", "金额": 12.5}, {"姓名": "李四", "金额": 3.0}]


#: A UTF-8 byte order mark before GBK text, as an export script writes it to make Excel read "UTF-8".
BOM_GBK_CSV = "日期,客户,金额\n2024-01-05,华为,100\n2024-01-06,小米,200\n"


@pytest.mark.parametrize(
    ("name", "text"),
    [("客户.csv", BOM_GBK_CSV), ("客户.json", '[{"客户": "华为", "金额": 100}, {"客户": "小米", "金额": 200}]')],
)
def test_a_utf8_bom_before_gbk_text_is_read_as_gbk(
    tmp_path: Path, limits: ImportLimits, run_import, name: str, text: str
) -> None:
    """Read as UTF-8 (the BOM says so) every Chinese character was a replacement character in the preview, and the
    CSV import failed with DuckDB's 'Sniffer detected value different than the user input for the Header options'."""
    path = tmp_path / name
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("gbk"))
    shown = preview(path, name, ImportConfig(), limits)
    assert [c.name for c in shown.columns][-2:] == ["客户", "金额"]
    assert shown.config.encoding == "gb18030-sig"
    assert "encoding guessed as gb18030-sig" in shown.warnings
    result = run_import(path)
    assert [(r["客户"], r["金额"]) for r in rows_of(result)] == [("华为", 100), ("小米", 200)]
    again = run_import(path, **{"encoding": "gb18030-sig", "format": shown.config.format})  # the effective config
    assert rows_of(again) == rows_of(result)


def test_a_utf8_bom_before_utf8_text_stays_utf8() -> None:
    assert detect_encoding(b"\xef\xbb\xbf" + BOM_GBK_CSV.encode("utf-8"), at_eof=True) == ("utf-8-sig", False)
