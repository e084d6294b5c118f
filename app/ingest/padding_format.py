"""Which number formats show numbers zero-padded (`000000`, `"No."0000`, `0000;-0000`, `000000;@`), and the text
such a format shows: one rule for every workbook kind (xlsx and xlsm: app.ingest.xlsx_padded; xls and xlsb:
app.ingest.biff_padded; ods: app.ingest.ods_padded).

A format has up to four sections split by `;` (outside quotes): positive (and zero), negative, zero, text. Each
number section may hold zero placeholders and literal text (quoted, escaped with a backslash, or a bare character
Excel shows as itself), a colour (`[Red]`, `[Color10]`), a locale tag (`[$-804]`; `[$¥-804]` shows `¥`), and
`_x` / `*x` spacing and fill (shown as nothing). A section with `@` is the text section and leaves text as it is.
The first section needs MIN_PLACEHOLDERS zeros; any other bracket (a condition `[>99]`, `[DBNum1]`) or
placeholder (`#`, `?`, `.`) makes the format no padding format (its numbers are read as numbers).

No value is lost: a negative number whose section writes no sign (`0000;0000`) is shown with a `-` before it, and a
negative or zero section showing no digit (`0000;-0000;"-"`, `0000;;`) gives way to the first section.
"""

from __future__ import annotations

import math
import re
from typing import Any

import msgspec
import pyarrow as pa
import pyarrow.compute as pc

#: Zero placeholders the first section needs to pad: `0` alone shows a number as it is.
MIN_PLACEHOLDERS = 2
#: Sections a format has at most (positive, negative, zero, text).
MAX_SECTIONS = 4

#: Characters Excel shows as themselves in a number format without quotes (`000-0000`, `(000)`).
_BARE = r"[$+(:^'{<=\-/)!&~}> ]"
#: A padding section: zero placeholders, literal text (quoted, escaped, or bare: `"No."0000`, `000\-0000`), spacing
#: and fill (`_)`, `*-`), nothing else.
_PADDING = re.compile(rf'(?:0|"[^"]*"|\\.|[_*].|{_BARE})*')
_PART = re.compile(rf'0|"([^"]*)"|\\(.)|[_*].|({_BARE})')
#: A section split: text in quotes or escaped, or one other character.
_TOKEN = re.compile(r'"[^"]*"?|\\.?|.', re.S)
#: Brackets a padding section may carry: a colour, or a locale tag (`[$-804]`, `[$¥-804]`: its symbol is shown).
_COLOUR = re.compile(r"\[(?:black|blue|cyan|green|magenta|red|white|yellow|color\s*\d{1,2})\]", re.I)
_LOCALE = re.compile(r"\[\$([^\]-]*)(?:-[0-9A-Fa-f]+)?\]")


class Section(msgspec.Struct, frozen=True):
    """One number section: its parts in order, None for a zero placeholder, else literal text."""

    parts: tuple[str | None, ...]

    @property
    def places(self) -> int:
        return self.parts.count(None)

    @property
    def signed(self) -> bool:
        """Whether the section writes a negative number's sign itself (`-0000`, `(0000)`)."""
        return any(part is not None and ("-" in part or "(" in part) for part in self.parts)

    def show(self, whole: int) -> str:
        """`whole` (at least 0) in this section: digits past the placeholders go into the first one."""
        digits = str(whole).zfill(self.places)
        extra = len(digits) - self.places
        out, used = [], 0
        for part in self.parts:
            if part is not None:
                out.append(part)
                continue
            take = 1 + (extra if used == 0 else 0)
            out.append(digits[used : used + take])
            used += take
        return "".join(out)


class Padding(msgspec.Struct, frozen=True):
    """One padding number format: its code, and its sections (negative and zero None when the first serves)."""

    code: str
    positive: Section
    negative: Section | None = None
    zero: Section | None = None

    def shown(self, value: Any) -> Any:
        """`value` as the sheet shows it in this format, when it is a number (else as it is)."""
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            return value
        whole = int(abs(value) + 0.5)  # Excel rounds half away from zero
        if value < 0 and self.negative is not None:
            return ("" if self.negative.signed else "-") + self.negative.show(whole)
        if value == 0 and self.zero is not None:
            return self.zero.show(whole)
        return ("-" if value < 0 and whole else "") + self.positive.show(whole)

    def shown_all(self, values: list[Any]) -> list[Any]:
        """`shown` of each value: in C when they are all whole numbers above 0 (or 0 with no zero section) up to
        2**53, and the format's literal text comes before its placeholders, as in `"0"00000`."""
        places, parts = self.positive.places, self.positive.parts
        prefix = "".join(part for part in parts if part is not None)
        if any(part is None for part in parts[: len(parts) - places]):
            return [self.shown(value) for value in values]
        try:
            numbers = pa.array(values, pa.float64())
        except (pa.ArrowInvalid, pa.ArrowTypeError):  # text, booleans, "" for an empty cell
            return [self.shown(value) for value in values]
        fits = pc.and_(pc.equal(pc.floor(numbers), numbers), pc.less(pc.abs(numbers), float(2**53)))
        low = pc.greater(numbers, 0.0) if self.zero is not None else pc.greater_equal(numbers, 0.0)
        if pc.all(pc.and_(fits, low)).as_py() is False:
            return [self.shown(value) for value in values]
        text = pc.utf8_lpad(pc.cast(pc.cast(numbers, pa.int64()), pa.string()), width=places, padding="0")
        if prefix:
            text = pc.binary_join_element_wise(pa.scalar(prefix), text, "")
        return text.to_pylist()


def literal(text: str) -> str:
    """`text` as literal text of a format code (`-`, `"No."`, `\\"`), for formats built from another kind's styles."""
    if all(re.fullmatch(_BARE, char) for char in text):
        return text
    return f'"{text}"' if '"' not in text else "".join("\\" + char for char in text)


def sections(code: str) -> list[str]:
    """`code` split at each `;` outside quotes and escapes."""
    out, current = [], []
    for token in _TOKEN.findall(code):
        if token == ";":
            out.append("".join(current))
            current = []
        else:
            current.append(token)
    return [*out, "".join(current)]


def _section(text: str) -> Section | None:
    """The number section `text` (colours dropped, a locale tag's symbol kept as literal text), or None."""
    text = _LOCALE.sub(lambda m: '"' + m[1] + '"' if m[1] else "", _COLOUR.sub("", text))
    if _PADDING.fullmatch(text) is None:
        return None
    parts = [None if m[0] == "0" else "".join(g for g in m.groups() if g is not None) for m in _PART.finditer(text)]
    return Section(tuple(part for part in parts if part != ""))


def _is_text(text: str) -> bool:
    """Whether a section is the text section: an `@` outside quotes and escapes."""
    return any(token == "@" for token in _TOKEN.findall(text))


def padding(code: str) -> Padding | None:
    """The padding format `code` (XML-unescaped) is, or None."""
    found = sections(code)
    if len(found) == MAX_SECTIONS or (len(found) > 1 and _is_text(found[-1])):
        found = found[:-1]  # the text section: text cells are read as they are
    if len(found) >= MAX_SECTIONS or any(_is_text(text) for text in found):
        return None
    numbers = [_section(text) for text in found]
    if any(section is None for section in numbers):
        return None
    first, *others = [section for section in numbers if section is not None]
    if first.places < MIN_PLACEHOLDERS:
        return None
    negative, zero = [*others, None, None][:2]
    return Padding(code, first, _digits(negative), _digits(zero))


def _digits(section: Section | None) -> Section | None:
    """`section` when it shows a digit, else None (the first section then shows such numbers, so none is lost)."""
    return section if section is not None and section.places else None
