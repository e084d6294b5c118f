"""The date system a workbook counts its serial dates in: 1900 (Windows Excel's default) or 1904 (Excel for Mac's,
`date1904` in workbook.xml), read from the file itself.

calamine honours it for cells formatted as dates; a plain number in a column the import types as a date is a
serial we convert ourselves (app.ingest.convert.serial_datetime), and counted from 1899-12-30 in a 1904
workbook it landed 1,462 days early.
"""

from __future__ import annotations

import re
import struct
import zipfile

from app.ingest.biff_errors import xlsb_records
from app.ingest.ole import WORKBOOK_STREAMS, read_stream

#: `<workbookPr date1904="1">` (or "true"), with or without a namespace prefix.
_XLSX_1904 = re.compile(rb"<(?:\w+:)?workbookPr\b[^>]*\bdate1904\s*=\s*[\"'](?:1|true)[\"']")
#: Bytes of workbook.xml read for it: workbookPr comes before the sheets list, near the top.
XLSX_HEAD_BYTES = 64 * 1024
#: xls: the DATEMODE record (f1904 in its two-byte body).
_DATEMODE = 0x0022
#: xls: records of the workbook globals read at most looking for DATEMODE (it comes early).
MAX_GLOBAL_RECORDS = 10_000
#: xlsb: BrtWbProp, whose first flags bit is f1904.
_BRT_WB_PROP = 0x99


def is_date1904(path: str, kind: str) -> bool:
    """Whether the workbook at `path` (of `kind`: xlsx, xlsm, xlsb, xls, ods) counts serial dates from 1904-01-01.
    An unreadable file says no: calamine then reports what is wrong with it."""
    try:
        if kind in ("xlsx", "xlsm"):
            with zipfile.ZipFile(path) as archive, archive.open("xl/workbook.xml") as handle:
                return _XLSX_1904.search(handle.read(XLSX_HEAD_BYTES)) is not None
        if kind == "xls":
            return _xls(path)
        if kind == "xlsb":
            with zipfile.ZipFile(path) as archive:
                return _xlsb(archive.read("xl/workbook.bin"))
    except (OSError, KeyError, IndexError, ValueError, struct.error, zipfile.BadZipFile, zipfile.LargeZipFile):
        pass
    return False


def _xls(path: str) -> bool:
    stream = read_stream(path, WORKBOOK_STREAMS)
    pos = 0
    for _ in range(MAX_GLOBAL_RECORDS):
        if stream is None or pos + 4 > len(stream):
            break
        kind, size = struct.unpack_from("<HH", stream, pos)
        if kind == _DATEMODE and size >= 2:
            return struct.unpack_from("<H", stream, pos + 4)[0] == 1
        if kind == 0x000A:  # EOF of the globals
            break
        pos += 4 + size
    return False


def _xlsb(book: bytes) -> bool:
    for kind, pos, size in xlsb_records(book):
        if kind == _BRT_WB_PROP and size >= 4:
            return bool(struct.unpack_from("<I", book, pos)[0] & 1)
        if kind == 0x8F:  # BrtBeginBundleShs: the sheets list, after the workbook properties
            break
    return False
