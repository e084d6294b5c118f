"""The stream names of an OLE2 compound file (the container of .xls, and of every password-protected Office file).

Excel saves a workbook with a password to open as an OLE2 file holding `EncryptionInfo` and `EncryptedPackage`
(the encrypted xlsx zip), whatever its extension; an .xls holds a `Workbook` (or, before Excel 97, `Book`)
stream; a Word or Outlook file renamed .xls holds neither. Reading the directory tells these apart at upload,
so the user hears "password-protected" or "not a workbook" instead of calamine's "Cannot detect file format".
Only the header, the FAT sectors the directory chain needs and the directory itself are read.
"""

from __future__ import annotations

import os
import struct

#: Sector ids at and above this mark the end of a chain or a special sector.
_MAX_REGULAR = 0xFFFFFFFA
#: Directory entries read at most (a real workbook has tens); bounds a looping or forged chain.
MAX_ENTRIES = 100_000
#: Streams a password-protected (agile or standard encrypted) Office document holds.
ENCRYPTED_STREAMS = frozenset({"EncryptedPackage", "EncryptionInfo"})
#: The stream holding an .xls workbook (BIFF8 `Workbook`, BIFF5 `Book`).
WORKBOOK_STREAMS = frozenset({"Workbook", "Book", "WORKBOOK", "BOOK"})


def stream_names(path: str | os.PathLike[str]) -> set[str] | None:
    """Every storage and stream name in the compound file at `path`, or None when its structure is unreadable."""
    try:
        with open(path, "rb") as handle:
            return _names(handle)
    except (OSError, struct.error, ValueError):
        return None


def _names(handle) -> set[str] | None:  # type: ignore[no-untyped-def]
    header = handle.read(512)
    if len(header) < 512:
        return None
    shift = struct.unpack_from("<H", header, 0x1E)[0]
    if shift not in (9, 12):
        return None
    size = 1 << shift
    first_dir, _, _, first_difat, difat_count = struct.unpack_from("<IIIII", header, 0x30)
    fat_sectors = [s for s in struct.unpack_from("<109I", header, 0x4C) if s < _MAX_REGULAR]
    per_sector = size // 4
    sector, seen = first_difat, 0
    while sector < _MAX_REGULAR and seen < difat_count and len(fat_sectors) < MAX_ENTRIES:
        ids = struct.unpack(f"<{per_sector}I", _sector(handle, sector, size))
        fat_sectors += [s for s in ids[:-1] if s < _MAX_REGULAR]
        sector, seen = ids[-1], seen + 1

    def next_sector(current: int) -> int:
        index, offset = divmod(current, per_sector)
        if index >= len(fat_sectors):
            raise ValueError("sector outside the FAT")
        return struct.unpack_from("<I", _sector(handle, fat_sectors[index], size), offset * 4)[0]

    names: set[str] = set()
    sector, visited = first_dir, set()
    while sector < _MAX_REGULAR and sector not in visited and len(names) < MAX_ENTRIES:
        visited.add(sector)
        data = _sector(handle, sector, size)
        for start in range(0, size, 128):
            length = struct.unpack_from("<H", data, start + 64)[0]
            if 2 <= length <= 64 and data[start + 66] in (1, 2, 5):  # storage, stream, root
                names.add(data[start : start + length - 2].decode("utf-16-le", "replace"))
        sector = next_sector(sector)
    return names


def _sector(handle, sector: int, size: int) -> bytes:  # type: ignore[no-untyped-def]
    handle.seek((sector + 1) * size)
    data = handle.read(size)
    if len(data) < size:
        raise ValueError("sector past the end of the file")
    return data
