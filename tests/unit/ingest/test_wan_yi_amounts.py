"""Large amounts as Chinese reports and bank exports write them, in 万 (ten thousand) and 亿 (a hundred million):
1.2万, 3亿元, -0.5万. They kept their column text (a bank export's 收入 column beside 12,000.00); they are read as the
number they are, in SQL and Python, CSV and workbooks alike (app.ingest.money; the forms are in test_amount_forms),
and the preview suggests typing such a column, with the thousands separator its other amounts need."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from app.ingest import ImportConfig, ImportLimits
from app.ingest.preview import preview
from tests.unit.ingest.conftest import rows_of, write_xlsx

SCALED = {
    "1.2万": "12000",
    "3亿元": "300000000",
    "-0.5万": "-5000",
    "\uff11\uff0e\uff15万": "15000",
    "2,000万": "20000000",
}
NOT_SCALED = ["万", "1.2万万", "万1.2", "1.2千"]
#: The income column, its parentheses full-width as the export writes them.
INCOME_COLUMN = "收入\uff08元\uff09"
HEADER = ["交易日期", "摘要", INCOME_COLUMN, "余额"]
ROWS = [
    ["2024/01/05", "工资", "12,000.00", "15,000.00"],
    ["2024/01/06", "理财", "1.2万", "27,000.00"],
    ["2024/01/07", "融资", "0.3亿元", "30,027,000.00"],
]
INCOME = [Decimal("12000.00"), Decimal("12000.00"), Decimal("30000000.00")]


def _csv(path: Path) -> Path:
    lines = [",".join(HEADER), *(",".join(f'"{v}"' if "," in v else v for v in row) for row in ROWS)]
    path.write_bytes(("\n".join(lines) + "\n").encode("gb18030"))
    return path


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_a_bank_export_with_wan_amounts_imports_its_income_as_numbers_as_the_preview_suggests(
    tmp_path: Path, limits: ImportLimits, run_import, kind: str
) -> None:
    path = (
        _csv(tmp_path / "bank.csv") if kind == "csv" else write_xlsx(tmp_path / "bank.xlsx", {"流水": [HEADER, *ROWS]})
    )
    shown = preview(path, path.name, ImportConfig(), limits)
    suggested = shown.suggested_config
    assert suggested is not None
    assert suggested.columns is not None
    assert suggested.columns[INCOME_COLUMN].type == "decimal"
    assert suggested.thousands_separator == ","
    fields = {f: getattr(suggested, f) for f in ("columns", "thousands_separator", "encoding") if getattr(suggested, f)}
    result = run_import(path, **fields, on_error="strict")
    assert [r[INCOME_COLUMN] for r in rows_of(result)] == INCOME
