"""Numbers an ods sheet shows zero-padded (a number style with `number:min-integer-digits="6"`, as LibreOffice and
WPS save `000000`, `"No."0000` or `0000;-0000`): the cells app.ingest.xlsx_padded finds in an xlsx, found in an
ods, read as the text the sheet shows.

A number style (`<number:number-style>`, in content.xml's automatic styles or styles.xml) is turned into the format
code it stands for, its `<number:text>` as literal text and its `style:map` conditions (`value()>=0`; `value()>0`
and `value()<0`, as LibreOffice writes a format of two or three sections) as sections, and read by the one rule of
app.ingest.padding_format. A cell style (`style:data-style-name`, or its parent's) reaches a cell through the
cell's `table:style-name`, else its row's or its column's `table:default-cell-style-name`. Only when a style pads
is the sheet's XML streamed (bounded in a preview, as an xlsx's), repeated rows as one run.
"""

from __future__ import annotations

import bisect
import html
import re
import zipfile

from app.ingest.errors import UnsupportedMediaType
from app.ingest.ods_extent import COLUMNS_REPEATED, ROWS_REPEATED
from app.ingest.padding_format import Padding, literal, padding
from app.ingest.xlsx_extent import UNREADABLE, whole_tags
from app.ingest.xlsx_padded import STYLES_BYTES, PaddedCells, add_cell

#: (1-based column) → runs of (first row, last row, format), as PaddedCells holds them.
Runs = dict[int, list[tuple[int, int, Padding]]]
#: Columns a sheet has at most (LibreOffice's 16,384): a cell repeated past them is not placed.
MAX_COLUMNS = 1 << 14
#: Bytes of content.xml a preview reads for padded cells at most: its tags are walked one by one in Python (about
#: 0.5 CPU-s for 8 MiB, every cell a number), an xlsx's searched in C; cells past it are found by the import alone.
PREVIEW_SCAN_BYTES = 8 << 20
#: Parent styles followed at most from a cell style to the one naming its number style.
MAX_PARENTS = 8

_NUMBER_STYLE = re.compile(rb"<number:number-style\b([^>]*?)(?:/>|>(.*?)</number:number-style>)", re.S)
_STYLE_PART = re.compile(
    rb"<number:text>(.*?)</number:text>|<number:text/>|<number:number\b([^>]*?)/>|<style:map\b([^>]*?)/>"
    rb"|<style:text-properties\b[^>]*?/>|(<[^>]*>)",
    re.S,
)
_CELL_STYLE = re.compile(rb"<style:style\b([^>]*)>")
_NAME = re.compile(rb'\bstyle:name="([^"]*)"')
_FAMILY = re.compile(rb'\bstyle:family="([^"]*)"')
_DATA_STYLE = re.compile(rb'\bstyle:data-style-name="([^"]*)"')
_PARENT = re.compile(rb'\bstyle:parent-style-name="([^"]*)"')
_DIGITS = re.compile(rb'\bnumber:min-integer-digits="([0-9]{1,2})"')
#: number:number attributes that make it no padding: decimals, grouping, a scale (`0,`), a fraction.
_NOT_PADDING = re.compile(rb'\bnumber:(?:decimal-places|min-decimal-places)="[1-9]|grouping="true"|display-factor')
_CONDITION = re.compile(rb'\bstyle:condition="([^"]*)"')
_APPLY = re.compile(rb'\bstyle:apply-style-name="([^"]*)"')
_TAG = re.compile(
    rb"<(/?)table:(table|table-column|table-row|table-cell|covered-table-cell)(?=[\s/>])([^>]*?)(/?)>|<office:body\b"
)
_STYLE_NAME = re.compile(rb'\btable:style-name="([^"]*)"')
_DEFAULT_STYLE = re.compile(rb'\btable:default-cell-style-name="([^"]*)"')
_FLOAT = re.compile(rb'\boffice:value-type="float"')


def ods_padded_cells(path: str, index: int, *, max_bytes: int | None = None) -> PaddedCells | None:
    """The cells of sheet `index` of the ods at `path` styled with a padding format, or None when there are none
    or the file cannot be read so (calamine then says why). `max_bytes`: of content.xml read at most (a preview's
    bound, at most PREVIEW_SCAN_BYTES)."""
    max_bytes = None if max_bytes is None else min(max_bytes, PREVIEW_SCAN_BYTES)
    try:
        with zipfile.ZipFile(path) as archive:
            common = _read(archive, "styles.xml", STYLES_BYTES)
        runs = _scan(path, index, common, max_bytes)
    except (*UNREADABLE, UnsupportedMediaType):
        return None
    return PaddedCells(runs) if runs else None


def _read(archive: zipfile.ZipFile, member: str, size: int) -> bytes:
    if member not in archive.NameToInfo:
        return b""
    with archive.open(member) as handle:
        return handle.read(size)


def cell_styles(styles: bytes) -> dict[bytes, Padding]:
    """By cell style name, the padding format it shows numbers in (styles: styles.xml's, then content.xml's)."""
    numbers = {_name(m[1]): m[2] or b"" for m in _NUMBER_STYLE.finditer(styles)}
    formats: dict[bytes, Padding | None] = {}
    data_styles, parents = {}, {}
    for match in _CELL_STYLE.finditer(styles):
        family = _FAMILY.search(match[1])
        if family is None or family[1] != b"table-cell":
            continue
        name = _name(match[1])
        if (data := _DATA_STYLE.search(match[1])) is not None:
            data_styles[name] = data[1]
        if (parent := _PARENT.search(match[1])) is not None:
            parents[name] = parent[1]
    found = {}
    for name in {*data_styles, *parents}:
        style, hops = name, 0
        while style not in data_styles and style in parents and hops < MAX_PARENTS:
            style, hops = parents[style], hops + 1
        number = data_styles.get(style)
        if number is None or number not in numbers:
            continue
        if number not in formats:
            code = _code(numbers, number)
            formats[number] = padding(code) if code is not None else None
        if (shown := formats[number]) is not None:
            found[name] = shown
    return found


def _name(attributes: bytes) -> bytes:
    found = _NAME.search(attributes)
    return found[1] if found else b""


def _code(numbers: dict[bytes, bytes], name: bytes) -> str | None:
    """The format code number style `name` stands for (its maps as sections), or None when it is no such style."""
    main, maps = _section(numbers[name])
    if main is None:
        return None
    conditions = {condition: numbers.get(style) for condition, style in maps}
    if not conditions:
        return main
    others = {key: _section(body)[0] if body is not None else None for key, body in conditions.items()}
    if set(others) == {"value()>=0"} and others["value()>=0"] is not None:
        return f"{others['value()>=0']};{main}"
    if set(others) == {"value()>0", "value()<0"} and None not in others.values():
        return f"{others['value()>0']};{others['value()<0']};{main}"
    return None


def _section(body: bytes) -> tuple[str | None, list[tuple[str, bytes]]]:
    """One number style's body as a format section, and its maps (condition, style name)."""
    out: list[str] = []
    maps: list[tuple[str, bytes]] = []
    for text, number, mapped, other in _STYLE_PART.findall(body):
        if other:
            return None, []
        if number:
            digits = _DIGITS.search(number)
            if _NOT_PADDING.search(number) or digits is None:
                return None, []
            out.append("0" * int(digits[1]))
        elif mapped:
            condition, style = _CONDITION.search(mapped), _APPLY.search(mapped)
            if condition is None or style is None:
                return None, []
            maps.append((html.unescape(condition[1].decode("utf-8", "replace")).replace(" ", ""), style[1]))
        elif text:
            out.append(literal(html.unescape(text.decode("utf-8", "replace"))))
    return "".join(out), maps


def _scan(path: str, index: int, common: bytes, max_bytes: int | None) -> Runs:
    """Stream content.xml: its automatic styles, then sheet `index`'s cells of a padding style."""
    head, styles, read = b"", None, 0
    runs: Runs = {}
    sheet, count, row, column = -1, 0, 0, 0
    columns: list[tuple[int, int, bytes]] = []  # (first, last 1-based column, default cell style), in order
    row_style, row_repeat, in_row = b"", 1, False
    found: list[tuple[int, Padding]] = []  # the current row's padded cells: (column, format)
    for data in whole_tags(path, "content.xml"):
        read += len(data)
        if styles is None:
            body = data.find(b"<office:body")
            if body < 0:
                head += data
                if len(head) > STYLES_BYTES:
                    return {}
                continue
            styles = cell_styles(common + head + data[:body])
            if not styles:
                return {}
            data = data[body:]
        for closing, name, attributes, empty in (m.groups() for m in _TAG.finditer(data) if m[2]):
            if name == b"table":
                if closing:
                    if sheet == index:
                        return runs
                else:
                    sheet, row, columns = sheet + 1, 0, []
                continue
            if sheet != index or (closing and name != b"table-row"):
                continue
            if name == b"table-column":
                repeat, style = COLUMNS_REPEATED.search(attributes), _DEFAULT_STYLE.search(attributes)
                first = columns[-1][1] + 1 if columns else 1
                columns.append((first, first + (int(repeat[1]) if repeat else 1) - 1, style[1] if style else b""))
            elif name == b"table-row" and not closing:
                repeat, style = ROWS_REPEATED.search(attributes), _DEFAULT_STYLE.search(attributes)
                row_repeat, row_style, in_row, column, found = int(repeat[1]) if repeat else 1, b"", True, 0, []
                row_style = style[1] if style else b""
            if name == b"table-row" and (closing or empty) and in_row:
                for at, shown in found:
                    count = add_cell(runs, at, row + 1, shown, count, last=row + row_repeat)
                row, in_row = row + row_repeat, False
            elif name in (b"table-cell", b"covered-table-cell"):
                repeat = COLUMNS_REPEATED.search(attributes)
                width = int(repeat[1]) if repeat else 1
                if _FLOAT.search(attributes):
                    style = _STYLE_NAME.search(attributes)
                    shown = styles.get(style[1] if style else row_style or _column_style(columns, column + 1))
                    if shown is not None:
                        found += [(at, shown) for at in range(column + 1, min(column + width, MAX_COLUMNS) + 1)]
                column += width
        if max_bytes is not None and read >= max_bytes:
            break
    return runs


def _column_style(columns: list[tuple[int, int, bytes]], column: int) -> bytes:
    """The default cell style of 1-based `column` from the sheet's table-column runs."""
    at = bisect.bisect_right(columns, column, key=lambda run: run[0]) - 1
    return columns[at][2] if at >= 0 and column <= columns[at][1] else b""
