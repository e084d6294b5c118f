"""An xlsx/xlsm number cell whose literal no double holds (`<v>1e-400</v>`, `<v>1e400</v>`): the CSV rule
(app.ingest.csv_range, app.ingest.number_range) for workbooks.

calamine parses such a literal as 0.0 or as an infinity: 1e-400 was imported as 0 with nothing said, 1e400 was a
bad row ("cannot read inf"), where the same literal in a CSV fails a strict import with number_out_of_range naming
row, column and value, and makes a lenient one read the column as text, every value as written, with a notice.

The cells are found in the pass that already streams the sheet's XML for formula error cells
(app.ingest.xlsx_errors.error_text_copy), at C speed (`number_range.may_hold_exponent` over each chunk, a regex
over a chunk it flags): no second read of the sheet. xls and xlsb store a number as its double, which cannot be
written 1e-400; an infinity or NaN stored so is found by app.ingest.sheet_nonfinite and goes through the same
rule; an ods keeps its literal in `office:value` (app.ingest.ods_range).
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Sequence
from typing import Any

import msgspec

from app.ingest.columns import Planned
from app.ingest.config import column_index
from app.ingest.excel_reader import ExcelPlan
from app.ingest.notices import note
from app.ingest.notices.columns import OutOfRangeAsText
from app.ingest.number_range import NumberOutOfRange, may_hold_exponent, number_out_of_range, out_of_range
from app.ingest.ods_range import ods_out_of_range
from app.ingest.xlsx_copy import CHUNK, HeldBack
from app.ingest.xlsx_parts import xlsx_sheet_members

#: A cell with its value (after a formula, if it has one): its attributes, and its value's text.
_CELL = re.compile(
    rb"<(?:[\w.-]+:)?c\b([^>]*?)(?<!/)>(?:<(?:[\w.-]+:)?f\b[^>]*?(?:/>|>[^<]*</(?:[\w.-]+:)?f>))?"
    rb"<(?:[\w.-]+:)?v>([^<]*)</(?:[\w.-]+:)?v>"
)
_REF = re.compile(rb"""\sr=["']([A-Z]{1,3})([0-9]+)["']""")
_TYPE = re.compile(rb"""\st=["']([\w]+)["']""")
#: Cells kept at most: a sheet of them is refused or read as text on the first few.
MAX_FOUND = 10_000
#: Bytes of a chunk's end and the next one's start looked at together: a literal cut between them is seen.
TAIL = 64
#: Bytes of a cell held at most: a number cell is far shorter; a text cell of 50 MB was held whole, then copied
#: with each chunk (a preview's peak memory +121 MiB).
MAX_CELL_BYTES = 64 << 10
#: Our types a number cell is read as.
NUMBER_TYPES = frozenset({"integer", "float", "decimal"})


class OutOfRangeCells(HeldBack):
    """Fed a sheet's XML in chunks (left unchanged), keeps its number cells whose literal no double holds, by
    (row, column), both from 1."""

    def __init__(self) -> None:
        self.found: dict[tuple[int, int], str] = {}

    @property
    def changed(self) -> bool:
        return False

    def feed(self, chunk: bytes) -> bytes:
        """Look at `chunk` after the ones fed before; the last cell it starts is held for the next (it may be cut).
        Only a chunk that may hold such a literal (or whose start with the last one's end may) is joined to what
        is held and searched: the rest costs one translate and two finds (app.ingest.number_range)."""
        last = max(chunk.rfind(b"<c "), chunk.rfind(b":c "), chunk.rfind(b"<c>"))
        if may_hold_exponent(chunk) or may_hold_exponent(self._held[-TAIL:] + chunk[:TAIL]):
            data = self._held + chunk
            cut = len(data) - len(chunk) + last if last >= 0 else len(data)
            self._edit(data[:cut])
            self._held = data[cut:]
        else:
            self._held = chunk[last:] if last >= 0 else self._held + chunk
        if len(self._held) > MAX_CELL_BYTES:  # a long text cell (a number's is short): nothing to hold for
            self._held = b""
        return chunk

    def _edit(self, data: bytes) -> bytes:
        if len(self.found) >= MAX_FOUND:
            return data
        for cell in _CELL.finditer(data):
            value = cell[2].strip()
            typed, ref = _TYPE.search(cell[1]), _REF.search(cell[1])
            if (typed is None or typed[1] == b"n") and ref is not None and out_of_range(value):
                self.found[(int(ref[2]), column_index(ref[1].decode()))] = value.decode()
        return data


#: A number column's first such literal: (row, value) by source column.
Found = dict[str, tuple[int, str]]


def by_column(plan: ExcelPlan, cells: dict[tuple[int, int], str]) -> Found:
    """The first of `cells` in each number column of `plan`'s data rows."""
    found: Found = {}
    columns = {plan.positions[p.index]: p for p in plan.columns if p.include and p.type in NUMBER_TYPES}
    last = plan.last_row if plan.limit is None else plan.first_data_row + plan.limit - 1
    for (row, column), value in sorted(cells.items()):
        p = columns.get(column)
        if p is None or row < plan.first_data_row or (last is not None and row > last) or p.source in found:
            continue
        found[p.source] = (row, value)
    return found


def refused(plan: ExcelPlan, found: Found) -> NumberOutOfRange:
    """The error a strict read raises for the first of `found` (by row)."""
    names = {p.source: p.name for p in plan.columns}
    source, (row, value) = min(found.items(), key=lambda item: item[1][0])
    return number_out_of_range(row, names[source], value)


def as_text(plan: ExcelPlan, found: Found) -> tuple[ExcelPlan, list[str]]:
    """For a lenient read: `plan` with the columns of `found` read as text, and the notices saying so."""
    columns: list[Planned] = [
        msgspec.structs.replace(p, type="string", scale=None) if p.source in found else p for p in plan.columns
    ]
    warnings = [
        note(OutOfRangeAsText(column=p.name, row=found[p.source][0], value=found[p.source][1]))
        for p in plan.columns
        if p.source in found
    ]
    return msgspec.structs.replace(plan, columns=columns), warnings


class Literals(msgspec.Struct):
    """Such cells as written, for the text columns they made: what a column read as text shows of them (calamine
    gives 0.0 or an infinity)."""

    cells: dict[tuple[int, int], str]

    def apply(self, column: int, values: Sequence[Any], first_row: int) -> Sequence[Any]:
        """`values` of `column` for rows `first_row`, `first_row + 1`, …, with the literals written in them."""
        out: list[Any] | None = None
        for (row, at), value in self.cells.items():
            if at == column and first_row <= row < first_row + len(values):
                out = out if out is not None else list(values)
                out[row - first_row] = value
        return values if out is None else out


def scanned(
    path: str, kind: str, index: int, max_bytes: int, *, seen: bool | None = None
) -> dict[tuple[int, int], str]:
    """`OutOfRangeCells` of sheet `index` of an xlsx/xlsm, over at most `max_bytes` of its XML (a preview's own
    read; an import finds them in the pass of app.ingest.xlsx_errors), or of an ods (app.ingest.ods_range; an
    import's too; `seen`: whether an `OdsLiterals` fed content.xml found any, None: look); {} for another kind or
    a part not read."""
    if kind == "ods":
        return ods_out_of_range(path, index, max_bytes, seen=seen)
    if kind not in ("xlsx", "xlsm"):
        return {}
    cells = OutOfRangeCells()
    try:
        members = xlsx_sheet_members(path)
        member = members[index] if index < len(members) else None
        if member is None:
            return {}
        with zipfile.ZipFile(path) as archive, archive.open(member) as handle:
            read = 0
            while read < max_bytes and (raw := handle.read(min(CHUNK, max_bytes - read))):
                read += len(raw)
                cells.feed(raw)
    except (KeyError, OSError, zipfile.BadZipFile, zipfile.LargeZipFile, RuntimeError):
        return {}
    cells.close()
    return cells.found
