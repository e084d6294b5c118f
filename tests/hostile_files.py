"""Hostile files the ingest tests build by hand: a bare xlsx package, an OLE2 compound file, a sheet without
<dimension> (shared by tests/unit/ingest/test_hostile.py and tests/integration/test_hostile_imports_api.py)."""

from __future__ import annotations

import struct
import zipfile
from pathlib import Path

from tests.workbook_files import xlsb_workbook

NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
RELS_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
DOC_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def bare_workbook(path: Path, sheets: str, rels: str, parts: dict[str, str]) -> Path:
    """A bare xlsx: the workbook's <sheets>, its relationships and the given parts."""
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(
            "[Content_Types].xml",
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/></Types>',
        )
        archive.writestr(
            "_rels/.rels",
            f'<Relationships xmlns="{RELS_NS}"><Relationship Id="rId1" Type="{DOC_REL}/officeDocument" '
            'Target="xl/workbook.xml"/></Relationships>',
        )
        archive.writestr("xl/workbook.xml", f'<workbook {NS} xmlns:r="{DOC_REL}"><sheets>{sheets}</sheets></workbook>')
        archive.writestr("xl/_rels/workbook.xml.rels", f'<Relationships xmlns="{RELS_NS}">{rels}</Relationships>')
        for name, text in parts.items():
            archive.writestr(name, text)
    return path


def compound_file(path: Path, streams: list[str]) -> Path:
    """A minimal OLE2 compound file (512-byte sectors: header, one FAT sector, one directory sector) whose
    directory names `streams` (their contents are empty: only the names matter to the sniffer)."""
    header = bytearray(512)
    header[:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    struct.pack_into("<HHHHH", header, 0x18, 0x3E, 3, 0xFFFE, 9, 6)
    struct.pack_into("<IIIIIIII", header, 0x2C, 1, 1, 0, 4096, 0xFFFFFFFE, 0, 0xFFFFFFFE, 0)
    struct.pack_into("<109I", header, 0x4C, 0, *([0xFFFFFFFF] * 108))
    fat = struct.pack("<128I", 0xFFFFFFFD, 0xFFFFFFFE, *([0xFFFFFFFF] * 126))
    directory = bytearray(512)
    for slot, (name, kind) in enumerate([("Root Entry", 5), *((s, 2) for s in streams[:3])]):
        encoded = name.encode("utf-16-le") + b"\0\0"
        directory[slot * 128 : slot * 128 + len(encoded)] = encoded
        struct.pack_into("<HB", directory, slot * 128 + 64, len(encoded), kind)
    path.write_bytes(bytes(header) + fat + bytes(directory))
    return path


def sheet_without_dimension(rows: int) -> str:
    cells = "".join(f'<row r="{i}"><c r="A{i}"><v>{i}</v></c><c r="B{i}"><v>{i}</v></c></row>' for i in range(1, rows))
    return (
        f'<worksheet {NS}><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>n</t></is></c>'
        f'<c r="B1" t="inlineStr"><is><t>m</t></is></c></row>{cells}</sheetData></worksheet>'
    )


def long_cell_workbook(path: Path, text: str, *, shared: bool, rows: int = 3, decoy: str | None = None) -> Path:
    """An xlsx whose second row holds `text` in column B (from the shared-strings table, or inline), below a
    header `id`, `note`; the other rows hold short text. Built by hand: openpyxl cuts a cell at 32,767 characters.
    `decoy`: the part the workbook's relationships name as its shared strings, a short table, while the one calamine
    reads (xl/sharedStrings.xml, by that name) holds `text`."""
    body = []
    for i in range(2, rows + 1):
        if i == 2:
            cell = '<c r="B2" t="s"><v>0</v></c>' if shared else f'<c r="B2" t="inlineStr"><is><t>{text}</t></is></c>'
        else:
            cell = f'<c r="B{i}" t="inlineStr"><is><t>short {i}</t></is></c>'
        body.append(f'<row r="{i}"><c r="A{i}"><v>{i - 1}</v></c>{cell}</row>')
    sheet = (
        f'<worksheet {NS}><dimension ref="A1:B{rows}"/><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>id</t>'
        f'</is></c><c r="B1" t="inlineStr"><is><t>note</t></is></c></row>{"".join(body)}</sheetData></worksheet>'
    )
    rels = f'<Relationship Id="rId1" Type="{DOC_REL}/worksheet" Target="worksheets/sheet1.xml"/>'
    parts = {"xl/worksheets/sheet1.xml": sheet}
    if shared:
        rels += f'<Relationship Id="rId2" Type="{DOC_REL}/sharedStrings" Target="{decoy or "sharedStrings.xml"}"/>'
        parts["xl/sharedStrings.xml"] = f"<sst {NS}><si><t>{text}</t></si></sst>"
        if decoy:
            parts[f"xl/{decoy}"] = f"<sst {NS}><si><t>x</t></si></sst>"
    return bare_workbook(path, '<sheet name="S" sheetId="1" r:id="rId1"/>', rels, parts)


def formula_errors_workbook(path: Path, rows: int = 20) -> Path:
    """An xlsx as Excel saves formula errors: `amount` numbers with a #DIV/0! (row 3) and a #N/A (row 5), and
    `note` text with a #REF! (row 4); the cells are typed t="e" with the error as their cached value."""
    body = []
    for i in range(2, rows + 2):
        amount = {3: '<c r="A3" t="e"><f>B3/0</f><v>#DIV/0!</v></c>', 5: "<c r='A5' t='e'><v>#N/A</v></c>"}.get(
            i, f'<c r="A{i}"><v>{i}.5</v></c>'
        )
        note = '<c r="B4" t="e"><v>#REF!</v></c>' if i == 4 else f'<c r="B{i}" t="inlineStr"><is><t>n{i}</t></is></c>'
        body.append(f'<row r="{i}">{amount}{note}</row>')
    sheet = (
        f'<worksheet {NS}><dimension ref="A1:B{rows + 1}"/><sheetData><row r="1"><c r="A1" t="inlineStr"><is>'
        f'<t>amount</t></is></c><c r="B1" t="inlineStr"><is><t>note</t></is></c></row>{"".join(body)}'
        "</sheetData></worksheet>"
    )
    rels = f'<Relationship Id="rId1" Type="{DOC_REL}/worksheet" Target="worksheets/sheet1.xml"/>'
    return bare_workbook(path, '<sheet name="S" sheetId="1" r:id="rId1"/>', rels, {"xl/worksheets/sheet1.xml": sheet})


def padded_strings_workbook(path: Path, strings: int) -> Path:
    """An xlsx of a one-cell sheet over a shared-strings table of `strings` one-character strings (one used)."""
    sheet = f'<worksheet {NS}><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c></row></sheetData></worksheet>'
    table = f'<sst {NS} count="{strings}" uniqueCount="{strings}">' + "<si><t>a</t></si>" * strings + "</sst>"
    rels = (
        f'<Relationship Id="rId1" Type="{DOC_REL}/worksheet" Target="worksheets/sheet1.xml"/>'
        f'<Relationship Id="rId2" Type="{DOC_REL}/sharedStrings" Target="sharedStrings.xml"/>'
    )
    parts = {"xl/worksheets/sheet1.xml": sheet, "xl/sharedStrings.xml": table}
    return bare_workbook(path, '<sheet name="S" sheetId="1" r:id="rId1"/>', rels, parts)


def xlsb_with_strings(path: Path, declared: int, strings: int) -> Path:
    """An xlsb of one cell whose xl/sharedStrings.bin declares `declared` strings (BrtBeginSst's cstUnique) and
    holds `strings` one-character ones: calamine reads as many as it declares."""
    xlsb_workbook(path, [[1.5]])
    with zipfile.ZipFile(path) as archive:
        parts = {info.filename: archive.read(info) for info in archive.infolist()}
    item = b"\x13\x07\x00" + struct.pack("<I", 1) + "a".encode("utf-16-le")  # BrtSSTItem: flags, XLWideString
    parts["xl/sharedStrings.bin"] = b"\x9f\x01\x08" + struct.pack("<II", declared, declared) + item * strings
    parts["xl/sharedStrings.bin"] += b"\xa0\x01\x00"  # BrtEndSst
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return path
