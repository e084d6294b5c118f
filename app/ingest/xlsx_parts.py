"""Where an xlsx/xlsm package keeps each worksheet, and what size each declares: read from the zip, cheaply.

calamine finds a part by its name with ASCII case ignored and `\\` read as `/` (`xl/Workbook.xml`,
`xl/Worksheets/Sheet1.xml`, `xl\\workbook.bin`; an xlsb's parts too, all but its relationships), so `part` does too:
a workbook saved so had no sheets to the checks made before calamine reads one (its extent, its strings, its texts),
and each was skipped. Two members told apart only by case are refused (`case_twins`): which one calamine
reads depends on the zip's order.
"""

from __future__ import annotations

import re
import zipfile

from app.ingest.config import parse_range
from app.ingest.xlsx_extent import DIMENSION

_SHEET = re.compile(rb"<(?:\w+:)?sheet\b[^>]*?\br:id=\"([^\"]+)\"")
_REL = re.compile(rb"<Relationship\b[^>]*?>")
#: The workbook part, as Excel names it (calamine finds it with its case ignored: `part`).
WORKBOOK = "xl/workbook.xml"
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def xlsx_dimensions(path: str) -> list[tuple[int, int] | None]:
    """(rows, columns) of each worksheet from the first bytes of its XML, in workbook order; cheap."""
    try:
        with zipfile.ZipFile(path) as archive:
            return [_dimension(archive, member) for member in sheet_members(archive)]
    except (KeyError, zipfile.BadZipFile, OSError):
        return []


def xlsx_sheet_members(path: str) -> list[str | None]:
    """The zip member holding each worksheet's XML, in workbook order."""
    try:
        with zipfile.ZipFile(path) as archive:
            return sheet_members(archive)
    except (KeyError, zipfile.BadZipFile, OSError):
        return []


def folded(name: str) -> str:
    """A member's name as calamine's lookup sees it (its `build_zip_path_cache`): ASCII lower case, `\\` as `/`."""
    return name.replace("\\", "/").translate(_ASCII_LOWER)


def part(archive: zipfile.ZipFile, name: str) -> str | None:
    """The member calamine reads as the part `name`: its name equal but for ASCII case and `\\` (the first such)."""
    if name in archive.NameToInfo:
        return name
    wanted = folded(name)
    return next((member for member in archive.NameToInfo if folded(member) == wanted), None)


def case_twins(archive: zipfile.ZipFile) -> list[str]:
    """The members whose names another's equals but for ASCII case and `\\`."""
    seen: dict[str, list[str]] = {}
    for member in archive.NameToInfo:
        seen.setdefault(folded(member), []).append(member)
    return sorted(member for names in seen.values() if len(names) > 1 for member in names)


def sheet_members(archive: zipfile.ZipFile) -> list[str | None]:
    """The member of each worksheet in an open package, in workbook order (None: named but missing)."""
    book = archive.read(part(archive, WORKBOOK) or WORKBOOK)
    rels = archive.read(part(archive, "xl/_rels/workbook.xml.rels") or "xl/_rels/workbook.xml.rels")
    targets = {}
    for tag in _REL.findall(rels):
        rid, target = re.search(rb'Id="([^"]+)"', tag), re.search(rb'Target="([^"]+)"', tag)
        if rid and target:
            name = target[1].decode().lstrip("/")
            targets[rid[1]] = name if name.startswith("xl/") else f"xl/{name}"
    members = [targets.get(rid) for rid in _SHEET.findall(book)]
    return [part(archive, member) if member else None for member in members]


def _dimension(archive: zipfile.ZipFile, member: str | None) -> tuple[int, int] | None:
    """The `<dimension ref="A1:J100">` of one sheet as (rows, columns)."""
    if member is None:
        return None
    with archive.open(member) as handle:
        match = DIMENSION.search(handle.read(4096))
    if match is None:
        return None
    first = parse_range(f"{match[1].decode()}:{(match[2] or match[1]).decode()}")
    return first.last_row, first.last_col
