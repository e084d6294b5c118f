"""A preview's warnings and suggestion reasons carry stable codes with typed parameters (app.ingest.notices), the
English text unchanged: a console words them in its language from the code, and falls back to the text."""

from __future__ import annotations

import re
from pathlib import Path

import msgspec

from app.ingest import ImportConfig, ImportLimits, preview
from app.ingest.notices import CODES, KINDS, ImportNotice, Other, note, notice_of
from app.ingest.notices.columns import RepeatedHeaderRows
from tests.messy_workbook import DATA_SHEET, write_messy_workbook


def test_a_messy_workbooks_suggestions_say_why_as_codes_with_parameters(tmp_path: Path, limits: ImportLimits):
    shown = preview(write_messy_workbook(tmp_path / "export.xlsx"), "export.xlsx", ImportConfig(), limits)
    why = {s.field: msgspec.to_builtins(s.notice) for s in shown.suggestions}
    assert why["skip_footer"]["code"] == "totals_row"
    assert why["skip_footer"]["label"] == "合计"
    assert why["sheet"]["code"] == "largest_sheet"
    assert why["sheet"]["sheet"]["name"] == DATA_SHEET
    assert why["sheet"]["others"] == [{"name": "说明", "rows": 1, "columns": 1, "hidden": False}]
    assert why["header_row"]["code"] == "header_below_titles"
    assert why["header_row"]["row"] == 3
    assert why["header_row"]["titles"][0]["kind"] == "merged"
    assert why["null_values"]["code"] == "null_placeholders"
    assert {c["column"]: c["tokens"] for c in why["null_values"]["columns"]} == {"数量": ["N/A"]}
    # the English reason is what it was, and is the notice's message
    for suggestion in shown.suggestions:
        assert type(suggestion.reason) is str
        assert suggestion.notice is not None
        assert suggestion.notice.message == suggestion.reason


def test_a_csvs_warnings_are_coded_in_order_with_their_text(tmp_path: Path, limits: ImportLimits):
    part = "订单号,金额,,金额\n" + "".join(f"{i},{i}.5,x,{i}\n" for i in range(10))
    path = tmp_path / "joined.csv"
    path.write_bytes((part * 3).encode("gb18030"))
    shown = preview(path, "joined.csv", ImportConfig(), limits)
    assert [n.message for n in shown.notices] == shown.warnings
    assert all(type(w) is str for w in shown.warnings)  # plain text: msgspec encodes it
    coded = {msgspec.to_builtins(n)["code"]: msgspec.to_builtins(n) for n in shown.notices}
    assert {"encoding_guessed", "empty_header", "duplicate_column", "repeated_header_rows"} <= set(coded)
    assert coded["repeated_header_rows"]["rows"] == [11, 22]
    assert coded["repeated_header_rows"]["count"] == 2
    assert coded["empty_header"] == {
        "code": "empty_header",
        "column": 3,
        "name": "column_3",
        "message": ("column 3 has an empty header; named it column_3"),
    }
    assert "other" not in coded


def test_an_import_keeps_its_warnings_as_text_and_their_codes_beside(tmp_path: Path, run_import):
    path = tmp_path / "blank.csv"
    path.write_text("a,,b\n1,2,3\n", encoding="utf-8")
    result = run_import(path)
    assert result.warnings == ["column 2 has an empty header; named it column_2"]
    assert [msgspec.to_builtins(n)["code"] for n in result.notices] == ["empty_header"]


def test_a_notice_is_encoded_and_decoded_by_its_code() -> None:
    sent = notice_of(note(RepeatedHeaderRows(count=7, rows=[3, 9, 12, 15, 20], sample_rows=20480)))
    data = msgspec.json.encode(sent)
    back = msgspec.json.decode(data, type=ImportNotice)
    assert back == sent
    assert b'"code":"repeated_header_rows"' in data
    assert "(data rows 3, 9, 12, 15, 20, … of the first 20480)" in back.message


def test_a_warning_built_without_a_code_reads_as_other_with_its_text() -> None:
    assert notice_of("something new") == Other(message="something new")


def test_the_codes_are_unique_snake_case_and_each_kind_words_its_own_text() -> None:
    assert len(set(CODES)) == len(CODES) == len(KINDS)
    assert all(code.replace("_", "").isalpha() and code.islower() for code in CODES)


def test_no_reader_builds_a_warning_or_a_reason_from_bare_text() -> None:
    """A warning or a suggestion's reason written as a plain string reads as `other`: English in every language.
    Each is built as a notice (note(Kind(...))); this catches a new one written as text."""
    root = Path(__file__).resolve().parents[3] / "app" / "ingest"
    bare = re.compile(r"""(warnings?\.append\(|warnings \+= \[|warnings = \[|reason=)\s*f?["']""")
    found = [
        f"{path.name}:{number}"
        for path in sorted(root.glob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if bare.search(line)
    ]
    assert found == []


def test_a_visible_sheet_chosen_over_a_larger_hidden_one_says_so(tmp_path: Path, limits: ImportLimits):
    """The hidden sheet is larger: the reason must not call the visible one "the largest table"."""
    import openpyxl

    book = openpyxl.Workbook()
    shown_sheet = book.active
    assert shown_sheet is not None
    shown_sheet.title = "可见"
    for i in range(20):
        shown_sheet.append([i, f"x{i}", i * 2] if i else ["a", "b", "c"])
    hidden = book.create_sheet("隐藏")
    for i in range(499):
        hidden.append([i, i] if i else ["k", "v"])
    hidden.sheet_state = "hidden"
    path = tmp_path / "hidden.xlsx"
    book.save(path)
    shown = preview(path, "hidden.xlsx", ImportConfig(), limits)
    (sheet,) = [s for s in shown.suggestions if s.field == "sheet"]
    assert sheet.value == "可见"
    assert sheet.reason == (
        "sheet '可见' holds the largest table of the visible sheets (20 rows x 3 columns); "
        "the others: '隐藏' (hidden, 499 rows x 2 columns)"
    )
    assert msgspec.to_builtins(sheet.notice)["others"] == [{"name": "隐藏", "rows": 499, "columns": 2, "hidden": True}]
