"""OLE2 compound files (the container of .xls, and of every password-protected Office file): stream names, and
one stream's bytes.

Excel saves a workbook with a password to open as an OLE2 file holding `EncryptionInfo` and `EncryptedPackage`
(the encrypted xlsx zip), whatever its extension; an .xls holds a `Workbook` (or, before Excel 97, `Book`)
stream; a Word or Outlook file renamed .xls holds neither. Reading the directory tells these apart at upload,
so the user hears "password-protected" or "not a workbook" instead of calamine's "Cannot detect file format".
Only the header, the FAT sectors the directory chain needs and the directory itself are read for the names;
`read_stream` also follows one stream's chain (an .xls's formula error cells: app.ingest.biff_errors).
"""

from __future__ import annotations

import io
import os
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from typing import BinaryIO

#: A file to read: a path, or an open seekable binary file (an object of the store read by ranges).
Source = str | os.PathLike[str] | BinaryIO

#: Sector ids at and above this mark the end of a chain or a special sector.
_MAX_REGULAR = 0xFFFFFFFA
#: Directory entries read at most (a real workbook has tens); bounds a looping or forged chain.
MAX_ENTRIES = 100_000
#: Streams a password-protected (agile or standard encrypted) Office document holds.
ENCRYPTED_STREAMS = frozenset({"EncryptedPackage", "EncryptionInfo"})
#: The stream holding an .xls workbook (BIFF8 `Workbook`, BIFF5 `Book`).
WORKBOOK_STREAMS = frozenset({"Workbook", "Book", "WORKBOOK", "BOOK"})
#: Bytes of a mini-stream sector (streams under the header's cutoff, 4096 bytes, live in the mini stream).
_MINI_SECTOR = 64


@contextmanager
def opened(source: Source) -> Iterator[BinaryIO]:
    """`source` open for reading from its start: a path opened (and closed after), a file rewound (left open)."""
    if isinstance(source, (str, os.PathLike)):
        with open(source, "rb") as handle:
            yield handle
    else:
        source.seek(0)
        yield source


def source_size(source: Source) -> int:
    if isinstance(source, (str, os.PathLike)):
        return os.stat(source).st_size
    return source.seek(0, io.SEEK_END)


def stream_names(path: Source) -> set[str] | None:
    """Every storage and stream name in the compound file at `path`, or None when its structure is unreadable."""
    try:
        with opened(path) as handle:
            container = _Container(handle)
            if container.size == 0:
                return None
            return {entry[0] for entry in container.entries()}
    except (OSError, struct.error, ValueError):
        return None


def read_stream(path: str | os.PathLike[str], names: frozenset[str]) -> bytes | None:
    """The bytes of the first stream named one of `names`, or None when there is none or it is unreadable."""
    try:
        with open(path, "rb") as handle:
            container = _Container(handle)
            if container.size == 0:
                return None
            for name, kind, start, size in container.entries():
                if kind == 2 and name in names:
                    return container.stream(start, size)
    except (OSError, struct.error, ValueError):
        return None
    return None


class _Container:
    """The header and FAT of a compound file; `size` is 0 when the header is not one."""

    def __init__(self, handle: BinaryIO) -> None:
        self.handle = handle
        header = handle.read(512)
        shift = struct.unpack_from("<H", header, 0x1E)[0] if len(header) == 512 else 0
        self.size = 1 << shift if shift in (9, 12) else 0
        if not self.size:
            return
        (self.first_dir, _, self.cutoff, self.first_mini_fat, _, first_difat, difat_count) = struct.unpack_from(
            "<IIIIIII", header, 0x30
        )
        self.per_sector = self.size // 4
        self.fat_sectors = [s for s in struct.unpack_from("<109I", header, 0x4C) if s < _MAX_REGULAR]
        sector, seen = first_difat, 0
        while sector < _MAX_REGULAR and seen < difat_count and len(self.fat_sectors) < MAX_ENTRIES:
            ids = struct.unpack(f"<{self.per_sector}I", self.sector(sector))
            self.fat_sectors += [s for s in ids[:-1] if s < _MAX_REGULAR]
            sector, seen = ids[-1], seen + 1

    def sector(self, sector: int) -> bytes:
        self.handle.seek((sector + 1) * self.size)
        data = self.handle.read(self.size)
        if len(data) < self.size:
            raise ValueError("sector past the end of the file")
        return data

    def next_sector(self, current: int) -> int:
        index, offset = divmod(current, self.per_sector)
        if index >= len(self.fat_sectors):
            raise ValueError("sector outside the FAT")
        return struct.unpack_from("<I", self.sector(self.fat_sectors[index]), offset * 4)[0]

    def chain(self, start: int) -> Iterator[int]:
        """The sectors of a chain, in order; stops at a loop."""
        sector, visited = start, set()
        while sector < _MAX_REGULAR and sector not in visited:
            visited.add(sector)
            yield sector
            sector = self.next_sector(sector)

    def entries(self) -> Iterator[tuple[str, int, int, int]]:
        """(name, type, start sector, size) of each directory entry: storage 1, stream 2, root 5."""
        count = 0
        for sector in self.chain(self.first_dir):
            data = self.sector(sector)
            for start in range(0, self.size, 128):
                length = struct.unpack_from("<H", data, start + 64)[0]
                if 2 <= length <= 64 and data[start + 66] in (1, 2, 5):
                    name = data[start : start + length - 2].decode("utf-16-le", "replace")
                    first, size = struct.unpack_from("<II", data, start + 116)
                    yield name, data[start + 66], first, size
                    count += 1
                    if count >= MAX_ENTRIES:
                        return

    def stream(self, start: int, size: int) -> bytes:
        if size >= self.cutoff:
            return b"".join(self.sector(s) for s in self.chain(start))[:size]
        root = next((e for e in self.entries() if e[1] == 5), None)
        if root is None:
            raise ValueError("no root entry")
        mini = b"".join(self.sector(s) for s in self.chain(root[2]))[: root[3]]
        mini_fat = b"".join(self.sector(s) for s in self.chain(self.first_mini_fat))
        out, sector, visited = [], start, set()
        while sector < _MAX_REGULAR and sector not in visited and 4 * sector + 4 <= len(mini_fat):
            visited.add(sector)
            out.append(mini[sector * _MINI_SECTOR : (sector + 1) * _MINI_SECTOR])
            sector = struct.unpack_from("<I", mini_fat, 4 * sector)[0]
        return b"".join(out)[:size]
