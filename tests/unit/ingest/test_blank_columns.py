"""Trailing columns with no header and no value (`单号,金额,,,`, as Excel exports end a CSV's lines) are left out
with one notice, and the config the preview echoes leaves them out again."""

from __future__ import annotations

from pathlib import Path

from app.ingest import ImportConfig, ImportLimits
from app.ingest.preview import preview
from tests.unit.ingest.conftest import rows_of, write

TRAILING = "单号,金额,,,\nA1,10,,,\nA2,20,,,\n"


def test_trailing_blank_columns_are_left_out_with_one_notice_and_so_on_reimport(
    tmp_path: Path, limits: ImportLimits, run_import
):
    path = write(tmp_path / "export.csv", TRAILING)
    # when the preview reads it
    shown = preview(path, path.name, ImportConfig(), limits)
    # then the rows hold the two real columns, one notice says three were left out, and the config leaves them to
    # each read (a preview reads the head only)
    assert shown.rows == [["A1", 10], ["A2", 20]]
    said = [w for w in shown.warnings if "column" in w]
    assert said == ["left out 3 empty column(s) at the end, from column 3: no header and no value"]
    assert [(s, c.include) for s, c in shown.config.columns.items()] == [("单号", True), ("金额", True)]
    again = preview(path, path.name, shown.config, limits)
    assert again.rows == shown.rows
    assert [w for w in again.warnings if "column" in w] == said
    # and the import gives the same two columns, with the config or without it
    assert rows_of(run_import(path)) == [{"单号": "A1", "金额": 10}, {"单号": "A2", "金额": 20}]
    assert rows_of(run_import(path, columns=shown.config.columns)) == rows_of(run_import(path))


def test_a_blank_column_with_a_value_in_some_row_or_before_a_filled_one_is_kept(tmp_path: Path, limits: ImportLimits):
    path = write(tmp_path / "late.csv", "单号,金额,,,\nA1,10,,,\nA2,20,,x,\n")
    shown = preview(path, path.name, ImportConfig(), limits)
    # column 4 holds a value: it and the blank column before it stay; only column 5 is left out
    assert shown.rows == [["A1", 10, None, None], ["A2", 20, None, "x"]]
    assert shown.warnings[-1] == "left out 1 empty column(s) at the end, from column 5: no header and no value"
    assert sum("has an empty header" in w for w in shown.warnings) == 2


def test_a_value_past_what_the_preview_read_is_imported_with_the_previews_config(
    tmp_path: Path, limits: ImportLimits, run_import
):
    """The preview decides on the file's head: its config said `include: false` for a trailing column blank there,
    and the import sent with that config dropped the one value further down without a word."""
    path = tmp_path / "long.csv"
    path.write_text("单号,金额,\n" + "".join(f"{i},{i}.5,\n" for i in range(300_000)) + "9,1.5,LATE\n")
    shown = preview(path, path.name, ImportConfig(), limits)
    assert any("left out 1 empty column(s)" in w for w in shown.warnings)  # blank as far as the preview read
    rows = rows_of(run_import(path, columns=shown.config.columns))
    assert rows[-1] == {"单号": 9, "金额": 1.5, "column_3": "LATE"}
