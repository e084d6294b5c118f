"""The date system a workbook counts its serial dates in, read from the file itself: Excel's 1900 (Windows Excel's
default) or 1904 (Excel for Mac's, `date1904` in workbook.xml), or an ods's null date.

calamine honours it for cells formatted as dates (an ods stores those as ISO dates, `office:date-value`, whatever
its null date); a plain number in a column the import types as a date is a serial we convert ourselves
(app.ingest.convert.serial_datetime), and counted from 1899-12-30 in a 1904 workbook it landed 1,462 days early.

An ods counts day N as its null date plus N days (OpenDocument 1.2, part 1, 9.4.2 <table:null-date>: the date of
the value 0, 1899-12-30 unless the calculation settings say otherwise), with no 1900-02-29: LibreOffice's serial 1
is 1899-12-31 where Excel's is 1900-01-01, so Excel's correction below 60 moved an ods's early serials a day late.
Its null date may be any day: 1904-01-01 for a sheet made in Excel for Mac's system, 1900-01-01 for StarCalc 1.0's;
a serial below 0 is a day before it, as LibreOffice shows it.
"""

from __future__ import annotations

import datetime as dt
import re
import struct
import zipfile
from typing import NamedTuple

from app.ingest.ole import WORKBOOK_STREAMS, read_stream
from app.ingest.xlsb_records import XLSB_WORKBOOK, xlsb_records
from app.ingest.xlsx_parts import WORKBOOK, part

#: `<workbookPr date1904="1">` (or "true"), with or without a namespace prefix.
_XLSX_1904 = re.compile(rb"<(?:\w+:)?workbookPr\b[^>]*\bdate1904\s*=\s*[\"'](?:1|true)[\"']")
#: Bytes of workbook.xml read for it: workbookPr comes before the sheets list, near the top.
XLSX_HEAD_BYTES = 64 * 1024
#: ods: the null date of the calculation settings, `<table:null-date table:date-value="1904-01-01"/>`.
_ODS_NULL_DATE = re.compile(rb"<table:null-date\b[^>]*\btable:date-value\s*=\s*[\"']([0-9-]+)")
#: ods: the first table, after the settings (`<table:table-row` is not one).
_ODS_TABLE = re.compile(rb"<table:table[\s>]")
#: ods: bytes of content.xml read at most for the settings (the automatic styles before them can be long).
ODS_HEAD_BYTES = 64 << 20
#: ods: bytes read per step.
ODS_CHUNK = 1 << 20


class DateOrigin(NamedTuple):
    """How a workbook counts serial dates: the date of serial 0, whether serials below 60 are a day later (Excel's
    1900 system counts a 1900-02-29 that never was), and whether a serial below 0 is a date (an ods's)."""

    epoch: dt.datetime
    leap_bug: bool = False
    negative: bool = False


#: Excel's 1900 date system (Windows' default; 1900-02-29, which never was, is day 60).
EXCEL_1900 = DateOrigin(dt.datetime(1899, 12, 30), leap_bug=True)
#: Excel's 1904 date system (Excel for Mac's; `date1904` in the workbook).
EXCEL_1904 = DateOrigin(dt.datetime(1904, 1, 1))
#: An ods's null date when its calculation settings name none.
ODS_DEFAULT_NULL_DATE = dt.datetime(1899, 12, 30)
#: xls: the DATEMODE record (f1904 in its two-byte body).
_DATEMODE = 0x0022
#: xls: records of the workbook globals read at most looking for DATEMODE (it comes early).
MAX_GLOBAL_RECORDS = 10_000
#: xlsb: BrtWbProp, whose first flags bit is f1904.
_BRT_WB_PROP = 0x99


def date_origin(path: str, kind: str) -> DateOrigin:
    """How the workbook at `path` (of `kind`: xlsx, xlsm, xlsb, xls, ods) counts serial dates. An unreadable file
    says Excel's 1900 system (an ods its default null date): calamine then reports what is wrong with it."""
    if kind == "ods":
        return DateOrigin(_ods_origin(path), negative=True)
    return EXCEL_1904 if _is_date1904(path, kind) else EXCEL_1900


def _is_date1904(path: str, kind: str) -> bool:
    """Whether the Excel workbook at `path` counts serial dates from 1904-01-01."""
    try:
        if kind in ("xlsx", "xlsm"):
            with zipfile.ZipFile(path) as archive, archive.open(part(archive, WORKBOOK) or WORKBOOK) as handle:
                return _XLSX_1904.search(handle.read(XLSX_HEAD_BYTES)) is not None
        if kind == "xls":
            return _xls(path)
        if kind == "xlsb":
            with zipfile.ZipFile(path) as archive:
                return _xlsb(archive.read(part(archive, XLSB_WORKBOOK) or XLSB_WORKBOOK))
    except (OSError, KeyError, IndexError, ValueError, struct.error, zipfile.BadZipFile, zipfile.LargeZipFile):
        pass
    return False


def _ods_origin(path: str) -> dt.datetime:
    """An ods's null date (ODS_DEFAULT_NULL_DATE when it names none, or one that is no date)."""
    try:
        named = _ods_null_date(path)
        return dt.datetime.fromisoformat(named.decode()) if named else ODS_DEFAULT_NULL_DATE
    except (OSError, KeyError, ValueError, zipfile.BadZipFile, zipfile.LargeZipFile):
        return ODS_DEFAULT_NULL_DATE


def _ods_null_date(path: str) -> bytes | None:
    """The null date of an ods's calculation settings (None: the default, 1899-12-30), streamed from content.xml
    until the first table (the settings come before the tables) or ODS_HEAD_BYTES."""
    with zipfile.ZipFile(path) as archive, archive.open("content.xml") as handle:
        tail, read = b"", 0
        while read < ODS_HEAD_BYTES and (chunk := handle.read(ODS_CHUNK)):
            read += len(chunk)
            data = tail + chunk
            found = _ODS_NULL_DATE.search(data)
            if found:
                return found[1]
            if _ODS_TABLE.search(data):
                return None
            tail = data[-256:]  # a tag cut by the chunk
    return None


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
