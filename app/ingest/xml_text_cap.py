"""Cut a workbook part's long cell texts short as its XML streams, so a preview never loads a 50 MB cell whole.

calamine keeps a cell's text whole, and a preview converts it several times over (Python, Arrow, JSON): one
50 MB cell took the API process from 226 MB to 584 MB for a preview that shows 10,000 characters of it. The
preview reads a copy of the workbook whose cell texts (`<t>` of shared and inline strings, `<v>`) stop after
`max_chars` characters; the XML stays well formed (a cut never splits a character or an entity) and memory
stays bounded by a chunk, whatever the text's length.
"""

from __future__ import annotations

import re

from app.ingest.xlsx_copy import HeldBack

#: The start tag of an element whose text is a cell's text: <t> (shared and inline strings) or <v> (values).
_VALUE_TAG = re.compile(rb"(?:[\w.-]+:)?[tv](?:\s[^>]*)?>")
#: One character of XML text: an entity or character reference, or one UTF-8 encoded character.
_CHAR = re.compile(rb"&#?\w{1,10};|[\x00-\x7f]|[\xc0-\xff][\x80-\xbf]{0,3}|[\x80-\xbf]")
#: The most bytes one character takes in XML text (`&#x10FFFF;` is ten; a named entity at most thirteen).
CHAR_BYTES = 13


class TextCap(HeldBack):
    """Feeds XML through in chunks; a text run of a <t> or <v> element longer than `max_chars` characters is cut.

    A run is decided once its tag and enough bytes for `max_chars` characters are seen; the rest of it, up to
    the next tag, is then dropped as it arrives, so nothing longer than that is ever held.
    """

    def __init__(self, max_chars: int) -> None:
        self.max_chars = max_chars
        #: How many texts were cut.
        self.cut = 0
        #: Inside a run already decided: True drops its bytes up to the next tag, False passes them.
        self._dropping: bool | None = None
        self._decide_at = max_chars * CHAR_BYTES + 4096

    @property
    def changed(self) -> bool:
        return self.cut > 0

    def feed(self, chunk: bytes) -> bytes:
        """The capped XML for `chunk` (bytes may be held back until the next call)."""
        out = b""
        if self._dropping is not None:
            at = chunk.find(b"<")
            if at < 0:
                return b"" if self._dropping else chunk
            out, chunk, self._dropping = (b"" if self._dropping else chunk[:at]), chunk[at:], None
        data = self._held + chunk
        at = data.rfind(b"<")
        if at < 0:  # text before the first tag (only at the start)
            self._held = b""
            return out + data
        done, self._held = self._edit(data[:at]), data[at:]
        if len(self._held) > self._decide_at:  # a long run: decide it now, hold nothing of it
            run, self._held = self._held, b""
            capped = self._edit(run)
            self._dropping = len(capped) < len(run)
            done += capped
        return out + done

    def _edit(self, data: bytes) -> bytes:
        if len(data) <= self.max_chars or not self._long_run(data):
            return data
        parts = data.split(b"<")
        if max(map(len, parts)) <= self.max_chars:  # the common case, at C speed
            return data
        return b"<".join(parts[:1] + [self._cap_run(part) for part in parts[1:]])

    def _long_run(self, data: bytes) -> bool:
        """Whether `data` may hold more than max_chars bytes between two `<`. A run that long covers a whole step
        of half its length, so one `find` per step rules it out: a few hundred per MB, not one object per tag."""
        step = (self.max_chars + 1) // 2
        return any(data.find(b"<", at, at + step) < 0 for at in range(0, len(data), step))

    def _cap_run(self, part: bytes) -> bytes:
        """One `tag>text` part (without its `<`), its text cut after max_chars characters if it is a value's."""
        if len(part) <= self.max_chars:
            return part
        tag = _VALUE_TAG.match(part)
        if tag is None:
            return part
        end = None
        for count, char in enumerate(_CHAR.finditer(part, tag.end()), start=1):
            if count == self.max_chars:
                end = char.end()
                break
        if end is None or end >= len(part):
            return part
        self.cut += 1
        return part[:end]
