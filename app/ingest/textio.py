"""Text files in any supported encoding: a bounded decoded prefix for previews, a streaming transcode to UTF-8.

DuckDB reads UTF-8, UTF-16 and Latin-1 itself; other encodings (GB18030/GBK, cp1252) need its `encodings`
extension, which a sandboxed job may not install, so they are transcoded to a UTF-8 temp file first.
"""

from __future__ import annotations

import codecs
import io
import os
import re
from collections.abc import Callable
from typing import NamedTuple

from app.ingest.errors import ImportCancelled, failed, problem
from app.ingest.notices import note
from app.ingest.notices.file import LineEnds

#: Encodings DuckDB's CSV reader decodes natively, with the name it wants.
DUCKDB_ENCODINGS = {"utf-8": "utf-8", "utf-8-sig": "utf-8", "utf-16": "utf-16", "latin-1": "latin-1"}


def duckdb_encoding(path: str | os.PathLike[str], encoding: str) -> str | None:
    """The name DuckDB's CSV reader decodes `encoding` by, or None when the file must be transcoded first.

    DuckDB's `utf-16` is little-endian only: a UTF-16 file with a big-endian byte order mark (Excel's
    "Unicode Text" saved on some systems, a few bank exports) previewed fine and then failed to import.
    """
    name = DUCKDB_ENCODINGS.get(encoding)
    if name == "utf-16":
        with open(path, "rb") as handle:
            if handle.read(2) == codecs.BOM_UTF16_BE:
                return None
    return name


#: Read/transcode chunk size.
CHUNK_BYTES = 1024 * 1024
#: Bytes of a CSV's head (characters, of a preview's text) looked at to tell whether its lines end in lone CRs.
CR_CHECK_BYTES = 64 * 1024


class TextPrefix(NamedTuple):
    """A decoded head of a file (`read_text_prefix`)."""

    text: str
    #: Whether it is the whole file.
    complete: bool
    #: Byte sequences that could not be decoded (each one replacement character).
    replaced: int
    #: Bytes of the file it holds.
    size: int


def read_text_prefix(path: str | os.PathLike[str], encoding: str, max_bytes: int) -> TextPrefix:
    """Decode at most `max_bytes` from the start, cut at the last line break unless the file ended."""
    with open(path, "rb") as handle:
        data = handle.read(max_bytes + 1)
    complete = len(data) <= max_bytes
    if not complete:
        data = data[:max_bytes]
        cut = max(data.rfind(b"\n"), data.rfind(b"\r"))  # a lone CR ends lines too (classic Mac)
        if cut > 0:
            data = data[: cut + 1]
    text = codecs.getincrementaldecoder(encoding)(errors="replace").decode(data, final=complete)
    return TextPrefix(text.lstrip("\ufeff"), complete, text.count("\ufffd"), len(data))


def line_length_at(path: str | os.PathLike[str], offset: int, max_bytes: int) -> int | None:
    """Bytes of the line that starts at byte `offset` of `path`, its line break included (to the file's end for a
    last line without one), or None when it holds more than `max_bytes` before its break: at most that much is read."""
    seen = 0
    with open(path, "rb") as handle:
        handle.seek(offset)
        while chunk := handle.read(min(CHUNK_BYTES, max_bytes + 1 - seen)):
            ends = [at for at in (chunk.find(b"\n"), chunk.find(b"\r")) if at >= 0]
            if ends:
                return seen + min(ends) + 1
            seen += len(chunk)
            if seen > max_bytes:
                return None
    return seen


#: Line ends DuckDB does not read as such, written as LF by `as_lf` and `transcode_to_utf8`: a lone CR (classic
#: Mac OS, Excel's "CSV (Macintosh)") and LF then CR (some old tools, e.g. on Acorn RISC OS).
LONE_CR, LF_CR = "\r", "\n\r"
#: Lines ending in CRLF and in LF in one file (an Excel export with rows a script appended): DuckDB's sniffer gives
#: up on it and its reader fails. Read as LONE_CR is (every CRLF, LF and CR one line end); not a line end itself.
MIXED = "mixed"
#: A quote, or a line end, in the order met: a line end inside quotes is a cell's line break, not a row's end.
_QUOTE_OR_LINE_END = re.compile(r'"|\r?\n')


def odd_line_ends(text: str) -> str | None:
    """The line end most lines of `text` use when DuckDB cannot read it (LONE_CR or LF_CR), else None.

    DuckDB reads a file of only lone CRs, but not one that mixes them with LF or CRLF (a last line added on
    another system): its sniffer gave up with a page-long message, or the import failed where the preview
    (a head without the last line) had worked. It gives up on LF CR line ends (`csv_dialect_unknown`). A CRLF
    file's empty line holds one LF CR pair ("\r\n\r\n") among more CRLFs: it stays CRLF, its rows all kept.
    """
    lf_cr = text.count(LF_CR)
    if lf_cr > text.count("\r\n") and 2 * lf_cr > text.count("\n"):
        return LF_CR
    lone = text.count("\r") - text.count("\r\n")
    if lone > 0 and lone > text.count("\n"):
        return LONE_CR
    return MIXED if mixes_crlf_and_lf(text) else None


def mixes_crlf_and_lf(text: str) -> bool:
    """Whether rows of `text` end in CRLF and others in a bare LF, outside quotes (an Excel export's cells hold LF
    line breaks between CRLF row ends: that is no mix)."""
    return _RowEnds().mixed(text, final=True)


def file_mixes_crlf_and_lf(
    path: str | os.PathLike[str], encoding: str, should_stop: Callable[[], bool] | None = None
) -> bool:
    """`mixes_crlf_and_lf` of the whole file, read in chunks (bounded memory), stopping at the first mix.

    For a file whose mix starts past the CR_CHECK_BYTES head (rows appended far down): only read once DuckDB has
    failed on it, so a file that imports is not scanned twice. Undecodable bytes are read as U+FFFD here: the
    import that follows still fails on them as it would have."""
    ends, decoder = _RowEnds(), codecs.getincrementaldecoder(encoding)(errors="replace")
    with open(path, "rb") as reader:
        while chunk := reader.read(CHUNK_BYTES):
            if should_stop is not None and should_stop():
                raise ImportCancelled("import cancelled while reading line ends")
            if ends.mixed(decoder.decode(chunk)):
                return True
    return ends.mixed(decoder.decode(b"", final=True), final=True)


class _RowEnds:
    """The row ends (CRLF, LF) met outside quotes in text read in pieces: a CR ending a piece waits for the next."""

    def __init__(self) -> None:
        self.quoted = False
        self.ends = set[str]()
        self.held = ""

    def mixed(self, text: str, final: bool = False) -> bool:
        """Whether both ends have been met, up to the end of `text`."""
        text, self.held = self.held + text, ""
        if not final and text.endswith("\r"):
            text, self.held = text[:-1], "\r"
        for found in _QUOTE_OR_LINE_END.finditer(text):
            token = found.group()
            if token == '"':
                self.quoted = not self.quoted
            elif not self.quoted:
                self.ends.add(token)
        return len(self.ends) == 2


def line_ends_warning(ends: str) -> str:
    """What a preview and an import say when they read a file's odd line ends as LF."""
    return note(LineEnds(ends="lf_cr" if ends == LF_CR else "mixed" if ends == MIXED else "cr"))


def as_lf(text: str, ends: str) -> str:
    """The line ends `odd_line_ends` found as LF (for LONE_CR and MIXED every CRLF and lone CR): what
    `transcode_to_utf8(..., line_ends=ends)` writes."""
    if ends == LF_CR:
        return text.replace(LF_CR, "\n")
    return text.replace("\r\n", "\n").replace("\r", "\n")


class _LfCrAsLf:
    """Decodes through `inner`, each LF CR as LF (an LF at a chunk's end waits for the next chunk's first byte)."""

    def __init__(self, inner: codecs.IncrementalDecoder) -> None:
        self.inner = inner
        self.held = ""

    def decode(self, data: bytes, final: bool = False) -> str:
        text = self.held + self.inner.decode(data, final)
        self.held = ""
        if not final and text.endswith("\n"):
            text, self.held = text[:-1], "\n"
        return text.replace(LF_CR, "\n")


def transcode_to_utf8(
    source: str | os.PathLike[str],
    target: str | os.PathLike[str],
    encoding: str,
    *,
    lenient: bool,
    line_ends: str | None = None,
    progress: Callable[[int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    end: int | None = None,
) -> int:
    """Stream `source` in `encoding` into `target` as UTF-8; returns how many bad sequences were replaced.

    With `end`, only the bytes before that offset are read (a line start: where `skip_footer`'s lines begin).

    Strict mode fails at the first undecodable bytes, naming the line; lenient mode writes U+FFFD instead.
    With `line_ends` (from `odd_line_ends`), they are written as LF as `as_lf` says (a pair cut by a chunk end too).
    """
    decoder: codecs.IncrementalDecoder | io.IncrementalNewlineDecoder | _LfCrAsLf
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace" if lenient else "strict")
    if line_ends in (LONE_CR, MIXED):
        decoder = io.IncrementalNewlineDecoder(decoder, translate=True)
    elif line_ends == LF_CR:
        decoder = _LfCrAsLf(decoder)
    replaced = lines = done = 0
    with open(source, "rb") as reader, open(target, "w", encoding="utf-8", newline="") as writer:
        while chunk := reader.read(CHUNK_BYTES if end is None else min(CHUNK_BYTES, end - done)):
            if should_stop is not None and should_stop():
                raise ImportCancelled("import cancelled while transcoding")
            try:
                text = decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                good = chunk[: exc.start].decode(encoding, "replace")
                line = lines + good.count("\n") + 1
                raise failed(
                    [problem(line, None, f"bytes at offset {done + exc.start} are not valid {encoding}: {exc.reason}")]
                ) from exc
            if not done:
                text = text.lstrip("\ufeff")
            replaced += text.count("\ufffd") if lenient else 0
            lines += text.count("\n")
            writer.write(text)
            done += len(chunk)
            if progress is not None:
                progress(done)
        try:
            writer.write(decoder.decode(b"", final=True))
        except UnicodeDecodeError as exc:
            raise failed([problem(lines + 1, None, f"the file ends inside a {encoding} character")]) from exc
    return replaced


class Utf8Reader:
    """A binary file in any encoding read as UTF-8 bytes, for parsers (ijson) that only take UTF-8."""

    def __init__(self, path: str | os.PathLike[str], encoding: str) -> None:
        self._raw = open(path, "rb")  # noqa: SIM115 - closed by close()/__exit__
        self._decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
        self._pending = b""
        self._started = False

    def read(self, size: int = -1) -> bytes:
        """At least one byte unless at the end; UTF-8 of the decoded text."""
        while not self._pending:
            chunk = self._raw.read(CHUNK_BYTES if size < 0 else max(size, 4096))
            text = self._decoder.decode(chunk, final=not chunk)
            if not self._started and text:
                text, self._started = text.lstrip("\ufeff"), True
            self._pending = text.encode("utf-8")
            if not chunk:
                break
        data, self._pending = (self._pending, b"") if size < 0 else (self._pending[:size], self._pending[size:])
        return data

    def tell(self) -> int:
        """Bytes consumed from the underlying file, for progress."""
        return self._raw.tell()

    def close(self) -> None:
        self._raw.close()

    def __enter__(self) -> Utf8Reader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
