"""A workbook preview runs in the API process: its work per sampled cell is done in C, not one Python call per
cell, and what it found out about a sheet once (nothing to cut) is not found out again on the next preview.

Counted, not timed: the CPU figures are bench.api_cost's.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import msgspec
import pytest

from app.ingest import ImportConfig, ImportLimits, columns, excel_reader, preview, suggest, xlsx_head
from app.ingest.errors import LimitExceeded
from app.ingest.number_separators import thousands_separator
from app.ingest.shape import null_tokens
from app.ingest.xml_text_cap import TextCap
from tests.unit.ingest.conftest import write_xlsx
from tests.workbook_files import ods_workbook

preview_module = sys.modules["app.ingest.preview_workbook"]


class Counted(str):
    """A text cell that counts how often it is stripped (each look at it as text does)."""

    looks = 0

    def strip(self, chars: str | None = None) -> str:
        Counted.looks += 1
        return str.strip(self, chars)


def wide(rows: int, width: int) -> list[list[Any]]:
    return [[f"c{c}" for c in range(width)]] + [
        [f"r{r}c{c}" if c % 2 else r * c for c in range(width)] for r in range(rows)
    ]


def test_type_inference_looks_at_each_cells_type_in_c(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Given a sheet of text and whole-number columns, when it is previewed, then no cell is typed one Python call
    at a time (a 1000 x 1000 sheet of text cost seconds so), and the types are still text and integer."""
    path = write_xlsx(tmp_path / "wide.xlsx", {"Data": wide(1100, 20)})
    calls = 0
    real = columns.value_kind

    def counting(value: Any) -> str | None:
        nonlocal calls
        calls += 1
        return real(value)

    monkeypatch.setattr(columns, "value_kind", counting)
    shown = preview(str(path), path.name, ImportConfig(), ImportLimits())
    assert [c.type for c in shown.columns[:4]] == ["integer", "string", "integer", "string"]
    assert calls == 0


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([1, 2.0, None, ""], ("integer", False)),
        ([1, 2.5], ("float", False)),
        (["", None], ("string", False)),
        (["a", 1], ("string", True)),
        ([True, False], ("boolean", False)),
        ([2.0**53, 1], ("float", False)),
    ],
)
def test_types_found_in_c_are_the_types_found_cell_by_cell(values: list[Any], expected: tuple[str, bool]) -> None:
    assert columns.infer_type(values) == expected
    assert columns.sample_kinds(values) == {k for v in values if (k := columns.value_kind(v)) is not None}


def test_suggestions_stop_at_a_columns_first_word() -> None:
    """Given columns of words, when null placeholders and thousands separators are looked for, then each column is
    given up at its first word, not read to its end."""
    cells = [[Counted(f"word {r} {c}") for r in range(1000)] for c in range(10)]
    Counted.looks = 0
    assert null_tokens([f"c{c}" for c in range(10)], cells) == ([], [])
    assert thousands_separator([(f"c{c}", values) for c, values in enumerate(cells)], ImportConfig()) is None
    assert Counted.looks <= 2 * 10


def test_amount_types_are_given_up_at_a_columns_first_word(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Given a sheet of text columns, one of them amounts (¥1,234.50), when it is previewed, then each column of
    words is read as amounts up to its first word only (every cell of a 1000 x 1000 sheet cost 1.8 CPU-s so), and the
    amounts are still suggested decimal."""
    rows = [["amount", *(f"c{c}" for c in range(20))]]
    rows += [[f"¥{r},234.5{r % 10}", *(f"r{r}c{c} text" for c in range(20))] for r in range(300)]
    path = write_xlsx(tmp_path / "words.xlsx", {"Data": rows})
    calls = 0
    real = suggest.plain_number

    def counting(text: str, config: ImportConfig) -> str | None:
        nonlocal calls
        calls += 1
        return real(text, config)

    monkeypatch.setattr(suggest, "plain_number", counting)
    shown = preview(str(path), path.name, ImportConfig(), ImportLimits())
    [typed] = [s for s in shown.suggestions if s.field == "columns"]
    assert typed.value["amount"].type == "decimal"
    assert typed.value["amount"].scale == 2
    assert set(typed.value) == {"amount"}
    assert calls <= 2 * (300 + 20)  # the amounts and one word of each other column, here and in thousands_separator


def test_placeholders_and_grouped_numbers_are_still_found() -> None:
    numbers: list[Any] = [1.5, 2.0, "-", 3.0, " N/A "]
    found, _ = null_tokens(["amount"], [numbers])
    assert sorted(found) == ["-", "N/A"]
    grouped = thousands_separator([("amount", ["1,234.50", "12", "", "3,000"])], ImportConfig())
    assert grouped is not None
    assert grouped.value == ","
    assert thousands_separator([("amount", ["1,234.50", "12 kg"])], ImportConfig()) is None


def test_a_sheet_with_nothing_to_cut_is_not_streamed_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Given an xlsx whose rows all fit the preview's cut, when the preview form asks again (a configuration
    change), then the sheet is not streamed again to find out there is nothing to cut."""
    monkeypatch.setattr(xlsx_head, "SMALL_SHEET_BYTES", 0)  # every sheet is a candidate for the cut
    path = write_xlsx(tmp_path / "small.xlsx", {"Data": wide(50, 5)})
    cache = tmp_path / "upload"
    cache.mkdir()
    first = preview(str(path), path.name, ImportConfig(), ImportLimits(), head_cache=cache)

    def streamed(*args: Any) -> Path | None:
        raise AssertionError("the sheet was streamed again")

    monkeypatch.setattr(preview_module, "sheet_head", streamed)
    again = preview(str(path), path.name, ImportConfig(), ImportLimits(), head_cache=cache)
    assert msgspec.to_builtins(again) == msgspec.to_builtins(first)
    shifted = preview(str(path), path.name, ImportConfig(skip_rows=2), ImportLimits(), head_cache=cache)
    assert shifted.rows[0][2] == 4  # two data rows skipped


@pytest.mark.parametrize("offset", range(0, 12))
def test_a_long_text_run_is_seen_wherever_it_starts(offset: int) -> None:
    """The quick check for a text run too long (one `find` per half its length) misses none."""
    cap = TextCap(10)
    for length in (10, 11, 25):
        data = b"<v>1</v>" * 3 + b"x" * offset + b"<t>" + b"y" * length + b"</t><v>2</v>"
        parts = data.split(b"<")
        assert cap._long_run(data) or max(map(len, parts)) <= 10
    assert cap._long_run(b"<v>" + b"z" * (offset + 11))


def test_a_preview_that_would_load_too_many_cells_is_refused_before_anything_is_cut(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given a sheet whose declared size puts a range's rows past the cells a preview loads, when that range is
    previewed, then it is 413 limit_exceeded at once (a range 900,000 rows down cost 15 CPU-s and 870 MB), and a
    range near the top still previews."""
    monkeypatch.setattr(xlsx_head, "SMALL_SHEET_BYTES", 0)
    monkeypatch.setattr(preview_module, "PREVIEW_MAX_CELLS", 2000 * 5)  # the cut keeps whole blocks of 1000 rows
    path = write_xlsx(tmp_path / "long.xlsx", {"Data": wide(3000, 5)})
    near = preview(str(path), path.name, ImportConfig(range="A1:E100"), ImportLimits())
    assert len(near.rows) == 99

    def cut(*args: Any) -> Path | None:
        raise AssertionError("the sheet was cut")

    monkeypatch.setattr(preview_module, "sheet_head", cut)
    with pytest.raises(LimitExceeded) as refused:
        preview(str(path), path.name, ImportConfig(range="A2900:E2950"), ImportLimits())
    assert refused.value.code == "limit_exceeded"
    assert "over the 10000 cells a preview reads" in refused.value.detail


def test_an_ods_within_the_whole_sheet_bound_previews_past_the_cut_sheets_bound(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An ods or xls cannot be cut, so a range is no way to preview it: its own bound (an .xls's 65,536 rows of 64
    columns) lets one bigger than an xlsx's cut previews; past it, the refusal says to save it in another format."""
    monkeypatch.setattr(preview_module, "PREVIEW_MAX_CELLS", 10)
    monkeypatch.setattr(preview_module, "WHOLE_SHEET_PREVIEW_MAX_CELLS", 40)
    path = ods_workbook(tmp_path / "book.ods", {"Data": wide(10, 3)})
    assert len(preview(str(path), path.name, ImportConfig(), ImportLimits()).rows) == 10
    monkeypatch.setattr(preview_module, "WHOLE_SHEET_PREVIEW_MAX_CELLS", 20)
    with pytest.raises(LimitExceeded) as refused:
        preview(str(path), path.name, ImportConfig(), ImportLimits())
    assert "save the sheet as xlsx or CSV to preview it, or import this ods as it is" in refused.value.detail
    assert "max_workbook_cells" not in refused.value.detail  # the import reads it: not the import's limit


def test_an_ods_too_big_to_preview_is_not_opened(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An ods (or xls) is read whole as it opens: its cells are counted against the preview's bound first."""
    monkeypatch.setattr(preview_module, "WHOLE_SHEET_PREVIEW_MAX_CELLS", 10)
    path = ods_workbook(tmp_path / "book.ods", {"Data": wide(10, 3)})
    opened = 0
    real = excel_reader.calamine.CalamineWorkbook.from_path

    def counting(*args: Any, **kwargs: Any) -> Any:
        nonlocal opened
        opened += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(excel_reader.calamine.CalamineWorkbook, "from_path", counting)
    with pytest.raises(LimitExceeded):
        preview(str(path), path.name, ImportConfig(), ImportLimits())
    assert opened == 0
