"""Column names that differ only in case or in how an accent is spelled: DuckDB's identifiers ignore case, so a
header `id,ID` failed the preview and the import with a Binder Error ("Duplicate named argument"), and `café`
beside `cafe` + U+0301 made two columns no one could tell apart. They are renamed like exact duplicates."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pyarrow.parquet as pq
import pytest

from app.ingest import ColumnSpec, ImportConfig, ImportLimits, preview
from app.ingest.errors import InvalidImportConfig
from tests.hostile_files import DOC_REL, NS, bare_workbook

HEADER = ["id", "ID", "Name", "name", "NAME", "caf\u00e9", "cafe\u0301"]
RENAMED = ["id", "ID_2", "Name", "name_2", "NAME_3", "caf\u00e9", "caf\u00e9_2"]  # names are NFC, as dataset names


def test_csv_headers_equal_but_for_case_or_accents_are_renamed_and_import(
    tmp_path: Path, limits: ImportLimits, run_import
):
    path = tmp_path / "people.csv"
    path.write_text(",".join(HEADER) + "\n1,2,3,4,5,6,7\n", encoding="utf-8")
    shown = preview(path, "people.csv", ImportConfig(), limits)
    assert [c.name for c in shown.columns] == RENAMED
    assert shown.rows == [[1, 2, 3, 4, 5, 6, 7]]
    assert "duplicate column name 'ID' (column 2); renamed it 'ID_2'" in shown.warnings
    table = pq.read_table(run_import(path).data_path)
    assert table.column_names == RENAMED
    assert table.to_pylist() == [dict(zip(RENAMED, range(1, 8), strict=True))]


def test_workbook_headers_equal_but_for_case_are_renamed(tmp_path: Path, limits: ImportLimits):
    cells = "".join(
        f'<c r="{col}1" t="inlineStr"><is><t>{name}</t></is></c>' for col, name in zip("AB", ["id", "ID"], strict=True)
    )
    path = bare_workbook(
        tmp_path / "ids.xlsx",
        '<sheet name="S" sheetId="1" r:id="rId1"/>',
        f'<Relationship Id="rId1" Type="{DOC_REL}/worksheet" Target="worksheets/sheet1.xml"/>',
        {
            "xl/worksheets/sheet1.xml": f'<worksheet {NS}><sheetData><row r="1">{cells}</row>'
            '<row r="2"><c r="A2"><v>1</v></c><c r="B2"><v>2</v></c></row></sheetData></worksheet>'
        },
    )
    shown = preview(path, "ids.xlsx", ImportConfig(), limits)
    assert [c.name for c in shown.columns] == ["id", "ID_2"]
    assert shown.rows == [[1, 2]]


def test_a_rename_onto_another_column_but_for_case_is_a_config_error(tmp_path: Path, limits: ImportLimits):
    path = tmp_path / "ab.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(InvalidImportConfig, match="two output columns would be named"):
        preview(path, "ab.csv", ImportConfig(columns={"b": ColumnSpec(name="A")}), limits)


SPOOFED = ["amount\u202e", "\u200bid\u200b", "id", "plain", "\u200b\u2066"]
CLEANED = ["amount", "id", "id_2", "plain", "column_5"]


def test_csv_headers_lose_bidi_overrides_and_zero_width_edges_with_a_warning(
    tmp_path: Path, limits: ImportLimits, run_import
):
    """A header kept U+202E and zero-width spaces: `id` + U+200B showed as a second `id`. Cleaned as a dataset name
    is (display_text.name_from_file), each warned naming the column and the characters."""
    path = tmp_path / "spoof.csv"
    path.write_text(",".join(f'"{name}"' for name in SPOOFED) + "\n1,2,3,4,5\n6,7,8,9,10\n", encoding="utf-8")
    shown = preview(path, "spoof.csv", ImportConfig(), limits)
    assert [c.name for c in shown.columns] == CLEANED
    assert shown.rows == [[1, 2, 3, 4, 5], [6, 7, 8, 9, 10]]
    codes = [(n["code"], n.get("column")) for n in msgspec.to_builtins(shown.notices)]
    assert [column for code, column in codes if code == "header_cleaned"] == [1, 2, 5]
    assert (
        "column 1's header held characters that make a name show unlike what it is (U+202E); left them out: "
        "named it 'amount'" in shown.warnings
    )
    assert any("(U+200B, U+2066)" in w for w in shown.warnings)
    assert pq.read_table(run_import(path).data_path).column_names == CLEANED


def test_json_keys_are_cleaned_as_headers_are(tmp_path: Path, limits: ImportLimits, run_import):
    path = tmp_path / "spoof.ndjson"
    path.write_text('{"amount\\u202e": 1, "note": {"\\u200bcity": "x"}, "Total\\r\\nAmount": 2}\n', encoding="utf-8")
    shown = preview(path, "spoof.ndjson", ImportConfig(), limits)
    cleaned = ["amount", "note.\u200bcity", "Total Amount"]  # a wrapped name is two words, nothing hidden
    assert [c.name for c in shown.columns] == cleaned
    assert [n["code"] for n in msgspec.to_builtins(shown.notices)].count(
        "header_cleaned"
    ) == 1  # the inner U+200B is no edge: kept
    assert pq.read_table(run_import(path).data_path).column_names == cleaned
