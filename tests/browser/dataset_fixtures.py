"""Small files for the data center's browser spec (datasets.spec.ts), written fresh for each run.

`write(folder)` writes them and returns a manifest (paths, expected figures, SHA-256) that
test_console.py hands to Playwright as DATASET_FIXTURES (the manifest's path).
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, timedelta
from pathlib import Path

from openpyxl import Workbook
from openpyxl.worksheet.worksheet import Worksheet

#: The data rows of the workbook's second sheet, below a merged title row and a blank row.
CITIES = [("北京", 21, date(2026, 1, 1)), ("上海", 24, date(2026, 1, 2)), ("广州", 18, date(2026, 1, 3))]
CITIES += [("深圳", 17, date(2026, 1, 4)), ("杭州", 12, date(2026, 1, 5))]


def _first_sheet(book: Workbook, title: str) -> Worksheet:
    sheet = book.active
    assert isinstance(sheet, Worksheet)
    sheet.title = title
    return sheet


def _workbook(path: Path) -> None:
    book = Workbook()
    notes = _first_sheet(book, "Notes")
    notes.append(["This workbook's data is on the second sheet"])
    sheet = book.create_sheet("数据")
    sheet.append(["2026 城市人口报表"])
    sheet.merge_cells("A1:C1")  # the merged title row the header sits below
    sheet.append([])
    sheet.append(["城市", "人数", "日期"])
    for row in CITIES:
        sheet.append(list(row))
    book.save(path)


#: The messy export's data rows: dates as text written three ways, amounts with full-width digits, below a two-row
#: merged header.
MESSY = [
    ("2026年1月5日", "上海南京路店", "\uff11\uff12"),  # 12 in full-width digits
    ("2026/01/06", "杭州西湖店", 8),
    ("20260107", "南京新街口店", "\uff12\uff10"),  # 20
]


def _messy(path: Path) -> None:
    """A Chinese report export: a merged title, a header whose 销售 spans two columns, a 合计 row at the bottom."""
    book = Workbook()
    sheet = _first_sheet(book, "销售明细")
    sheet.append(["2026年第一季度 华东区 销售报表"])
    sheet.merge_cells("A1:D1")
    sheet.append(["日期", "门店", "销售", None])
    sheet.merge_cells("C2:D2")
    sheet.append([None, None, "数量", "备注"])
    sheet.merge_cells("A2:A3")
    sheet.merge_cells("B2:B3")
    for day, shop, count in MESSY:
        sheet.append([day, shop, count, "正常"])
    sheet.append(["合计", None, 40, None])
    book.save(path)


def _gb18030(path: Path) -> None:
    lines = ["名称,数量,备注", "苹果,3,红色", "香蕉,5,黄色", "葡萄,8,紫色", "橙子,2,橙色"]
    path.write_bytes(("\n".join(lines) + "\n").encode("gb18030"))


def _large(path: Path) -> None:
    """~600 KB of CSV: sent in 64 KB chunks by the spec, so a reload lands mid-way."""
    start = date(2026, 1, 1)
    rows = [f"{i},item-{i:06d},{(start + timedelta(days=i % 365)).isoformat()},{i * 7 % 1000}" for i in range(14_000)]
    path.write_text("id,label,day,amount\n" + "\n".join(rows) + "\n", encoding="utf-8")


def _bad_cell(path: Path) -> None:
    path.write_text("name,amount\nalice,1\nbob,2\ncarol,three\ndave,4\n", encoding="utf-8")


def _long_cell(path: Path) -> None:
    """A cell of 12,000 characters: the rows API gives its first 10,000 and lists it in `truncated`."""
    path.write_text("id,note\n1," + "长" * 12_000 + "\n2,short\n", encoding="utf-8")


def write(folder: Path) -> Path:
    """Writes the files and their manifest into `folder`; the manifest's path."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        "xlsx": folder / "cities-report.xlsx",
        "gb18030": folder / "fruit-gb18030.csv",
        "large": folder / "large-upload.csv",
        "bad": folder / "bad-cell.csv",
        "long": folder / "long-cell.csv",
        "messy": folder / "华东销售报表.xlsx",
    }
    _workbook(files["xlsx"])
    _gb18030(files["gb18030"])
    _large(files["large"])
    _bad_cell(files["bad"])
    _long_cell(files["long"])
    _messy(files["messy"])
    manifest = {
        **{k: str(p) for k, p in files.items()},
        "xlsx_rows": len(CITIES),
        "messy_rows": len(MESSY),
        "large_rows": 14_000,
        "large_size": files["large"].stat().st_size,
        "large_sha256": hashlib.sha256(files["large"].read_bytes()).hexdigest(),
    }
    path = folder / "manifest.json"
    path.write_text(json.dumps(manifest, ensure_ascii=False, indent=2))
    return path
