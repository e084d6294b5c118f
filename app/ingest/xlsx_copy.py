"""A copy of an xlsx/xlsm package with some parts replaced or edited as they stream, the rest copied unchanged.

The preview's cut and capped copies (app.ingest.xlsx_head) and the import's copy with error cells as text
(app.ingest.xlsx_errors) are written here; parts are stored, not recompressed.
"""

from __future__ import annotations

import shutil
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Protocol

#: Decompressed bytes read per step.
CHUNK = 1 << 20


class Edit(Protocol):
    """Rewrites XML fed in chunks (it may hold bytes back until the next chunk or `close`)."""

    @property
    def changed(self) -> bool: ...

    def feed(self, chunk: bytes, /) -> bytes: ...

    def close(self) -> bytes: ...

    def held(self) -> bytes: ...


class HeldBack:
    """Base of an edit that holds back the end of a chunk it cannot decide yet (a cut tag, a text run)."""

    _held = b""

    def _edit(self, data: bytes) -> bytes:
        raise NotImplementedError

    def close(self) -> bytes:
        """What is still held, edited, at the end of the stream."""
        rest, self._held = self._held, b""
        return self._edit(rest)

    def held(self) -> bytes:
        """The raw bytes held back (for a reader that goes on without the edit)."""
        rest, self._held = self._held, b""
        return rest


class Chain:
    """Several edits, one after the other."""

    def __init__(self, *edits: Edit) -> None:
        self.edits = edits

    @property
    def changed(self) -> bool:
        return any(edit.changed for edit in self.edits)

    def feed(self, chunk: bytes, /) -> bytes:
        for edit in self.edits:
            chunk = edit.feed(chunk) if chunk else b""
        return chunk

    def close(self) -> bytes:
        data = b""
        for edit in self.edits:
            data = (edit.feed(data) if data else b"") + edit.close()
        return data

    def held(self) -> bytes:
        """The bytes held back, in stream order: what a later edit holds came before what an earlier one does."""
        return b"".join(edit.held() for edit in reversed(self.edits))


def edits_anything(source: zipfile.ZipFile, member: str, edit: Edit) -> bool:
    """Whether `edit` would change `member` (streamed through it, the output dropped; stops at the first change)."""
    with source.open(member) as handle:
        while raw := handle.read(CHUNK):
            edit.feed(raw)
            if edit.changed:
                return True
    edit.close()
    return edit.changed


def write_copy(
    source: zipfile.ZipFile,
    dest: Path,
    *,
    replaced: Mapping[str, bytes] | None = None,
    streamed: Mapping[str, Callable[[], Edit]] | None = None,
) -> None:
    """`source` as a stored zip at `dest`: `replaced` parts as given, `streamed` ones through a fresh edit each."""
    replaced, streamed = replaced or {}, streamed or {}
    with zipfile.ZipFile(dest, "w", compression=zipfile.ZIP_STORED) as target:
        for item in source.infolist():
            if item.filename in replaced:
                target.writestr(item.filename, replaced[item.filename])
                continue
            with source.open(item) as src, target.open(item.filename, "w", force_zip64=True) as out:
                make = streamed.get(item.filename)
                if make is None:
                    shutil.copyfileobj(src, out, CHUNK)
                    continue
                edit = make()
                while raw := src.read(CHUNK):
                    out.write(edit.feed(raw))
                out.write(edit.close())
