"""A CSV's footer: the summary lines after its table (共8笔记录, 已收入:8笔 1,234.56元, a `#-----` rule), found
from the file's tail so neither preview nor import reads the whole file for it.

`skip_footer` counts non-empty lines (blank lines around them go too). The import reads the file only up to
the byte where the footer starts (a streamed copy cut there: DuckDB cannot stop at an offset), the preview cuts
its decoded head at the same line.
"""

from __future__ import annotations

import codecs
import os
import re

from app.ingest.errors import field_error
from app.ingest.notices import note
from app.ingest.notices.file import FooterLeftOut

#: Bytes read from a file's end for its footer lines (summary lines are short).
FOOTER_TAIL_BYTES = 256 * 1024
#: Splits text after each line end (LF, CRLF, a lone CR), keeping it on its line.
_LINE_ENDS = re.compile(r"(?<=\n)|(?<=\r)(?!\n)")


def footer_start(text: str, lines: int) -> int | None:
    """Where in `text` its last `lines` non-empty lines (and the blank lines after them) start, or None when it
    holds no more non-empty lines than that (nothing would be left, or the text is a cut tail)."""
    parts = _LINE_ENDS.split(text)
    end, found = len(text), 0
    for part in reversed(parts):
        if found == lines and part.strip():
            return end
        end -= len(part)
        found += bool(part.strip())
    return None


def footer_lines(text: str, lines: int) -> list[str]:
    """The last `lines` non-empty lines of `text`, stripped, for messages."""
    start = footer_start(text, lines)
    tail = text[start:] if start is not None else text
    return [part.strip() for part in _LINE_ENDS.split(tail) if part.strip()]


def _codec(path: str | os.PathLike[str], encoding: str) -> str:
    """The codec a piece cut from the file's middle decodes by: UTF-16's byte order from its mark."""
    if encoding == "utf-16":
        with open(path, "rb") as handle:
            return "utf-16-be" if handle.read(2) == codecs.BOM_UTF16_BE else "utf-16-le"
    return "utf-8" if encoding == "utf-8-sig" else encoding


def tail_text(path: str | os.PathLike[str], encoding: str, max_bytes: int = FOOTER_TAIL_BYTES) -> tuple[str, bool]:
    """The file's last whole lines within `max_bytes`, decoded, and whether that is the whole file."""
    size = os.path.getsize(path)
    codec = _codec(path, encoding)
    start = max(size - max_bytes, 0)
    if codec.startswith("utf-16"):
        start -= start % 2
    with open(path, "rb") as handle:
        handle.seek(start)
        data = handle.read()
    if start and not codec.startswith("utf-16"):
        # no byte of a multi-byte character is a line end in the encodings we read: decode from a line start
        cut = min((i for i in (data.find(b"\n"), data.find(b"\r")) if i >= 0), default=len(data) - 1)
        data = data[cut + 1 :]
    text = data.decode(codec, errors="replace")
    if start and codec.startswith("utf-16"):
        first = _LINE_ENDS.split(text, maxsplit=1)
        text = first[1] if len(first) > 1 else ""
    return text.lstrip("\ufeff") if not start else text, not start


def footer_offset(path: str | os.PathLike[str], encoding: str, lines: int) -> tuple[int, list[str]]:
    """The byte offset where the file's last `lines` non-empty lines start, and those lines; a field error
    when they are not all in the last FOOTER_TAIL_BYTES or would leave no line before them."""
    text, whole = tail_text(path, encoding)
    start = footer_start(text, lines)
    if start is None:
        if whole:
            raise field_error("skip_footer", f"the file has no more than {lines} non-empty line(s): nothing is left")
        raise field_error("skip_footer", f"the last {lines} lines are longer than {FOOTER_TAIL_BYTES} bytes together")
    footer = text[start:]
    if "\ufffd" in footer:
        raise field_error("skip_footer", f"the last {lines} lines hold bytes that are not valid {encoding}")
    size = os.path.getsize(path)
    return size - len(footer.encode(_codec(path, encoding))), footer_lines(footer, lines)


def footer_warning(lines: list[str]) -> str:
    """What preview and import say about the lines `skip_footer` left out."""
    return note(FooterLeftOut(count=len(lines), lines=[line[:40] for line in lines[:5]]))
