"""A JSON string typed as a number or a boolean reads as a CSV's or a workbook's text cell does: amounts as Chinese
bills and ERP exports write them (¥1,234.50, 20.00元, 12.5%, (300.00)) as numbers, 是/否 as booleans. Cast as they
were, every such value was a bad value (rejected, or failing a strict import) in JSON only."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from app.ingest import ImportConfig, ImportLimits
from app.ingest.config import ColumnSpec
from app.ingest.preview import preview
from tests.unit.ingest.conftest import rows_of

RECORDS = [
    {"单号": 1, "金额": "¥1,234.50", "费率": "12.5%", "已付": "是"},
    {"单号": 2, "金额": "20.00元", "费率": "0.5%", "已付": "否"},
    {"单号": 3, "金额": "(300.00)", "费率": "3%", "已付": "是"},
]
COLUMNS = {
    "金额": ColumnSpec(type="decimal", scale=2),
    "费率": ColumnSpec(type="decimal", scale=4),
    "已付": ColumnSpec(type="boolean"),
}
EXPECTED = [
    {"单号": 1, "金额": Decimal("1234.50"), "费率": Decimal("0.1250"), "已付": True},
    {"单号": 2, "金额": Decimal("20.00"), "费率": Decimal("0.0050"), "已付": False},
    {"单号": 3, "金额": Decimal("-300.00"), "费率": Decimal("0.0300"), "已付": True},
]


def test_json_amounts_percentages_and_chinese_flags_import_as_typed(
    tmp_path: Path, limits: ImportLimits, run_import
) -> None:
    path = tmp_path / "bills.json"
    path.write_text(json.dumps(RECORDS, ensure_ascii=False), encoding="utf-8")
    result = run_import(path, columns=COLUMNS, on_error="strict")
    assert rows_of(result) == EXPECTED
    shown = preview(path, path.name, ImportConfig(columns=COLUMNS), limits)
    assert shown.rows == [[1, "1234.50", "0.1250", True], [2, "20.00", "0.0050", False], [3, "-300.00", "0.0300", True]]
