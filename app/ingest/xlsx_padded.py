"""Numbers an xlsx/xlsm sheet shows zero-padded (number format `000000`, `"0"00000`, `"No."0000`, `0000"号"`,
`0000;-0000`, `000000;@`: app.ingest.padding_format): read as the text it shows, literal text and all.

Chinese exports keep postal codes, stock codes and ID fragments as numbers formatted so: Excel shows 000123,
the cell holds 123, and calamine (which exposes no number formats) gave 123, in the preview's sample too, so the
column was typed integer and the codes lost their zeros with nothing said. `padded_cells` reads the workbook's
styles (numFmts and cellXfs of xl/styles.xml) and, only when one of its formats pads so, streams the sheet's
XML in bounded chunks for the cells styled with one, as runs of rows per column. A column holding any (in any
row, sampled or not) is inferred as text, and its cells so styled read as Excel shows them (`shown`; its other
cells as they are), in the preview and the import alike; a column the configuration types as a number keeps
the numbers.

A workbook with no such format costs one read of its styles' head. Cells without an `r` reference are not
placed (Excel and openpyxl write it); xls and xlsb are read by app.ingest.biff_padded, ods by app.ingest.ods_padded.
"""

from __future__ import annotations

import html
import re
import zipfile
from collections.abc import Sequence
from typing import Any

import msgspec

from app.ingest.config import column_index
from app.ingest.notices import note
from app.ingest.notices.columns import ZeroPadded
from app.ingest.padding_format import Padding, padding
from app.ingest.xlsx_copy import CHUNK
from app.ingest.xlsx_parts import part, xlsx_sheet_members

#: Bytes of xl/styles.xml read: numFmts and cellXfs come before the colours, styles and extension lists.
STYLES_BYTES = 16 << 20
#: Runs of rows kept per sheet; past them a column's last run is stretched (the sheet is styled cell by cell,
#: against the grain of any export, and memory stays bounded).
MAX_RUNS = 100_000
#: Bytes of a sheet's XML a preview reads for padded cells (the API's work stays bounded: about 0.3 CPU-s at
#: worst, every cell padded; 180,000 rows of 10 columns). Cells past it are found by the import alone.
PREVIEW_SCAN_BYTES = 64 << 20
#: Bytes of one tag held back across chunks at most (a longer one is no cell start tag).
MAX_TAG_BYTES = 64 << 10
#: Inferred types a padded column is read as text instead of.
NUMBER_TYPES = frozenset({"integer", "float", "decimal"})

_NUM_FMT = re.compile(rb"<(?:\w+:)?numFmt\b[^>]*?\bnumFmtId=\"(\d+)\"[^>]*?\bformatCode=\"([^\"]*)\"")
_CELL_XFS = re.compile(rb"<(?:\w+:)?cellXfs\b.*?</(?:\w+:)?cellXfs>", re.S)
_XF = re.compile(rb"<(?:\w+:)?xf\b([^>]*)>")
_XF_FORMAT = re.compile(rb"\bnumFmtId=\"(\d+)\"")


class PaddedCells(msgspec.Struct):
    """The cells of one sheet styled with a padding format: per 1-based column, runs (first row, last row, format)."""

    runs: dict[int, list[tuple[int, int, Padding]]]

    def columns(self) -> dict[int, Padding]:
        """Each padded column's (first) format."""
        return {column: found[0][2] for column, found in self.runs.items()}

    def apply(self, column: int, values: Sequence[Any], first_row: int) -> Sequence[Any]:
        """`values` of `column` for rows `first_row`, `first_row + 1`, …, padded where their cells are styled so."""
        found = self.runs.get(column)
        if not found:
            return values
        last_row = first_row + len(values) - 1
        out: list[Any] | None = None
        for low, high, shown_in in found:
            if high < first_row or low > last_row:
                continue
            out = out if out is not None else list(values)
            start, stop = max(low, first_row) - first_row, min(high, last_row) - first_row + 1
            out[start:stop] = shown_in.shown_all(out[start:stop])
        return values if out is None else out

    def rows(self, numbered: Sequence[tuple[int, list[Any]]], first_col: int) -> list[list[Any]]:
        """Rows (absolute row number, cells from absolute column `first_col`) with their padded cells padded."""
        out = []
        for number, cells in numbered:
            row = list(cells)
            for column in self.runs:
                if 0 <= column - first_col < len(row):
                    row[column - first_col] = self.apply(column, [row[column - first_col]], number)[0]
            out.append(row)
        return out

    def text_types(self, types: Sequence[str], first_col: int) -> list[str]:
        """Inferred `types` of columns from absolute column `first_col` on, a padded column's number type as
        string: its padded cells may all be past the sampled rows."""
        return [
            "string" if kind in NUMBER_TYPES and first_col + at in self.runs else kind for at, kind in enumerate(types)
        ]

    def warnings(self, planned: Sequence[Any], positions: Sequence[int]) -> list[str]:
        """What the preview and import say about the text columns read so (`planned` as app.ingest.columns.Planned)."""
        formats = self.columns()
        return [
            note(ZeroPadded(column=p.name, format=formats[positions[p.index]].code))
            for p in planned
            if p.include and p.type == "string" and positions[p.index] in formats
        ]


def padding_styles(archive: zipfile.ZipFile) -> dict[int, Padding]:
    """By cell style index (position in cellXfs), the padding format it shows numbers in."""
    try:
        with archive.open(part(archive, "xl/styles.xml") or "xl/styles.xml") as handle:
            styles = handle.read(STYLES_BYTES)
    except KeyError:
        return {}
    formats = {
        int(fmt_id): found
        for fmt_id, code in _NUM_FMT.findall(styles)
        if (found := padding(html.unescape(code.decode("utf-8", "replace")))) is not None
    }
    if not formats:
        return {}
    section = _CELL_XFS.search(styles)
    if section is None:
        return {}
    found_styles = {}
    for position, attributes in enumerate(_XF.findall(section[0])):
        fmt = _XF_FORMAT.search(attributes)
        if fmt and int(fmt[1]) in formats:
            found_styles[position] = formats[int(fmt[1])]
    return found_styles


def padded_cells(path: str, kind: str, index: int, *, max_bytes: int | None = None) -> PaddedCells | None:
    """The cells of sheet `index` of the workbook at `path` styled with a padding format, or None when there are
    none (nearly always: then only the styles are read) or it is no xlsx/xlsm. `max_bytes`: of the sheet's XML
    read at most (the preview's bound, PREVIEW_SCAN_BYTES; past it only the import finds them)."""
    members = xlsx_sheet_members(path) if kind in ("xlsx", "xlsm") else []
    member = members[index] if index < len(members) else None
    if member is None:
        return None
    try:
        with zipfile.ZipFile(path) as archive:
            styles = padding_styles(archive)
            if not styles:
                return None
            with archive.open(member) as handle:
                runs = _scan(handle, styles, max_bytes)
    except (KeyError, OSError, zipfile.BadZipFile, zipfile.LargeZipFile, RuntimeError):
        return None
    return PaddedCells(runs) if runs else None


def _scan(
    handle: Any, styles: dict[int, Padding], max_bytes: int | None = None
) -> dict[int, list[tuple[int, int, Padding]]]:
    """Stream a sheet's XML for the cells whose style attribute is one of `styles`, as runs of rows per column.

    Each chunk is searched backwards (reversed), from the style attribute to the cell's `r` before it, as Excel
    and openpyxl write a cell: the search then skips in C to each styled cell, about twice as fast over a sheet of
    a million rows as one from every `r`; per-match Python work is what is left. A chunk holding more such styles
    than found (row styles, or cells written `s` first) is searched again forwards for the latter."""
    alternatives = b"|".join(str(s).encode()[::-1] for s in styles)
    backwards = re.compile(rb'"(' + alternatives + rb')"=s\s[^<]*?"([0-9]+)([A-Z]{1,3})"=r\s')
    style_first = re.compile(
        rb'<(?:[\w.-]+:)?c\s[^>]*?\bs="('
        + b"|".join(str(s).encode() for s in styles)
        + rb')"[^>]*?\sr="([A-Z]{1,3})([0-9]+)"'
    )
    attributes = [b' s="%d"' % s for s in styles]
    runs: dict[int, list[tuple[int, int, Padding]]] = {}
    columns: dict[bytes, int] = {}
    count, held, read = 0, b"", 0
    while (max_bytes is None or read < max_bytes) and (chunk := handle.read(CHUNK)):
        read += len(chunk)
        data = held + chunk
        cut = data.rfind(b"<")
        if cut >= 0 and data.find(b">", cut) < 0:  # a tag cut by the chunk: wait for its end
            data, held = data[:cut], data[cut:][:MAX_TAG_BYTES]
        else:
            held = b""
        found = [(letters[::-1], row[::-1], style[::-1]) for style, row, letters in backwards.findall(data[::-1])]
        found.reverse()
        if len(found) < sum(data.count(attribute) for attribute in attributes):
            found = sorted(
                [*found, *((letters, row, style) for style, letters, row in style_first.findall(data))],
                key=lambda cell: int(cell[1]),
            )
        for letters, row_text, style in found:
            column = columns.get(letters) or columns.setdefault(letters, column_index(letters.decode()))
            count = add_cell(runs, column, int(row_text), styles[int(style)], count)
    return runs


def add_cell(
    runs: dict[int, list[tuple[int, int, Padding]]],
    column: int,
    row: int,
    padding_: Padding,
    count: int,
    last: int | None = None,
) -> int:
    """Add the padded cell at 1-based `row` and `column` to `runs` (rows in order per column; `last`: the same cell
    repeated down to that row), `count` runs so far (past MAX_RUNS a column's last run is stretched); the count
    after."""
    end = row if last is None else last
    column_runs = runs.get(column)
    if column_runs is None:
        runs[column] = [(row, end, padding_)]
        return count + 1
    first, high, current = column_runs[-1]
    if (current is padding_ and high >= row - 1) or count >= MAX_RUNS:
        column_runs[-1] = (first, max(end, high), current)
        return count
    column_runs.append((row, end, padding_))
    return count + 1
