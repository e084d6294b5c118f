"""One reading of an xlsb record header (type: one or two bytes, size: one to four, 7 bits each) for every xlsb
walker: xlsb_extent and biff_errors each had their own copy, and the two had drifted (one stopped at a header cut
short, the other raised IndexError and lost every error cell it had found)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import app.ingest
from app.ingest.xlsb_records import record_header, xlsb_records


@pytest.mark.parametrize(
    ("data", "header"),
    [
        (b"\x00\x11", (0x00, 0x11, 2)),  # BrtRowHdr, 17 bytes
        (b"\x94\x01\x10", (0x94, 0x10, 3)),  # BrtWsDim: a two-byte type
        (b"\x81\x05\xff\xff\xff\x7f", (0x281, 0x0FFFFFFF, 6)),  # the longest header: two of type, four of size
        (b"\x06\x80\x01", (0x06, 128, 3)),
        (b"", None),
        (b"\x94", None),  # cut inside the type
        (b"\x06\x80", None),  # cut inside the size
    ],
)
def test_a_record_header_is_read_or_said_to_be_cut(data: bytes, header: tuple[int, int, int] | None):
    assert record_header(data, 0) == header


def test_records_stop_at_a_header_cut_short():
    data = b"\x00\x02ab" + b"\x92\x01\x00" + b"\x06\x80"
    assert list(xlsb_records(data)) == [(0x00, 2, 2), (0x92, 7, 0)]


def test_only_one_module_decodes_an_xlsb_record_header():
    """The second type byte's seven bits (`(… & 0x7F) << 7`) are decoded in one place only."""
    root = Path(app.ingest.__file__).parent
    decoding = re.compile(r"& 0x7F\)\s*<<\s*7")
    found = sorted(p.name for p in root.rglob("*.py") if decoding.search(p.read_text()))
    assert found == ["xlsb_records.py"]
