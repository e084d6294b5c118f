"""A preview of a big xlsx reads a copy cut after the rows it needs, and shows exactly what reading it whole shows."""

from __future__ import annotations

import re
import sys
import zipfile
from datetime import date
from pathlib import Path
from typing import Any

import msgspec
import pytest

from app.ingest import ImportConfig, ImportLimits, preview, xlsx_head
from tests.unit.ingest.conftest import write_xlsx

#: Where a preview looks up sheet_head (the cut workbook copies live in app.ingest.preview_workbook).
preview_module = sys.modules["app.ingest.preview_workbook"]


@pytest.fixture(autouse=True)
def cut_every_sheet(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cut sheets of any size, so small workbooks exercise the cut."""
    monkeypatch.setattr(xlsx_head, "SMALL_SHEET_BYTES", 0)


def table(rows: int, *, top: int = 0) -> list[list[Any]]:
    header = ["id", "region", "", "amount", "day"]
    body = [[i, f"r{i % 7}", f"c{i}", i * 1.5, date(2024, 1, 1 + i % 28)] for i in range(rows)]
    return [[None] * 5] * top + [header, *body]


def both(path: Path, monkeypatch: pytest.MonkeyPatch, **config: Any) -> tuple[dict, dict, list[Path]]:
    """(preview through the cut copy, preview of the whole sheet, the cut copies made)."""
    made: list[Path] = []
    real = preview_module.sheet_head

    def recording(*args: Any) -> Path | None:
        copy = real(*args)
        if copy is not None:
            made.append(Path(args[3]).stat().st_size and Path(args[3]))
        return copy

    monkeypatch.setattr(preview_module, "sheet_head", recording)
    cut = msgspec.to_builtins(preview(str(path), path.name, ImportConfig(**config), ImportLimits()))
    monkeypatch.setattr(preview_module, "sheet_head", lambda *args: None)
    whole = msgspec.to_builtins(preview(str(path), path.name, ImportConfig(**config), ImportLimits()))
    return cut, whole, made


def test_the_cut_copy_gives_the_same_preview_merged_header_included(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_xlsx(tmp_path / "big.xlsx", {"Data": table(3000)}, merge="B1:C1")
    cut, whole, made = both(path, monkeypatch)
    assert made, "the preview read a cut copy"
    assert cut == whole
    assert [c["name"] for c in cut["columns"]][:3] == ["id", "region", "region_2"]  # the merge, from the tail
    assert any("merged header" in w for w in cut["warnings"])
    assert cut["sheets"][0]["rows"] == 3001  # the sheet's size is the original's, not the copy's


def test_the_cut_copy_is_small_and_declares_the_rows_it_keeps(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "big.xlsx", {"Data": table(3000)})
    copy = xlsx_head.sheet_head(str(path), "xl/worksheets/sheet1.xml", 1200, tmp_path / "head.xlsx")
    assert copy is not None
    with zipfile.ZipFile(copy) as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml")
    assert b'r="1200"' in sheet
    assert b'r="1201"' not in sheet
    assert b'<dimension ref="A1:E1200"' in sheet
    assert sheet.rstrip().endswith(b"</worksheet>")


def test_data_starting_far_down_falls_back_to_the_whole_sheet(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_xlsx(tmp_path / "deep.xlsx", {"Data": table(1200, top=1500)})  # longer than the 2,000-row cut
    cut, whole, made = both(path, monkeypatch)
    assert made  # a copy was cut, found to start too late, and not used
    assert cut == whole


def test_a_range_and_a_header_row_further_down_are_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_xlsx(tmp_path / "big.xlsx", {"Data": table(4000)})
    cut, whole, _ = both(path, monkeypatch, range="A2001:E2400", header_row=2001)
    assert cut == whole
    assert cut["rows"][0][0] == 2000


def test_a_sheet_that_fits_is_not_copied(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "small.xlsx", {"Data": table(50)})
    assert xlsx_head.sheet_head(str(path), "xl/worksheets/sheet1.xml", 1200, tmp_path / "head.xlsx") is None


def test_a_head_cache_keeps_one_cut_copy_for_nearby_configurations(tmp_path: Path) -> None:
    """The preview form asks again on every change: the cut copy is made once and reused while it suffices."""
    path = write_xlsx(tmp_path / "big.xlsx", {"Data": table(3000)})
    cache = tmp_path / "upload"
    cache.mkdir()

    def run(**config: Any) -> dict:
        return msgspec.to_builtins(
            preview(str(path), path.name, ImportConfig(**config), ImportLimits(), head_cache=cache)
        )

    first = run()
    kept = sorted(cache.iterdir())
    assert [p.name.split("-")[1] for p in kept] == ["head", "sheets"]  # the cut copy and the sheet list
    assert kept[0].name.startswith("preview-head-0-2000-")
    stamps = [p.stat().st_mtime_ns for p in kept]
    shifted = run(skip_rows=10)
    assert sorted(cache.iterdir()) == kept  # no second copy, and no leftover partial file
    assert [p.stat().st_mtime_ns for p in kept] == stamps  # reused, not rewritten
    assert shifted["rows"][0][0] == 10  # the change is applied: ten data rows skipped
    assert first["rows"] == msgspec.to_builtins(preview(str(path), path.name, ImportConfig(), ImportLimits()))["rows"]
    run(range="A1500:E2900")  # from row 1500 the type sample needs rows up to 2552: a second, longer copy
    assert len(list(cache.glob("preview-head-*"))) == 2


def test_the_cut_copy_holds_only_the_strings_its_rows_use(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Opening a workbook reads its whole shared-strings table: the cut copy's has only what the kept rows use,
    and the preview still shows what reading the whole sheet shows."""
    path = shared_strings(write_xlsx(tmp_path / "big.xlsx", {"Data": table(3000)}))
    cut, whole, made = both(path, monkeypatch, skip_rows=3)
    assert made
    assert cut == whole
    head = xlsx_head.sheet_head(str(path), "xl/worksheets/sheet1.xml", 2000, tmp_path / "head.xlsx")
    assert head is not None
    with zipfile.ZipFile(path) as original, zipfile.ZipFile(head) as copy:
        before, after = (z.read("xl/sharedStrings.xml").count(b"<si>") for z in (original, copy))
    assert before == 4 + 7 + 3000  # the header's four, r0..r6, c0..c2999
    assert after == 4 + 7 + 1999  # the 2000 rows kept: their header and r0..r6, c0..c1998


def shared_strings(path: Path) -> Path:
    """The workbook with its inline strings moved to a shared-strings table, as Excel writes them."""
    with zipfile.ZipFile(path) as source:
        parts = {name: source.read(name) for name in source.namelist()}
    strings: dict[bytes, int] = {}
    parts["xl/worksheets/sheet1.xml"] = re.sub(
        rb' t="inlineStr"><is><t>(.*?)</t></is></c>',
        lambda m: b' t="s"><v>%d</v></c>' % strings.setdefault(m[1], len(strings)),
        parts["xl/worksheets/sheet1.xml"],
    )
    items = b"".join(b"<si><t>%s</t></si>" % text for text in strings)
    parts["xl/sharedStrings.xml"] = (
        b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="%d" uniqueCount="%d">%s</sst>'
        % (len(strings), len(strings), items)
    )
    parts["xl/_rels/workbook.xml.rels"] = parts["xl/_rels/workbook.xml.rels"].replace(
        b"</Relationships>",
        b'<Relationship Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" '
        b'Target="sharedStrings.xml" Id="rId99" /></Relationships>',
    )
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(
        b"</Types>",
        b'<Override PartName="/xl/sharedStrings.xml" '
        b'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for name, data in parts.items():
            target.writestr(name, data)
    return path
