"""Decide what a file really is from its bytes, not its name, and refuse what we cannot safely open.

Workbooks are zip containers told apart by `[Content_Types].xml` (xlsx, xlsm, xlsb) or `mimetype` (ods),
or OLE2 compound files (xls). Everything else must be decodable text: CSV/TSV, a JSON document or NDJSON.
A zip's central directory is checked against the limits (total declared size, compression ratio) before
any workbook reader inflates it.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
import zipfile
from pathlib import Path

import msgspec
from charset_normalizer import from_bytes
from charset_normalizer.constant import FREQUENCIES

from app.ingest.bom_codecs import GB18030_SIG
from app.ingest.config import Format, ImportConfig, ImportLimits, normalize_encoding
from app.ingest.errors import (
    ContentMismatch,
    EmptyFile,
    ImportFailed,
    LimitExceeded,
    UnsupportedMediaType,
    field_error,
)
from app.ingest.notices import note
from app.ingest.notices.file import EncodingGuessed, TextNamed, WorkbookNamed
from app.ingest.ole import ENCRYPTED_STREAMS, WORKBOOK_STREAMS, Source, opened, source_size, stream_names

#: Bytes read from the start of a file to decide its format and encoding.
HEAD_BYTES = 64 * 1024
#: Members a workbook zip may hold; real ones have tens.
MAX_ZIP_MEMBERS = 10_000
#: Members smaller than this are not checked for their compression ratio (tiny XML compresses well).
RATIO_CHECK_FLOOR = 1024 * 1024
#: Encodings the statistical detector may choose (our canonical names): scripts our own checks cannot tell apart.
DETECTED_ENCODINGS = {
    "cp1251", "koi8-r", "cp1253", "iso-8859-7", "shift_jis", "cp932", "big5", "cp950", "big5hkscs", "euc-kr", "cp949",
}  # fmt: skip
#: The detector's Korean picks: their Hangul byte pairs are GB2312's too, so Chinese text can read as Korean.
KOREAN_ENCODINGS = {"euc-kr", "cp949"}
#: Korean's most frequent syllables (charset-normalizer's own table): Korean text read right is full of them.
COMMON_HANGUL = frozenset(FREQUENCIES["Korean"])
#: Hangul syllables per common one at most, for text read as Korean to count as Korean (Korean text has about 1 in
#: 2-3; Chinese read as cp949 gives random syllables, about 1 in 90 of them common).
HANGUL_PER_COMMON = 10
#: Non-ASCII bytes the detector needs before it is trusted over the GB2312 byte-pair check (short CJK texts fool it).
DETECTOR_MIN_BYTES = 64

#: GB2312 pairs needed per byte that is no GBK at all before text still counts as Chinese (looks_gb).
GB_BAD_BYTE_RATIO = 20

OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")
#: Signatures of common binary files that are not workbooks, for a clearer refusal.
BINARY_MAGICS = {b"%PDF": "PDF", b"\x89PNG": "PNG", b"\xff\xd8\xff": "JPEG", b"\x1f\x8b": "gzip", b"GIF8": "GIF"}

WORKBOOK_EXTENSIONS = {".xlsx", ".xlsm", ".xlsb", ".xls", ".ods"}
TEXT_EXTENSIONS = {".csv", ".tsv", ".tab", ".txt", ".json", ".ndjson", ".jsonl"}
JSON_EXTENSIONS = {".json", ".ndjson", ".jsonl"}

#: Content types in `[Content_Types].xml` that name the main part of each workbook kind.
WORKBOOK_CONTENT_TYPES = (
    ("sheet.macroEnabled.main+xml", "xlsm"),
    ("spreadsheetml.sheet.main+xml", "xlsx"),
    ("spreadsheetml.template.main+xml", "xlsx"),
    ("sheet.binary.macroEnabled.main", "xlsb"),
)
ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"


class Sniffed(msgspec.Struct, kw_only=True):
    """What a file is: its import format, the exact kind found, its text encoding, its size."""

    format: Format
    kind: str
    encoding: str | None
    size: int
    encoding_guessed: bool = False
    warnings: list[str] = msgspec.field(default_factory=list)


def safe_display_name(filename: str, *, max_length: int = 200) -> str:
    """A file name safe to show and store: no directories, control characters or leading dots."""
    name = re.split(r"[\\/]", filename or "")[-1]
    name = "".join(ch for ch in unicodedata.normalize("NFC", name) if unicodedata.category(ch)[0] != "C")
    name = name.strip().lstrip(".").strip()
    if len(name) > max_length:
        _stem, dot, ext = name.rpartition(".")
        keep = ext if dot and len(ext) <= 10 else ""
        name = name[: max_length - len(keep) - 1].rstrip() + ("." + keep if keep else "")
    return name or "upload"


def sniff(path: Source, filename: str, config: ImportConfig, limits: ImportLimits) -> Sniffed:
    """Decide the real format of `path` (a file, or an open one: an object of the store read by ranges); raise a
    415-class error when extension and content disagree. It reads the first HEAD_BYTES, and of a workbook its
    container's directory and one or two small members, never the whole file."""
    size = source_size(path)
    if size == 0:
        raise EmptyFile(f"{safe_display_name(filename)} is empty (0 bytes): there is nothing to import")
    if size > limits.max_upload_bytes:
        raise LimitExceeded(
            f"the file is {size} bytes, over the upload limit max_upload_bytes={limits.max_upload_bytes}"
        )
    with opened(path) as handle:
        head = handle.read(HEAD_BYTES)
    ext = Path(filename).suffix.lower()
    shown = safe_display_name(filename)

    if head.startswith(ZIP_MAGICS) or head.startswith(OLE2_MAGIC):
        kind = ole_workbook_kind(path, shown) if head.startswith(OLE2_MAGIC) else zip_workbook_kind(path, limits, shown)
        if ext in TEXT_EXTENSIONS:
            raise ContentMismatch(f"{shown} is named {ext} but holds a {kind} workbook", code="content_mismatch")
        if config.format not in (None, "excel"):
            raise ContentMismatch(f"{shown} is a {kind} workbook, not {config.format}", code="content_mismatch")
        named = ext and ext != f".{kind}"
        warnings = [note(WorkbookNamed(file=shown, extension=ext, kind=kind))] if named else []
        return Sniffed(format="excel", kind=kind, encoding=None, size=size, warnings=warnings)

    for magic, label in BINARY_MAGICS.items():
        if head.startswith(magic):
            raise UnsupportedMediaType(f"{shown} is a {label} file, not a spreadsheet, CSV or JSON file")
    if ext in WORKBOOK_EXTENSIONS:
        raise ContentMismatch(
            f"{shown} is named {ext} but is not a {ext[1:]} workbook (no zip or OLE2 container)",
            code="content_mismatch",
        )
    if config.format == "excel":
        raise ContentMismatch(f"{shown} is not a workbook; choose format csv or json", code="content_mismatch")
    if (config.header_rows or 1) > 1:
        raise field_error("header_rows", "applies to workbooks only")

    at_eof = size <= HEAD_BYTES
    if config.encoding:
        encoding, guessed = normalize_encoding(config.encoding) or config.encoding, False
    else:
        encoding, guessed = detect_encoding(head, at_eof=at_eof)
    if looks_binary(head, encoding):
        raise (ContentMismatch if ext in TEXT_EXTENSIONS else UnsupportedMediaType)(
            f"{shown} is not text: it holds binary data", code="content_mismatch" if ext else "unsupported_media_type"
        )
    try:
        text = codecs.getincrementaldecoder(encoding)(errors="replace").decode(head, final=at_eof)
    except UnicodeError as exc:  # utf-16 without a byte order mark fails whatever `errors` says (a 500 before)
        raise field_error("encoding", f"the file cannot be read as {encoding}: {exc}") from None
    if at_eof and not text.strip("\ufeff \t\r\n\f\v\x00"):
        raise EmptyFile(f"{shown} holds no text (only a byte order mark, blanks or line breaks): nothing to import")
    kind = text_kind(text)
    if kind == "json" and ext in (".ndjson", ".jsonl") and text.lstrip("\ufeff \t\r\n").startswith("{"):
        kind = "ndjson"
    warnings = [note(EncodingGuessed(encoding=encoding))] if guessed and encoding not in ("utf-8", "utf-8-sig") else []
    if ext in JSON_EXTENSIONS and kind == "csv":
        if at_eof and _json_scalar(text):
            raise UnsupportedMediaType(
                f"{shown} holds a single JSON value ({text.strip()[:40]}), not records: "
                "import an array of objects, an object holding one, or NDJSON",
                code="no_records",
            )
        raise ContentMismatch(f"{shown} is named {ext} but does not hold JSON", code="content_mismatch")
    fmt: Format = config.format or ("csv" if kind == "csv" else kind)  # type: ignore[assignment]
    if config.skip_footer and fmt != "csv":
        raise field_error("skip_footer", "applies to workbooks and CSV files only")
    if ext in (".csv", ".tsv", ".tab") and kind != "csv" and config.format is None:
        warnings.append(note(TextNamed(file=shown, extension=ext, kind=kind)))
    return Sniffed(format=fmt, kind=kind, encoding=encoding, size=size, encoding_guessed=guessed, warnings=warnings)


def ole_workbook_kind(path: Source, shown: str) -> str:
    """`xls` for an OLE2 file holding a workbook; a clear error for a password-protected Office file (Excel saves
    an xlsx with a password to open as OLE2, whatever its extension) or an OLE2 file of another program."""
    names = stream_names(path)
    if names is None:
        return "xls"  # an unusual directory: calamine decides
    if names & ENCRYPTED_STREAMS:
        raise ImportFailed(
            f"{shown} is password-protected (encrypted); open it in Excel or WPS, remove the password "
            "(File > Info > Protect Workbook) and upload it again",
            code="encrypted",
        )
    if not names & WORKBOOK_STREAMS:
        raise ContentMismatch(
            f"{shown} is an OLE2 compound file without a workbook in it (a Word, Outlook or other Office file?)",
            code="content_mismatch",
        )
    return "xls"


def zip_workbook_kind(path: Source, limits: ImportLimits, shown: str) -> str:
    """The workbook kind of a zip container, after checking it is no zip bomb; else a 415-class error."""
    try:
        with opened(path) as handle, zipfile.ZipFile(handle) as archive:
            members = archive.infolist()
            check_zip_members(members, limits, shown)
            names = {member.filename for member in members}
            if "[Content_Types].xml" in names:
                with archive.open("[Content_Types].xml") as member:  # its first 1 MB: never a whole huge member
                    content_types = member.read(1_000_000).decode("utf-8", "replace")
                for marker, kind in WORKBOOK_CONTENT_TYPES:
                    if marker in content_types:
                        return kind
            if "mimetype" in names:
                with archive.open("mimetype") as member:
                    if member.read(100).strip() == ODS_MIMETYPE:
                        return "ods"
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, NotImplementedError) as exc:
        raise UnsupportedMediaType(
            f"{shown} is a damaged or unreadable zip container: {exc}", code="corrupt_file"
        ) from exc
    raise ContentMismatch(
        f"{shown} is a zip archive but not an xlsx, xlsm, xlsb or ods workbook", code="content_mismatch"
    )


def check_zip_members(members: list[zipfile.ZipInfo], limits: ImportLimits, shown: str) -> None:
    """Refuse a zip whose declared sizes or compression ratio could exhaust memory or disk."""
    if len(members) > MAX_ZIP_MEMBERS:
        raise LimitExceeded(f"{shown} holds {len(members)} zip members, over {MAX_ZIP_MEMBERS}")
    total = sum(member.file_size for member in members)
    if total > limits.max_workbook_uncompressed_bytes:
        raise LimitExceeded(
            f"{shown} inflates to {total} bytes, over max_workbook_uncompressed_bytes="
            f"{limits.max_workbook_uncompressed_bytes}; save a smaller workbook or export the sheet as CSV"
        )
    for member in members:
        if member.file_size < RATIO_CHECK_FLOOR:
            continue
        ratio = member.file_size / max(member.compress_size, 1)
        if ratio > limits.max_compression_ratio:
            raise LimitExceeded(
                f"{shown}: member {member.filename!r} inflates {ratio:.0f}x, over max_compression_ratio="
                f"{limits.max_compression_ratio:g}; this looks like a zip bomb"
            )


def detect_encoding(head: bytes, *, at_eof: bool) -> tuple[str, bool]:
    """Guess a text encoding from a file's first bytes; the bool says whether it was a guess (no BOM, not UTF-8)."""
    if head.startswith(codecs.BOM_UTF8):
        body = head[len(codecs.BOM_UTF8) :]
        if not _utf8(body, at_eof=at_eof) and detect_encoding(body, at_eof=at_eof)[0] == "gb18030":
            return GB18030_SIG, True  # a BOM an export script put before GBK text
        return "utf-8-sig", False
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16", False
    if (utf16 := utf16_without_bom(head)) is not None:
        return utf16, True
    if _utf8(head, at_eof=at_eof):
        return "utf-8", False
    detected = detected_encoding(head, at_eof=at_eof)
    gb = looks_gb(head)
    # A few damaged bytes in Chinese text (a cut export, a pasted symbol) made it cp932, iso8859_5 or cp1252, every
    # character garbled: text that pairs up as GB2312 but for a few bytes no GBK text holds (0x80, 0xFF) is GBK.
    # Shift-JIS is never the answer for text that pairs up so (its kana do not).
    damaged_gb = not gb and looks_gb(head, tolerate=True)
    if (gb or damaged_gb) and detected in ("cp932", "shift_jis"):
        detected = "gb18030"
    # A short Chinese export repeating a few characters (客户1, 客户2, …) pairs up as EUC-KR too, and the detector
    # may call it Korean: it is Korean only if, so read, its syllables are the ones Korean text is made of.
    if gb and detected in KOREAN_ENCODINGS and not reads_as_korean(head):
        detected = "gb18030"
    if detected in DETECTED_ENCODINGS and (not gb or sum(byte >= 0x80 for byte in head) >= DETECTOR_MIN_BYTES):
        return detected, True
    if gb or damaged_gb or detected == "gb18030":
        return "gb18030", True
    if any(0x80 <= byte <= 0x9F for byte in head):
        try:
            head.decode("cp1252")
        except UnicodeDecodeError:
            return "latin-1", True
        return "cp1252", True
    return "latin-1", True


def _utf8(head: bytes, *, at_eof: bool) -> bool:
    """Whether `head` (the whole file when `at_eof`) is UTF-8."""
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=at_eof)
    except UnicodeDecodeError:
        return False
    return True


def utf16_without_bom(head: bytes) -> str | None:
    """`utf-16-le` or `-be` for UTF-16 text saved without a byte order mark (some ERP and bank exports are), seen
    from its ASCII characters (digits, delimiters, line breaks): each has a NUL byte, always on the same side."""
    sample = head[:8192]
    sample = sample[: len(sample) // 2 * 2]
    if len(sample) < 8:
        return None
    even, odd = sample[0::2].count(0), sample[1::2].count(0)
    pairs = len(sample) // 2
    if min(even, odd) or max(even, odd) < max(2, pairs // 10):
        return None
    encoding = "utf-16-le" if odd else "utf-16-be"
    try:
        text = sample.decode(encoding)
    except UnicodeDecodeError:
        try:
            text = sample[:-2].decode(encoding)  # a surrogate pair cut in two by the end of the head
        except UnicodeDecodeError:
            return None
    controls = sum(1 for ch in text if ch < " " and ch not in "\t\r\n\f")
    return encoding if controls <= len(text) // 100 else None


def detected_encoding(head: bytes, *, at_eof: bool) -> str | None:
    """charset-normalizer's pick for the head (cut at its last line break, so no character is split), our name for
    it where we have one, or None when it has no pick."""
    if not at_eof and (cut := head.rfind(b"\n")) > 0:
        head = head[: cut + 1]
    best = from_bytes(head).best()
    return (normalize_encoding(best.encoding) or best.encoding) if best is not None else None


def reads_as_korean(head: bytes) -> bool:
    """Whether `head` read as cp949 is Korean: enough of its Hangul syllables are among Korean's most common."""
    hangul = [ch for ch in head.decode("cp949", "ignore") if "\uac00" <= ch <= "\ud7a3"]
    return bool(hangul) and len(hangul) <= HANGUL_PER_COMMON * sum(ch in COMMON_HANGUL for ch in hangul)


def looks_gb(head: bytes, *, tolerate: bool = False) -> bool:
    """True when the non-ASCII bytes pair up as GB2312 characters (both bytes 0xA1-0xFE), as Chinese text does.

    Latin-1 text also decodes as GB18030 but its accented letters sit beside ASCII, not beside each other.
    `tolerate` lets through a byte no GBK text holds (0x80, 0xFF) per GB_BAD_BYTE_RATIO pairs: damaged Chinese text.
    """
    pairs = singles = bad = 0
    index, end = 0, len(head)
    while index < end:
        byte = head[index]
        if byte < 0x80:
            index += 1
        elif 0xA1 <= byte <= 0xFE and index + 1 < end and 0xA1 <= head[index + 1] <= 0xFE:
            pairs += 1
            index += 2
        elif 0x81 <= byte <= 0xFE and index + 1 < end and 0x40 <= head[index + 1] <= 0xFE:
            singles += 1  # valid GBK outside GB2312: possible, but less telling
            index += 2
        elif _gb18030_four_bytes(head, index):
            index += 4  # a character only GB18030 encodes (CJK extension B, as in rare names): neither way telling
        else:
            if index + 1 >= end:
                break  # a character cut by the end of the head
            if not tolerate or byte not in (0x80, 0xFF):
                return False  # a lone letter byte before ASCII: a single-byte encoding (an odd-length word)
            bad += 1
            index += 1
    return pairs > 0 and pairs >= 9 * singles and bad * GB_BAD_BYTE_RATIO <= pairs


def _gb18030_four_bytes(head: bytes, index: int) -> bool:
    """Whether a GB18030 four-byte character (0x81-0xFE, 0x30-0x39, 0x81-0xFE, 0x30-0x39) starts at `index`."""
    four = head[index : index + 4]
    return (
        len(four) == 4
        and 0x81 <= four[0] <= 0xFE
        and 0x30 <= four[1] <= 0x39
        and 0x81 <= four[2] <= 0xFE
        and 0x30 <= four[3] <= 0x39
    )


def looks_binary(head: bytes, encoding: str) -> bool:
    """True when the bytes are not text: NUL bytes outside UTF-16, or many control characters."""
    if encoding.startswith("utf-16"):
        return False
    if b"\x00" in head:
        return True
    controls = sum(1 for byte in head[:8192] if byte < 0x20 and byte not in (9, 10, 12, 13))
    return controls > max(8, len(head[:8192]) // 100)


def _json_scalar(text: str) -> bool:
    """Whether `text` is one JSON number, string, boolean or null (valid JSON, but no records in it)."""
    try:
        msgspec.json.decode(text.strip("\ufeff \t\r\n").encode())
    except (msgspec.DecodeError, RecursionError):
        return False
    return True


def text_kind(text: str) -> str:
    """`json`, `ndjson` or `csv`, from the first characters of decoded text."""
    stripped = text.lstrip("\ufeff \t\r\n")
    if stripped.startswith("["):
        return "json"
    if not stripped.startswith("{"):
        return "csv"
    first, _, rest = stripped.partition("\n")
    try:
        msgspec.json.decode(first.strip().encode())
    except (msgspec.DecodeError, RecursionError):
        return "json"
    return "ndjson" if rest.lstrip().startswith("{") else "json"
