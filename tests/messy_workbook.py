"""A real-world-style export, built with openpyxl: a note sheet first, then a data sheet with a merged title,
a blank row, the header on row 3, an "N/A" in a number column, blank cells, a formula column (with its cached
values, as Excel saves them) and a 合计 totals row whose numbers are the column sums."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import zipfile
from pathlib import Path
from typing import Any

HEADER = ["日期", "产品", "数量", "金额", "含税金额"]
#: (日期, 产品, 数量, 金额); 含税金额 is a formula =ROUND(金额*1.13, 2), blank where 金额 is blank.
DATA: list[tuple[dt.date, str | None, int | str, float | None]] = [
    (dt.date(2024, 1, 5), "苹果", 12, 60.5),
    (dt.date(2024, 1, 9), "香蕉", 30, 45.25),
    (dt.date(2024, 1, 17), "橙子", "N/A", 88.0),
    (dt.date(2024, 2, 2), None, 7, 21.75),
    (dt.date(2024, 2, 14), "葡萄", 15, None),
    (dt.date(2024, 2, 28), "西瓜", 3, 99.9),
    (dt.date(2024, 3, 3), "苹果", 20, 100.5),
    (dt.date(2024, 3, 18), "梨", 11, 33.0),
]
FIRST_DATA_ROW = 4
TOTALS_ROW = FIRST_DATA_ROW + len(DATA)
DATA_SHEET = "销售明细"


def taxed(amount: float | None) -> float | None:
    return None if amount is None else round(amount * 1.13, 2)


def expected_rows() -> list[dict[str, Any]]:
    """The data rows an import with the suggested configuration must give, typed."""
    return [
        {"日期": day, "产品": product, "数量": None if qty == "N/A" else qty, "金额": amount, "含税金额": taxed(amount)}
        for day, product, qty, amount in DATA
    ]


def write_messy_workbook(path: Path) -> Path:
    """The workbook at `path`; formula cells get the values Excel would have cached."""
    import openpyxl

    book = openpyxl.Workbook()
    note = book.active
    note.title = "说明"
    note.append(["本文件由销售系统导出 数据截至2024年3月31日"])
    sheet = book.create_sheet(DATA_SHEET)
    sheet.append(["2024年第一季度销售明细"])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(HEADER))
    sheet.append([])
    sheet.append(HEADER)
    cached: dict[str, float] = {}
    for number, (day, product, qty, amount) in enumerate(DATA, start=FIRST_DATA_ROW):
        formula = f"=ROUND(D{number}*1.13,2)" if amount is not None else None
        sheet.append([day, product, qty, amount, formula])
        sheet.cell(number, 1).number_format = "yyyy-mm-dd"
        if formula:
            cached[f"E{number}"] = taxed(amount)  # type: ignore[assignment]
    last = TOTALS_ROW - 1
    sheet.append(["合计", None, *(f"=SUM({c}{FIRST_DATA_ROW}:{c}{last})" for c in "CDE")])
    cached[f"C{TOTALS_ROW}"] = sum(q for _, _, q, _ in DATA if isinstance(q, int))
    cached[f"D{TOTALS_ROW}"] = sum(a for _, _, _, a in DATA if a is not None)
    cached[f"E{TOTALS_ROW}"] = sum(t for _, _, _, a in DATA if (t := taxed(a)) is not None)
    book.save(path)
    _cache_formula_values(path, "xl/worksheets/sheet2.xml", cached)
    return path


def _cache_formula_values(path: Path, member: str, values: dict[str, float]) -> None:
    """Write each formula's value into its cell (openpyxl saves formulas without one; Excel saves both)."""
    copy = path.with_suffix(".tmp")
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(copy, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == member:
                text = data.decode()
                for ref, value in values.items():
                    cell = re.compile(rf'(<c r="{ref}"[^>]*>\s*<f>[^<]*</f>)\s*(<v\s*/>|<v></v>)?')
                    text, count = cell.subn(lambda m, v=value: f"{m[1]}<v>{v!r}</v>", text)
                    assert count == 1, ref
                data = text.encode()
            target.writestr(item, data)
    shutil.move(copy, path)
