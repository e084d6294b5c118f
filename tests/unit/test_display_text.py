"""The one rule for text people read (app/core/display_text.py): what it accepts, refuses and normalises."""

from __future__ import annotations

import msgspec
import pytest

from app.core import display_text
from app.core.errors import InvalidInput

#: "Sales" in Arabic, written as escapes (the letters look like Latin ones to a linter).
ARABIC = "\u0645\u0628\u064a\u0639\u0627\u062a"

ACCEPTED = [
    ("中文名称", "中文名称"),
    ("销售数据 2024", "销售数据 2024"),
    ("📊 sales", "📊 sales"),
    ("👨\u200d👩\u200d👧 family", "👨\u200d👩\u200d👧 family"),  # ZWJ sequence kept whole
    ("❤\ufe0f", "❤\ufe0f"),  # a variation selector at the end is kept
    ("e\u0301te\u0301", "été"),  # NFC
    (ARABIC, ARABIC),
    ("שלום עולם", "שלום עולם"),  # Hebrew
    (f"\u200f{ARABIC} 2024", f"\u200f{ARABIC} 2024"),  # an RLM mark is normal in RTL text
    ("  padded\u3000 ", "padded"),  # trimmed, ideographic space too
    ("\u200bzero-width edges\u200b", "zero-width edges"),
    ("a\u0308", "ä"),
    ("\U0001f600", "\U0001f600"),
]

REFUSED = [
    ("", "is blank"),
    ("   ", "is blank"),
    ("\u200b\u200b", "is blank"),
    ("\u3164", "is blank"),  # Hangul filler
    ("\u2800", "is blank"),  # braille blank
    ("\U000e0041", "is blank"),  # a tag character alone
    ("a\nb", "tab or line break (U+000A)"),
    ("a\tb", "tab or line break (U+0009)"),
    ("a\x07b", "control character (U+0007)"),
    ("a\x85b", "tab or line break (U+0085)"),
    ("a\x9bb", "control character (U+009B)"),
    ("invoice\u202etxt.exe", "bidi override or isolate (U+202E)"),
    ("a\u2066b", "bidi override or isolate (U+2066)"),
    ("a\u2028b", "line or paragraph separator (U+2028)"),
    ("a\u2029b", "line or paragraph separator (U+2029)"),
    ("\ufeffname", "byte order mark"),
    ("a\ufdd0", "noncharacter (U+FDD0)"),
    ("a\uffff", "noncharacter (U+FFFF)"),
    ("a\U0001fffe", "noncharacter (U+1FFFE)"),
    ("a\U0010ffff", "noncharacter (U+10FFFF)"),
    ("a\ud800", "lone surrogate (U+D800)"),
]


@pytest.mark.parametrize(("given", "stored"), ACCEPTED)
def test_a_name_people_write_is_accepted_and_normalised(given: str, stored: str) -> None:
    assert display_text.clean(given, "name") == stored
    assert msgspec.convert(given, display_text.one_line(200)) == given  # the schema pattern agrees


@pytest.mark.parametrize(("given", "reason"), REFUSED)
def test_a_name_that_misleads_or_shows_nothing_is_refused_naming_the_field(given: str, reason: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        display_text.clean(given, "name")
    assert caught.value.code == ("invalid_character" if "\ud800" in given else "validation_failed")
    assert caught.value.errors[0]["field"] == "name"
    assert reason in caught.value.errors[0]["message"]


@pytest.mark.parametrize("given", [g for g, _ in REFUSED if ord(max(g or "a")) <= 0xFFFF and "\ud800" not in g])
def test_the_schema_pattern_refuses_what_the_rule_refuses_in_the_bmp(given: str) -> None:
    with pytest.raises(msgspec.ValidationError) as caught:
        msgspec.convert(given, display_text.one_line(200))
    assert display_text.pattern_message(str(caught.value)) == display_text.RULES["one_line"]


def test_multi_line_text_keeps_newlines_and_tabs_but_not_other_controls() -> None:
    assert display_text.clean("line 1\r\n\tline 2\rline 3\n", "description", "multi_line") == "line 1\n\tline 2\nline 3"
    assert display_text.clean("", "description", "multi_line") == ""
    assert display_text.clean("   ", "description", "multi_line") == ""
    for bad in ("a\x00b", "a\x1bb", "a\u202eb", "a\u2028b", "\ufeffa"):
        with pytest.raises(InvalidInput):
            display_text.clean(bad, "description", "multi_line")


def test_an_optional_name_may_be_empty_but_not_blank() -> None:
    assert display_text.clean("", "display_name", "optional_one_line") == ""
    with pytest.raises(InvalidInput, match="blank"):
        display_text.clean("  \u200b ", "display_name", "optional_one_line")


class _Spec(display_text.Normalised, kw_only=True):
    name: display_text.one_line(200)  # type: ignore[valid-type]
    description: display_text.multi_line(100) | None = None  # type: ignore[valid-type]
    other: str = ""


def test_a_normalised_struct_stores_the_nfc_trimmed_value_and_leaves_other_fields() -> None:
    spec = msgspec.json.decode(b'{"name": " e\\u0301 ", "description": "a\\r\\nb", "other": " x "}', type=_Spec)
    assert (spec.name, spec.description, spec.other) == ("é", "a\nb", " x ")
    assert msgspec.convert({"name": "é"}, _Spec).name == spec.name  # the two spellings are one name


def test_a_normalised_struct_refuses_what_no_portable_pattern_says_naming_the_field() -> None:
    with pytest.raises(msgspec.ValidationError) as caught:
        msgspec.convert({"name": "a\U0001fffe"}, _Spec)
    found = display_text.FIELD_MESSAGE.match(str(caught.value).removesuffix(" - at `$`"))
    assert found is not None
    assert found["field"] == "name"
    assert "noncharacter (U+1FFFE)" in found["reason"]


def test_a_dataset_name_also_refuses_slashes_in_words() -> None:
    name = display_text.one_line(200, also_refused="/\\")
    with pytest.raises(msgspec.ValidationError) as caught:
        msgspec.convert("a/b", name)
    assert "nor / or \\" in (display_text.pattern_message(str(caught.value)) or "")
    assert msgspec.convert("报表 2024", name) == "报表 2024"


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("C:\\Users\\me\\销售.xlsx", "销售.xlsx"),
        ("dir/.hidden.csv", "hidden.csv"),
        ("", "upload"),
        (" data .csv ", "data .csv"),
        ("x" * 300 + ".xlsx", "x" * 195 + ".xlsx"),
    ],
)
def test_a_file_name_is_its_base_name_under_the_rule(given: str, stored: str) -> None:
    assert display_text.file_name(given, "file") == stored


@pytest.mark.parametrize("given", ["evil\u202eslx.csv", "a\nb.csv", "dir/   ", "\u200b.csv\u2028"])
def test_a_file_name_with_a_newline_or_bidi_override_is_refused(given: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        display_text.file_name(given, "file")
    assert caught.value.errors[0]["field"] == "file"


def test_scrubbed_text_holds_no_refused_character() -> None:
    assert display_text.scrubbed("a\nb\u202ec.csv") == "a_b_c.csv"
    assert display_text.scrubbed("中文.csv") == "中文.csv"


@pytest.mark.parametrize("given", ["a\x00b", "a\ud800"])
def test_text_postgres_cannot_store_keeps_its_own_code(given: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        display_text.clean(given, "description", "multi_line")
    assert caught.value.code == "invalid_character"
