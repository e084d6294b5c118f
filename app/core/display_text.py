"""One rule for free text people read: names, titles, descriptions, file names.

A fuzz review found dataset names, token names, display names, descriptions
and upload file names that were blank ("   ", or only zero-width characters),
that held bidi overrides (text stored as "exe.txt" shown as "txt.exe"), line
separators, byte order marks, noncharacters or control characters, and names
that differ only in Unicode normalisation (`e\\u0301` and `é`) stored as two
datasets that look the same. Identifiers (namespace, pipeline, deployment,
username) are ASCII patterns of their own and are not this rule's business.

The rule, for every such field:
- the text is NFC-normalised and its leading and trailing whitespace (and
  zero-width spaces) trimmed, before anything compares or stores it;
- it is refused (422 `validation_failed`, naming the field) when it holds a C0
  or C1 control character (one-line text: tab and newlines too; multi-line
  text keeps newlines and tabs), a bidi override or isolate (U+202A-202E,
  U+2066-2069), a line or paragraph separator (U+2028/2029), a byte order mark
  (U+FEFF), a noncharacter or a lone surrogate; a name is refused when nothing
  visible is left (blank, or only invisible characters).
Chinese, emoji (with their joiners and variation selectors), combining marks
and right-to-left scripts written normally (with LRM/RLM marks) are accepted.

A name read from a file (a column header) is cleaned by the same rule rather than refused: `name_from_file`.

`one_line`, `optional_one_line` and `multi_line` are the schema types: their
`pattern` states the rule in the OpenAPI document (for the BMP, which is what
both Python's and ECMA-262's regular expressions read alike), and a Struct
deriving from `Normalised` normalises them after decoding and refuses what the
pattern cannot say portably (noncharacters beyond the BMP). `clean` is the
same rule for text read by hand (multipart form fields, file names).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated, Any, ClassVar, Literal, get_args, get_origin

import msgspec

from app.core.errors import InvalidInput
from app.core.patterns import whole

Kind = Literal["one_line", "optional_one_line", "multi_line"]

#: Characters no text for people may hold, besides the controls: bidi overrides and isolates, line and paragraph
#: separators, the byte order mark and the noncharacters of the BMP (as a regular expression class body).
_REFUSED = r"\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff\ufdd0-\ufdef\ufffe\uffff"
#: C0 and C1 controls, DEL included: every one in one-line text; multi-line text keeps tab, LF and CR.
_CONTROLS_ONE_LINE = r"\x00-\x1f\x7f-\x9f"
_CONTROLS_MULTI_LINE = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
#: Characters that show nothing on their own: whitespace, then invisible formatting characters and fillers
#: (soft hyphen, joiners, bidi marks, variation selectors, Hangul fillers, braille blank). Text of only these is blank.
_BLANK = (
    r"\x09-\x0d\x20\x85\xa0\u1680\u2000-\u200a\u202f\u205f\u3000"
    r"\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u2060-\u2064\u206a-\u206f"
    r"\u2800\u3164\ufe00-\ufe0f\uffa0"
)

#: The schema patterns: no refused character anywhere; a name needs one visible character, after any trimming.
_ANY_ONE_LINE = f"[^{_CONTROLS_ONE_LINE}{_REFUSED}]*"
_VISIBLE_ONE_LINE = f"{_ANY_ONE_LINE}[^{_CONTROLS_ONE_LINE}{_REFUSED}{_BLANK}]{_ANY_ONE_LINE}"
PATTERNS: dict[Kind, str] = {
    "one_line": whole(_VISIBLE_ONE_LINE),
    "optional_one_line": whole(f"(?:{_VISIBLE_ONE_LINE})?"),
    "multi_line": whole(f"[^{_CONTROLS_MULTI_LINE}{_REFUSED}]*"),
}
#: What a client is told when a pattern refuses a value (msgspec would quote the regular expression).
RULES: dict[Kind, str] = {
    "one_line": "must be one line of visible text: not blank, and without control characters (tab, newline), "
    "bidi overrides or isolates, line or paragraph separators, byte order marks or noncharacters",
    "optional_one_line": "must be empty or one line of visible text: not blank, and without control characters "
    "(tab, newline), bidi overrides or isolates, line or paragraph separators, byte order marks or noncharacters",
    "multi_line": "must be text without control characters (newlines and tabs are fine), bidi overrides or "
    "isolates, line or paragraph separators, byte order marks or noncharacters",
}
_KIND_OF_PATTERN = {pattern: kind for kind, pattern in PATTERNS.items()}
_PATTERN_MESSAGES = {f"Expected `str` matching regex {pattern!r}": RULES[kind] for kind, pattern in PATTERNS.items()}

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_BLANK_CHARS = re.compile(f"[{_BLANK}]")
#: Trimmed from both ends: whitespace and the zero-width space, non-joiner and word joiner (never the joiner or
#: a variation selector, which end emoji).
_EDGE = " \t\n\r\f\v\x85\xa0\u1680\u202f\u205f\u3000\u200b\u200c\u2060" + "".join(map(chr, range(0x2000, 0x200B)))


def one_line(max_length: int, *, also_refused: str = "", description: str | None = None) -> Any:
    """A name or title: required, one line, trimmed, at most `max_length` characters (before trimming).

    `also_refused`: characters this field refuses beyond the rule (a dataset name: no '/' or '\\').
    """
    pattern = PATTERNS["one_line"]
    if also_refused:
        escaped = re.escape(also_refused)
        pattern = f"^(?=[^{escaped}]*$)" + pattern.removeprefix("^")  # a lookahead: JSON Schema has no "and"
        _KIND_OF_PATTERN[pattern] = "one_line"
        listed = " or ".join(also_refused)
        _PATTERN_MESSAGES[f"Expected `str` matching regex {pattern!r}"] = f"{RULES['one_line']} (nor {listed})"
    return Annotated[str, msgspec.Meta(max_length=max_length, pattern=pattern, description=description)]


def optional_one_line(max_length: int, *, description: str | None = None) -> Any:
    """Like `one_line`, but the empty text means "none" (a display name not given)."""
    meta = msgspec.Meta(max_length=max_length, pattern=PATTERNS["optional_one_line"], description=description)
    return Annotated[str, meta]


def multi_line(max_length: int, *, description: str | None = None) -> Any:
    """A description or message: may be empty, keeps newlines (CRLF and CR become LF) and tabs, trimmed."""
    return Annotated[str, msgspec.Meta(max_length=max_length, pattern=PATTERNS["multi_line"], description=description)]


def _name(ch: str) -> str:
    return f"U+{ord(ch):04X}"


def _refused_char(ch: str, kind: Kind) -> str | None:
    code = ord(ch)
    if ch in "\t\n\r" and kind == "multi_line":
        return None
    if ch in "\t\n\r\x0b\x0c\x85":
        return f"contains a tab or line break ({_name(ch)}): it must be one line"
    if code < 0x20 or 0x7F <= code <= 0x9F:
        return f"contains a control character ({_name(ch)})"
    if 0x202A <= code <= 0x202E or 0x2066 <= code <= 0x2069:
        return f"contains a bidi override or isolate ({_name(ch)}), which makes text read unlike what is stored"
    if code in (0x2028, 0x2029):
        return f"contains a line or paragraph separator ({_name(ch)})"
    if code == 0xFEFF:
        return "contains a byte order mark (U+FEFF)"
    if 0xFDD0 <= code <= 0xFDEF or code & 0xFFFE == 0xFFFE:
        return f"contains a noncharacter ({_name(ch)})"
    if 0xD800 <= code <= 0xDFFF:
        return f"contains a lone surrogate ({_name(ch)}), which is not text"
    return None


def _visible(ch: str) -> bool:
    if _BLANK_CHARS.match(ch):
        return False
    # Beyond the BMP: tags and the variation selectors supplement show nothing either.
    return not (ord(ch) > 0xFFFF and (unicodedata.category(ch) == "Cf" or 0xE0100 <= ord(ch) <= 0xE01EF))


def normal(text: str, kind: Kind = "one_line") -> str:
    """The text as stored and compared: NFC, trimmed; multi-line text with LF line ends."""
    text = unicodedata.normalize("NFC", text)
    if kind == "multi_line":
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text.strip(_EDGE)


def refusal(text: str, kind: Kind = "one_line") -> str | None:
    """Why normalised `text` breaks the rule, or None when it keeps it."""
    for ch in text:
        if reason := _refused_char(ch, kind):
            return reason
    if kind != "multi_line" and not any(_visible(ch) for ch in text):
        if kind == "optional_one_line" and not text:
            return None
        return "is blank: it needs at least one visible character"
    return None


def checked(text: str, kind: Kind = "one_line") -> tuple[str, str | None]:
    """`text` normalised, and why the rule refuses it (None when it keeps it); "   " is blank, not "no name"."""
    value = normal(text, kind)
    if kind == "optional_one_line" and text and not value:
        return value, "is blank: it needs at least one visible character"
    return value, refusal(value, kind)


def clean(text: str, field: str, kind: Kind = "one_line") -> str:
    """`text` normalised, or 422 `validation_failed` naming `field` (for text not decoded into a Struct)."""
    value, reason = checked(text, kind)
    if reason:
        # Text Postgres cannot store keeps the code app/api/text_boundary.py gives it everywhere else.
        code = "invalid_character" if _UNSTORABLE.search(value) else None
        raise InvalidInput(f"`{field}` {reason}", code=code, errors=[{"field": field, "message": reason}])
    return value


def pattern_message(message: str) -> str | None:
    """The rule in words for msgspec's "Expected `str` matching regex '…'" about one of these patterns."""
    return _PATTERN_MESSAGES.get(message)


#: What a `Normalised` Struct's refusal says, so the error handler can name the field: "`field` reason".
FIELD_MESSAGE = re.compile(r"^`(?P<field>[A-Za-z_][A-Za-z0-9_]*)` (?P<reason>.+)$", re.DOTALL)


def _kind_of(annotation: Any) -> Kind | None:
    if get_origin(annotation) is Annotated:
        _base, *metas = get_args(annotation)
        for meta in metas:
            if isinstance(meta, msgspec.Meta) and meta.pattern in _KIND_OF_PATTERN:
                return _KIND_OF_PATTERN[meta.pattern]
        return None
    for arg in get_args(annotation):  # `X | None`, `X | UnsetType`
        if kind := _kind_of(arg):
            return kind
    return None


class Normalised(msgspec.Struct):
    """A Struct whose `one_line`/`optional_one_line`/`multi_line` fields are normalised once decoded.

    The normalised value is what the service compares and stores: `e\\u0301` and `é` are one dataset name,
    so the unique key answers 409 for the second.
    """

    _text_fields: ClassVar[dict[type, list[tuple[str, Kind]]]] = {}

    def __post_init__(self) -> None:
        cls = type(self)
        fields = Normalised._text_fields.get(cls)
        if fields is None:
            fields = [(f.name, k) for f in msgspec.structs.fields(cls) if (k := _kind_of(f.type)) is not None]
            Normalised._text_fields[cls] = fields
        for name, kind in fields:
            value = getattr(self, name)
            if isinstance(value, str):
                value, reason = checked(value, kind)
                if reason:
                    raise ValueError(f"`{name}` {reason}")
                setattr(self, name, value)


#: Longest file name kept (a longer one keeps its extension and loses the end of its stem).
MAX_FILE_NAME = 200


def file_name(filename: str, field: str) -> str:
    """An uploaded file's name as stored and shown: its base name under this rule, no leading dots, at most 200
    characters with its extension kept; "upload" when none was given. 422 naming `field` when the rule refuses it,
    so a name with a newline or a bidi override is never stored nor sent back in a Content-Disposition."""
    base = re.split(r"[\\/]", filename)[-1]
    if not base:
        return "upload"
    name = clean(base, field).lstrip(".").strip(_EDGE)
    if len(name) > MAX_FILE_NAME:
        _stem, dot, ext = name.rpartition(".")
        keep = ext if dot and len(ext) <= 10 else ""
        name = name[: MAX_FILE_NAME - len(keep) - 1].rstrip(_EDGE) + ("." + keep if keep else "")
    return name or "upload"


#: Line breaks and tabs in a name read from a file: a header wrapped over two lines reads as two words.
_BREAKS = re.compile("[\t\n\r\x0b\x0c\x85\u2028\u2029]+")


def name_from_file(text: str) -> tuple[str, list[str]]:
    """`text` read from a file as a one-line name (a column header), cleaned by this rule instead of refused: NFC,
    each run of tabs and line breaks a space, every other character the rule refuses (a bidi override, a control, a
    byte order mark) left out, trimmed as `normal` trims (zero-width spaces too); "" when nothing visible is left.
    With the characters left out or trimmed, other than whitespace (["U+202E", "U+200B"]), for a warning."""
    text = unicodedata.normalize("NFC", text)
    value = _BREAKS.sub(" ", text)
    dropped = [ch for ch in value if _refused_char(ch, "one_line")]
    if dropped:
        value = "".join(ch for ch in value if not _refused_char(ch, "one_line"))
    trimmed = value.strip(_EDGE)
    start = len(value) - len(value.lstrip(_EDGE))
    dropped += [ch for ch in value[:start] + value[start + len(trimmed) :] if not ch.isspace()]
    if trimmed and not any(_visible(ch) for ch in trimmed):
        dropped += [ch for ch in trimmed if not ch.isspace()]
        trimmed = ""
    return trimmed, [_name(ch) for ch in dict.fromkeys(text) if ch in dropped]  # in the order they stand


def scrubbed(text: str, kind: Kind = "one_line") -> str:
    """`text` with every character this rule refuses replaced by "_": for text stored before the rule, on its way
    out (a download's Content-Disposition must not carry a newline or a bidi override)."""
    return "".join("_" if _refused_char(ch, kind) else ch for ch in text)
