"""An xlsx whose shared-strings table holds far more strings than its sheets use: calamine reads the whole table
as it opens the workbook, so a million one-character strings under a two-cell sheet cost every preview (in the API
process) a read of all of them, and each copy a preview opens another. Now the table is counted first and such a
workbook refused with limit_exceeded; a workbook whose strings its cells use still opens."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.ingest import ImportConfig, ImportLimits, preview, shared_strings_count
from app.ingest.errors import LimitExceeded
from tests.hostile_files import DOC_REL, NS, bare_workbook, xlsb_with_strings
from tests.unit.ingest.conftest import rows_of

SHEET_REL = f'<Relationship Id="rId1" Type="{DOC_REL}/worksheet" Target="worksheets/sheet1.xml"/>'


def with_strings(path: Path, strings: int, used: int, *, target: str | None = "sharedStrings.xml") -> Path:
    """A sheet whose column A uses the first `used` of `strings` one-character shared strings (under a header),
    the table at xl/sharedStrings.xml; `target`: where the workbook's relationships say it is."""
    rows = "".join(f'<row r="{i + 2}"><c r="A{i + 2}" t="s"><v>{i}</v></c></row>' for i in range(used))
    sheet = (
        f'<worksheet {NS}><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>letter</t></is></c></row>{rows}'
        "</sheetData></worksheet>"
    )
    table = f'<sst {NS} count="{strings}" uniqueCount="{strings}">' + "<si><t>a</t></si>" * strings + "</sst>"
    rels = SHEET_REL
    if target:
        rels += f'<Relationship Id="rId2" Type="{DOC_REL}/sharedStrings" Target="{target}"/>'
    parts = {"xl/worksheets/sheet1.xml": sheet, "xl/sharedStrings.xml": table}
    return bare_workbook(path, '<sheet name="S" sheetId="1" r:id="rId1"/>', rels, parts)


@pytest.fixture(autouse=True)
def _few_spare_strings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shared_strings_count, "SPARE_STRINGS", 100)


@pytest.mark.parametrize("target", ["sharedStrings.xml", "other.xml", None], ids=["named", "misnamed", "unnamed"])
def test_a_table_of_far_more_strings_than_the_sheets_use_is_refused(
    tmp_path: Path, limits: ImportLimits, run_import, target: str | None
):
    """calamine reads xl/sharedStrings.xml whatever the relationships name: that part is counted in any case."""
    path = with_strings(tmp_path / "strings.xlsx", 5000, 2, target=target)
    with pytest.raises(LimitExceeded, match="shared-strings table holds more than") as shown:
        preview(path, "strings.xlsx", ImportConfig(), limits)
    assert shown.value.code == "limit_exceeded"
    with pytest.raises(LimitExceeded, match="shared-strings table"):
        run_import(path)


def test_a_table_its_cells_use_still_opens(tmp_path: Path, limits: ImportLimits, run_import, monkeypatch):
    monkeypatch.setattr(shared_strings_count, "SPARE_STRINGS", 0)
    path = with_strings(tmp_path / "used.xlsx", 3000, 3000)
    assert preview(path, "used.xlsx", ImportConfig(), limits).rows[:2] == [["a"], ["a"]]
    assert len(rows_of(run_import(path))) == 3000


def test_a_table_over_max_workbook_cells_is_refused_whatever_the_sheets(tmp_path: Path, run_import):
    path = with_strings(tmp_path / "many.xlsx", 3000, 3000)
    with pytest.raises(LimitExceeded, match="shared-strings table holds more than 1000 strings"):
        run_import(path, job_limits=ImportLimits(max_workbook_cells=1000))


def test_an_xlsb_table_declaring_far_more_strings_than_its_sheets_use_is_refused(
    tmp_path: Path, limits: ImportLimits, run_import
):
    path = xlsb_with_strings(tmp_path / "strings.xlsb", 5000, 5000)
    with pytest.raises(LimitExceeded, match="shared-strings table holds more than"):
        preview(path, "strings.xlsb", ImportConfig(), limits)
    with pytest.raises(LimitExceeded, match="shared-strings table"):
        run_import(path)
    few = xlsb_with_strings(tmp_path / "few.xlsb", 50, 50)
    assert rows_of(run_import(few, header_row=0)) == [{"A": 1.5}]
