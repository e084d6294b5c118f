"""Small .ods, .xlsb and .xls workbooks built byte by byte (no writer for them is installed): one sheet of text,
numbers and formula error cells, enough for calamine and the ingest tests.

A row is a list of cells: str, int/float, a date (in an .ods; an .xls or .xlsb date is a number with a date format),
None (no cell), or `Error("#DIV/0!")`, a formula whose cached result is that error (`formula=False`: an error typed
as a constant, as xls and xlsb also store them).
"""

from __future__ import annotations

import datetime as dt
import struct
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

#: BIFF (xls and xlsb alike) error codes.
ERROR_CODES = {
    "#NULL!": 0x00,
    "#DIV/0!": 0x07,
    "#VALUE!": 0x0F,
    "#REF!": 0x17,
    "#NAME?": 0x1D,
    "#NUM!": 0x24,
    "#N/A": 0x2A,
}


class Error(NamedTuple):
    text: str
    formula: bool = True


Rows = Sequence[Sequence[object]]
#: Number formats of cells, by (0-based row, 0-based column).
Formats = dict[tuple[int, int], str]


# --- ods: a zip of XML -------------------------------------------------------------------------------------------

_ODS_NS = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
    'xmlns:calcext="urn:org:documentfoundation:names:experimental:calc:xmlns:calcext:1.0" office:version="1.3"'
)


def _ods_cell(value: object) -> str:
    if value is None:
        return "<table:table-cell/>"
    if isinstance(value, Error):  # as LibreOffice writes one
        return (
            '<table:table-cell table:formula="of:=1/0" office:value-type="string" office:string-value="" '
            f'calcext:value-type="error"><text:p>{value.text}</text:p></table:table-cell>'
        )
    if isinstance(value, dt.date):  # as LibreOffice writes a date cell (a time of day too)
        typed = f'office:value-type="date" office:date-value="{value.isoformat()}"'
        return f"<table:table-cell {typed}><text:p>{value.isoformat()}</text:p></table:table-cell>"
    if isinstance(value, int | float):
        typed = f'office:value-type="float" office:value="{value}"'
        return f"<table:table-cell {typed}><text:p>{value}</text:p></table:table-cell>"
    return f'<table:table-cell office:value-type="string"><text:p>{value}</text:p></table:table-cell>'


def ods_workbook(path: Path, sheets: dict[str, Rows], *, null_date: str | None = None) -> Path:
    """An .ods with one table per entry; `null_date`: the day LibreOffice counts serial dates from (its
    calculation settings, as it writes them for any but the default 1899-12-30)."""
    settings = (
        '<table:calculation-settings table:automatic-find-labels="false">'
        f'<table:null-date table:date-value="{null_date}"/></table:calculation-settings>'
        if null_date
        else ""
    )
    tables = "".join(
        f'<table:table table:name="{name}">'
        + "".join("<table:table-row>" + "".join(_ods_cell(v) for v in row) + "</table:table-row>" for row in rows)
        + "</table:table>"
        for name, rows in sheets.items()
    )
    content = (
        f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {_ODS_NS}><office:body>'
        f"<office:spreadsheet>{settings}{tables}</office:spreadsheet></office:body></office:document-content>"
    )
    return ods_parts(path, content)


def ods_tables(path: Path, tables: str) -> Path:
    """An .ods of these `<table:table>` elements written as they are (repeats, cell attributes)."""
    content = (
        f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {_ODS_NS}><office:body>'
        f"<office:spreadsheet>{tables}</office:spreadsheet></office:body></office:document-content>"
    )
    return ods_parts(path, content)


def ods_parts(path: Path, content: str, styles: str | None = None) -> Path:
    """An .ods of this content.xml (and styles.xml) as LibreOffice frames one: mimetype first, a manifest."""
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
        'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.3">'
        '<manifest:file-entry manifest:full-path="/" '
        'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>'
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("META-INF/manifest.xml", manifest)
        archive.writestr("content.xml", content)
        if styles is not None:
            archive.writestr("styles.xml", styles)
    return path


# --- xlsb: a zip of BIFF12 records -------------------------------------------------------------------------------


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        out.append((value & 0x7F) | (0x80 if value > 0x7F else 0))
        value >>= 7
        if not value:
            return bytes(out)


def _record(kind: int, body: bytes = b"") -> bytes:
    return _varint(kind) + _varint(len(body)) + body


def _wide(text: str) -> bytes:
    return struct.pack("<I", len(text)) + text.encode("utf-16-le")


def _xlsb_cell(col: int, value: object, style: int = 0) -> bytes:
    cell = struct.pack("<II", col, style)
    if isinstance(value, Error):
        code = bytes([ERROR_CODES[value.text]])
        if not value.formula:
            return _record(0x03, cell + code)  # BrtCellError
        formula = struct.pack("<I", 2) + b"\x1c" + code + struct.pack("<I", 0)  # rgce: PtgErr; no extra data
        return _record(0x0B, cell + code + b"\x00\x00" + formula)  # BrtFmlaError
    if isinstance(value, int | float):
        return _record(0x05, cell + struct.pack("<d", value))  # BrtCellReal
    return _record(0x06, cell + _wide(str(value)))  # BrtCellSt


def _xlsb_styles(codes: list[str]) -> bytes:
    """xl/styles.bin: BrtFmt records (ifmt 164 on) for `codes`, and cell XFs 0 (General) and 1.. (each code)."""
    fmts = b"".join(_record(0x2C, struct.pack("<H", 164 + i) + _wide(code)) for i, code in enumerate(codes))
    xfs = b"".join(
        _record(0x2F, struct.pack("<HH", 0, ifmt) + bytes(12)) for ifmt in [0, *range(164, 164 + len(codes))]
    )
    return (
        _record(0x296)
        + _record(0x267, struct.pack("<I", len(codes)))
        + fmts
        + _record(0x268)
        + _record(0x269, struct.pack("<I", len(codes) + 1))
        + xfs
        + _record(0x26A)
        + _record(0x297)
    )


def xlsb_workbook(
    path: Path,
    rows: Rows,
    name: str = "Data",
    *,
    date1904: bool = False,
    formats: Formats | None = None,
    declared: tuple[int, int] | None = None,
) -> Path:
    """An .xlsb of one worksheet; `date1904`: in Excel for Mac's date system (BrtWbProp's first flag); `formats`:
    number formats of cells by (0-based row, column), in xl/styles.bin; `declared`: the (rows, columns) its
    BrtWsDim states, when not the rows' own. A row is a list of cells, or a (0-based row number, {0-based column:
    cell}) pair for cells anywhere."""
    codes = sorted(set((formats or {}).values()))
    numbered = [row if isinstance(row, tuple) else (n, dict(enumerate(row))) for n, row in enumerate(rows)]
    width = max((max(cells, default=0) + 1 for _, cells in numbered), default=1)
    height, width = declared or (max((n for n, _ in numbered), default=0) + 1, width)
    sheet = _record(0x81) + _record(0x94, struct.pack("<IIII", 0, max(height - 1, 0), 0, max(width - 1, 0)))
    parts = [sheet, _record(0x91)]
    for number, cells in numbered:
        parts.append(_record(0x00, struct.pack("<I", number) + bytes(13)))  # BrtRowHdr
        styled = {c: 1 + codes.index(code) for (r, c), code in (formats or {}).items() if r == number}
        parts += [_xlsb_cell(col, v, styled.get(col, 0)) for col, v in cells.items() if v is not None]
    sheet = b"".join([*parts, _record(0x92), _record(0x82)])
    book = _record(0x83) + _record(0x99, struct.pack("<II", int(date1904), 0) + _wide("")) + _record(0x8F)
    book += _record(0x9C, struct.pack("<II", 0, 1) + _wide("rId1") + _wide(name)) + _record(0x90)
    book += _record(0x9D, bytes(26)) + _record(0x84)
    rels = "http://schemas.openxmlformats.org/package/2006/relationships"
    doc = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "[Content_Types].xml",
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="bin" ContentType="application/vnd.ms-excel.sheet.binary.macroEnabled.main"/></Types>',
        )
        archive.writestr(
            "_rels/.rels",
            f'<Relationships xmlns="{rels}"><Relationship Id="rId1" Type="{doc}/officeDocument" '
            'Target="xl/workbook.bin"/></Relationships>',
        )
        archive.writestr(
            "xl/_rels/workbook.bin.rels",
            f'<Relationships xmlns="{rels}"><Relationship Id="rId1" Type="{doc}/worksheet" '
            'Target="worksheets/sheet1.bin"/></Relationships>',
        )
        archive.writestr("xl/workbook.bin", book)
        archive.writestr("xl/worksheets/sheet1.bin", sheet)
        if codes:
            archive.writestr("xl/styles.bin", _xlsb_styles(codes))
    return path


# --- xls: BIFF8 records in an OLE2 compound file -----------------------------------------------------------------


def _biff(kind: int, body: bytes = b"") -> bytes:
    return struct.pack("<HH", kind, len(body)) + body


biff_record = _biff


def _xls_cell(number: int, col: int, value: object, xf: int = 15) -> bytes:
    where = struct.pack("<HHH", number, col, xf)
    if isinstance(value, Error):
        code = ERROR_CODES[value.text]
        if not value.formula:
            return _biff(0x0205, where + bytes([code, 1]))  # BoolErr
        result = bytes([2, 0, code, 0, 0, 0, 0xFF, 0xFF])
        formula = b"\x1c" + bytes([code])  # PtgErr
        return _biff(0x0006, where + result + struct.pack("<HIH", 0, 0, len(formula)) + formula)
    if isinstance(value, int | float):
        return _biff(0x0203, where + struct.pack("<d", value))
    text = str(value)
    return _biff(0x0204, where + struct.pack("<HB", len(text), 1) + text.encode("utf-16-le"))


def _xls_styles(codes: list[str]) -> bytes:
    """FORMAT records (ifmt 164 on) for `codes`, then 16 XF records (General, as Excel's 15 styles and its cell XF
    15), then one XF (16 on) per code."""
    formats = b"".join(
        _biff(0x041E, struct.pack("<HHB", 164 + i, len(code), 1) + code.encode("utf-16-le"))
        for i, code in enumerate(codes)
    )
    xfs = [_biff(0x00E0, struct.pack("<HH", 0, 0) + bytes(16)) for _ in range(16)]
    xfs += [_biff(0x00E0, struct.pack("<HH", 0, 164 + i) + bytes(16)) for i in range(len(codes))]
    return formats + b"".join(xfs)


def _workbook_stream(
    rows: Rows, name: str, *, date1904: bool = False, formats: Formats | None = None, extra: bytes = b""
) -> bytes:
    codes = sorted(set((formats or {}).values()))
    bof = _biff(0x0809, struct.pack("<HHHHII", 0x0600, 0x0005, 0x0DBB, 0x07CC, 0, 0x0206))
    bof += _biff(0x0022, struct.pack("<H", 1)) if date1904 else b""  # DATEMODE: serials count from 1904
    bof += _xls_styles(codes) if codes else b""
    encoded = name.encode("utf-16-le")
    globals_end = len(bof) + 4 + 8 + len(encoded) + 4  # BOF (and DATEMODE), BoundSheet (header + body), EOF
    sheet_bof = _biff(0x0809, struct.pack("<HHHHII", 0x0600, 0x0010, 0x0DBB, 0x07CC, 0, 0x0206))
    stream = bof + _biff(0x0085, struct.pack("<IBBBB", globals_end, 0, 0, len(name), 1) + encoded) + _biff(0x000A)
    assert len(stream) == globals_end
    xf = {cell: 16 + codes.index(code) for cell, code in (formats or {}).items()}
    cells = b"".join(
        _xls_cell(n, c, v, xf.get((n, c), 15)) for n, row in enumerate(rows) for c, v in enumerate(row) if v is not None
    )
    return stream + sheet_bof + extra + cells + _biff(0x000A)


def xls_workbook(
    path: Path,
    rows: Rows,
    name: str = "Data",
    *,
    mini: bool = False,
    date1904: bool = False,
    formats: Formats | None = None,
    extra: bytes = b"",
) -> Path:
    """An .xls (BIFF8) of one worksheet, its Workbook stream in regular 512-byte sectors, or with `mini` (a stream
    under 4096 bytes, as Excel saves a small sheet) in the mini stream's 64-byte sectors; `date1904`: in Excel for
    Mac's date system; `formats`: number formats of cells by (0-based row, column); `extra`: raw records put first
    in the sheet (`biff_record`)."""
    stream = _workbook_stream(rows, name, date1904=date1904, formats=formats, extra=extra)
    if mini:
        assert len(stream) < 4096, "the mini stream holds streams under the 4096-byte cutoff"
        minis = -(-len(stream) // 64)
        container = stream + bytes(minis * 64 - len(stream))
        mini_fat = struct.pack("<128I", *range(1, minis), 0xFFFFFFFE, *([0xFFFFFFFF] * (128 - minis)))
        # sectors: FAT (0), directory (1), mini FAT (2), the mini stream (3 ...), the root entry's stream
        body, first, root, workbook = mini_fat + _padded(container), 3, (3, len(container)), (0, len(stream))
    else:
        stream = _padded(stream + bytes(4096 if len(stream) < 4096 else 0))  # never in the mini stream
        body, first, root, workbook = stream, 2, (0xFFFFFFFE, 0), (2, len(stream))
    count = len(body) // 512
    header = bytearray(512)
    header[:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    struct.pack_into("<HHHHH", header, 0x18, 0x3E, 3, 0xFFFE, 9, 6)
    mini_fat_at, mini_fats = (2, 1) if mini else (0xFFFFFFFE, 0)
    # one FAT sector (0), the directory (1), then the body; no DIFAT
    struct.pack_into("<IIIIIIII", header, 0x2C, 1, 1, 0, 4096, mini_fat_at, mini_fats, 0xFFFFFFFE, 0)
    struct.pack_into("<109I", header, 0x4C, 0, *([0xFFFFFFFF] * 108))
    assert count + 2 <= 128, "one FAT sector only"
    chain = [0xFFFFFFFD, 0xFFFFFFFE] + ([0xFFFFFFFE] if mini else [])
    chain += [s + 1 for s in range(first, count + 1)] + [0xFFFFFFFE]
    fat = struct.pack("<128I", *chain, *([0xFFFFFFFF] * (128 - len(chain))))
    directory = bytearray(512)
    for slot, (entry, kind, (start, size)) in enumerate([("Root Entry", 5, root), ("Workbook", 2, workbook)]):
        encoded = entry.encode("utf-16-le") + b"\0\0"
        base = slot * 128
        directory[base : base + len(encoded)] = encoded
        struct.pack_into("<HBB", directory, base + 64, len(encoded), kind, 1)
        struct.pack_into("<III", directory, base + 68, 0xFFFFFFFF, 0xFFFFFFFF, 1 if slot == 0 else 0xFFFFFFFF)
        struct.pack_into("<II", directory, base + 116, start, size)
    for slot in range(2, 4):
        struct.pack_into("<III", directory, slot * 128 + 68, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF)
    path.write_bytes(bytes(header) + fat + bytes(directory) + body)
    return path


def _padded(data: bytes) -> bytes:
    return data + bytes(-len(data) % 512)
