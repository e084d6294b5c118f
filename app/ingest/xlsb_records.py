"""The BIFF12 records of an xlsb part, and where each sheet's part is: the one reading of a record header that the
xlsb walkers (app.ingest.xlsb_extent, app.ingest.biff_errors, app.ingest.biff_padded, app.ingest.date_system)
share.

Parts are found as calamine finds them (app.ingest.xlsx_parts.part: `xl/Workbook.bin`, `xl/Worksheets/Sheet1.bin`,
`xl/Styles.bin` are read as the lower-case names), all but the relationships, which calamine reads by exact name.

A record is its type (one or two bytes), its size (one to four bytes), then that many bytes of body; each header
byte carries 7 bits, its high bit saying another byte follows.
"""

from __future__ import annotations

import re
import struct
import zipfile
from collections.abc import Iterator

from app.ingest.xlsx_parts import part

#: The most bytes a record header takes: two of type, four of size.
MAX_HEADER_BYTES = 6
#: The workbook part (sheets, date system), the styles and the shared strings, as Excel names them.
XLSB_WORKBOOK, XLSB_STYLES, XLSB_STRINGS = "xl/workbook.bin", "xl/styles.bin", "xl/sharedStrings.bin"


def record_header(data: bytes, pos: int) -> tuple[int, int, int] | None:
    """(type, size, where the body starts) of the record whose header starts at `pos`; None when `data` ends
    inside the header."""
    end = len(data)
    if pos >= end:
        return None
    kind = data[pos]
    pos += 1
    if kind & 0x80:
        if pos >= end:
            return None
        kind = (kind & 0x7F) | ((data[pos] & 0x7F) << 7)
        pos += 1
    size, shift = 0, 0
    for _ in range(4):
        if pos >= end:
            return None
        byte = data[pos]
        pos += 1
        size |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            break
    return kind, size, pos


def xlsb_records(data: bytes) -> Iterator[tuple[int, int, int]]:
    """(type, where its body starts, its size) of each record of an xlsb part, up to a header cut short."""
    pos = 0
    while (header := record_header(data, pos)) is not None:
        kind, size, body = header
        yield kind, body, size
        pos = body + size


def xlsb_sheet_member(archive: zipfile.ZipFile, index: int) -> str | None:
    """The zip member of sheet `index`, as calamine numbers them (BrtBundleSh records in xl/workbook.bin)."""
    book = archive.read(part(archive, XLSB_WORKBOOK) or XLSB_WORKBOOK)
    rels = archive.read("xl/_rels/workbook.bin.rels")  # calamine: by this name exactly
    targets = {}
    for tag in re.findall(rb"<Relationship\b[^>]*>", rels):
        rid, target = re.search(rb'Id="([^"]+)"', tag), re.search(rb'Target="([^"]+)"', tag)
        if rid and target:
            targets[rid[1].decode()] = target[1].decode().lstrip("/").removeprefix("xl/")
    sheets = []
    for kind, pos, _ in xlsb_records(book):
        if kind == 0x9C:  # BrtBundleSh: hsState, iTabID, strRelID, strName
            length = struct.unpack_from("<I", book, pos + 8)[0]
            if length != 0xFFFFFFFF:
                sheets.append(book[pos + 12 : pos + 12 + 2 * length].decode("utf-16-le"))
        elif kind == 0x90:  # BrtEndBundleShs
            break
    if index >= len(sheets) or sheets[index] not in targets:
        return None
    return part(archive, f"xl/{targets[sheets[index]]}")
