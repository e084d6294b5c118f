"""Column names that differ only in case or in how an accent is spelled: DuckDB's identifiers ignore case, so a
header `id,ID` failed the preview and the import with a Binder Error ("Duplicate named argument"), and `café`
beside `cafe` + U+0301 made two columns no one could tell apart. They are renamed like exact duplicates."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest

from app.ingest import ColumnSpec, ImportConfig, ImportLimits, preview
from app.ingest.errors import InvalidImportConfig
from tests.hostile_files import DOC_REL, NS, bare_workbook

HEADER = ["id", "ID", "Name", "name", "NAME", "caf\u00e9", "cafe\u0301"]
RENAMED = ["id", "ID_2", "Name", "name_2", "NAME_3", "caf\u00e9", "cafe\u0301_2"]


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
