"""`gb18030-sig`: GB18030 text behind a UTF-8 byte order mark, as an export script writes it when it puts the BOM
that makes Excel read UTF-8 before text its database holds in GBK. Read as UTF-8 every Chinese character of it was
a replacement character (and DuckDB's sniffer refused the header it could not tell); read as GB18030 the BOM's
three bytes garbled the first column's name. The codec reads it as Python's `utf-8-sig` reads UTF-8: the BOM
dropped, the rest decoded as GB18030, so every reader (previews, transcodes to UTF-8, ijson's) reads it alike.
Registered on import: app.ingest.config imports this module before it looks an encoding up.
"""

from __future__ import annotations

import codecs
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer

#: The codec's name (an import configuration may state it, as the sniffer does).
GB18030_SIG = "gb18030-sig"


class _Decoder(codecs.IncrementalDecoder):
    """GB18030 after a leading UTF-8 BOM, which is dropped (bytes held back until the BOM is known to be there)."""

    def __init__(self, errors: str = "strict") -> None:
        super().__init__(errors)
        self._inner = codecs.getincrementaldecoder("gb18030")(errors)
        self._head: bytes | None = b""  # None once past the BOM (or its absence)

    def decode(self, input: ReadableBuffer, final: bool = False) -> str:
        if self._head is not None:
            head = self._head + bytes(input)
            if not final and len(head) < len(codecs.BOM_UTF8) and codecs.BOM_UTF8.startswith(head):
                self._head = head
                return ""
            input, self._head = head.removeprefix(codecs.BOM_UTF8), None
        return self._inner.decode(input, final)

    def reset(self) -> None:
        self._inner.reset()
        self._head = b""


def _decode(data: ReadableBuffer, errors: str = "strict") -> tuple[str, int]:
    data = bytes(data)
    return _Decoder(errors).decode(data, final=True), len(data)


def _encode(text: str, errors: str = "strict") -> tuple[bytes, int]:
    return codecs.BOM_UTF8 + text.encode("gb18030", errors), len(text)


def _search(name: str) -> codecs.CodecInfo | None:
    if name.replace("-", "_") != GB18030_SIG.replace("-", "_"):
        return None
    return codecs.CodecInfo(name=GB18030_SIG, encode=_encode, decode=_decode, incrementaldecoder=_Decoder)


codecs.register(_search)
