"""Column names, the column plan (choose, rename, type) and type inference over sampled Python values."""

from __future__ import annotations

import datetime as dt
import decimal
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import msgspec

from app.core import display_text
from app.ingest.config import ColumnSpec, ImportConfig, one_format
from app.ingest.duck import DEFAULT_SCALE
from app.ingest.errors import InvalidImportConfig
from app.ingest.models import Column, ColumnStats
from app.ingest.notices import note
from app.ingest.notices.columns import DuplicateColumn, EmptyHeader, HeaderCleaned, LongNumbers, MostlyNumbers


class Planned(msgspec.Struct, kw_only=True):
    """One source column and what becomes of it in the output."""

    index: int
    source: str
    name: str
    type: str
    include: bool = True
    #: One strptime format, or several tried in order (one_format: never a list of one).
    format: str | list[str] | None = None
    scale: int | None = None
    #: Left out for want of a header and of any value in what was read (app.ingest.blank_columns): the effective
    #: config leaves such a column out, so each read decides again on what it reads (a preview reads the head only).
    blank: bool = False


def name_key(name: str) -> str:
    """What makes two column names one: DuckDB's identifiers ignore case (`a` and `A` failed the read with a
    Binder Error), and `café` spelled with a combining accent looks the same as the composed one."""
    return unicodedata.normalize("NFC", name).lower()


def clean_names(raw: Sequence[Any]) -> tuple[list[str], list[str]]:
    """Header cells made into unique, non-empty names (`a`, `a_2`, `A_3`; `column_3` for a blank; unique as
    `name_key` compares them), with warnings. Each is cleaned as a dataset name is (display_text.name_from_file):
    a bidi override or a zero-width space made a header show unlike what it is."""
    names: list[str] = []
    warnings: list[str] = []
    seen: set[str] = set()
    for position, value in enumerate(raw, start=1):
        base, dropped = display_text.name_from_file("" if value is None else str(value))
        if not base:
            base = f"column_{position}"
            warnings.append(note(EmptyHeader(column=position, name=base)))
        if dropped:
            warnings.append(note(HeaderCleaned(column=position, name=base, characters=", ".join(dropped))))
        name, counter = base, 1
        while name_key(name) in seen:
            counter += 1
            name = f"{base}_{counter}"
        if name != base:
            warnings.append(note(DuplicateColumn(name=base, column=position, renamed=name)))
        seen.add(name_key(name))
        names.append(name)
    return names, warnings


def plan_columns(
    sources: Sequence[str],
    inferred: Sequence[str],
    config: ImportConfig,
    scales: Sequence[int | None] | None = None,
) -> list[Planned]:
    """Apply `config.columns` to the source columns; unknown names or clashing renames are config errors.

    `scales` are the inferred decimal scales (DECIMAL(38, 0) for integers past BIGINT), kept unless the column's
    type or scale is set."""
    specs = config.columns or {}
    unknown = [name for name in specs if name not in sources]
    if unknown:
        listed = ", ".join(sources[:50])
        raise InvalidImportConfig(
            f"columns: no source column named {unknown[0]!r}; the columns are: {listed}",
            errors=[{"field": f"columns.{name}", "message": "no such source column"} for name in unknown],
        )
    planned = []
    for index, (source, kind) in enumerate(zip(sources, inferred, strict=True)):
        spec = specs.get(source)
        chosen = spec.type if spec and spec.type else kind
        scale = spec.scale if spec and spec.scale is not None else None
        if scale is None and chosen == kind and scales is not None:
            scale = scales[index]
        planned.append(
            Planned(
                index=index,
                source=source,
                name=(spec.name.strip() if spec and spec.name else source),
                type=chosen,
                include=spec.include if spec else True,
                format=one_format(spec.format) if spec else None,
                scale=scale,
            )
        )
    kept = [name_key(column.name) for column in planned if column.include]
    if len(kept) != len(set(kept)):
        clash = next(c.name for c in planned if c.include and kept.count(name_key(c.name)) > 1)
        raise InvalidImportConfig(
            f"columns: two output columns would be named {clash!r}",
            errors=[{"field": "columns", "message": f"two output columns would be named {clash!r}"}],
        )
    if not kept:
        raise InvalidImportConfig(
            "columns: every column is excluded", errors=[{"field": "columns", "message": "every column is excluded"}]
        )
    return planned


def as_columns(planned: Iterable[Planned]) -> list[Column]:
    """The plan as the preview shows it."""
    return [Column(source=p.source, name=p.name, type=p.type, include=p.include) for p in planned]


def value_kind(value: Any) -> str | None:
    """Our type for one cell value, or None for an empty cell."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "integer" if value.is_integer() and abs(value) < 2**53 else "float"
    if isinstance(value, dt.datetime):
        return "datetime"
    if isinstance(value, dt.date):
        return "date"
    if isinstance(value, dt.time):
        return "time"
    if isinstance(value, decimal.Decimal):
        return "decimal"
    return "string"


#: The kind of a cell by its exact Python type, for the types a reader gives (floats and text need a look inside).
_KIND_OF_TYPE: dict[type, str] = {
    bool: "boolean",
    int: "integer",
    dt.datetime: "datetime",
    dt.date: "date",
    dt.time: "time",
    decimal.Decimal: "decimal",
}


def sample_kinds(values: Sequence[Any]) -> set[str]:
    """The kinds (`value_kind`) of a column's sampled cells, found by type in C: a preview samples a thousand rows
    of every column in the API process, and one call of `value_kind` per cell cost seconds on a wide sheet."""
    kinds: set[str] = set()
    counts = Counter(map(type, values))
    for kind in counts:
        if kind is type(None):
            continue
        if kind is str:
            if counts[str] > values.count(""):  # some text that is not ""
                kinds.add("string")
        elif kind is float:
            floats = [v for v in values if type(v) is float]
            kinds.update("integer" if v.is_integer() and abs(v) < 2**53 else "float" for v in floats)
        elif kind in _KIND_OF_TYPE:
            kinds.add(_KIND_OF_TYPE[kind])
        else:  # a subclass (or a type no reader gives): cell by cell
            kinds.update(k for v in values if type(v) is kind and (k := value_kind(v)) is not None)
    return kinds


def transposed(rows: Sequence[Sequence[Any]], width: int) -> list[Sequence[Any]]:
    """The cells of `rows` column by column (zip's transpose, in C); a row shorter than `width` reads None past it."""
    if all(len(row) == width for row in rows):
        return list(zip(*rows, strict=True)) if rows else [()] * width
    return [[row[i] if i < len(row) else None for row in rows] for i in range(width)]


def sample_types(sample: Sequence[Sequence[Any]], width: int, config: ImportConfig) -> list[tuple[str, bool]]:
    """`infer_type` of each of the `width` columns of a workbook's sampled rows, their text cells read as the import
    reads them (null markers, separators)."""
    nulls = frozenset(config.null_values or ())
    read_text = text_number_reader(config)
    as_read = bool(nulls or config.thousands_separator or config.decimal_separator)  # else every cell as it is
    return [
        infer_type(
            [(None if v in nulls else read_text(v)) if isinstance(v, str) else v for v in column] if as_read else column
        )
        for column in transposed(sample, width)
    ]


def infer_type(values: Iterable[Any]) -> tuple[str, bool]:
    """The narrowest type that holds every sampled value, and whether the sample mixed incompatible kinds."""
    kinds = sample_kinds(values if isinstance(values, list | tuple) else list(values))
    if not kinds:
        return "string", False
    if len(kinds) == 1:
        return kinds.pop(), False
    if kinds <= {"integer", "float"}:
        return "float", False
    if kinds <= {"integer", "float", "decimal"}:
        return "decimal", False
    if kinds <= {"date", "datetime"}:
        return "datetime", False
    return "string", True


def text_number_reader(config: ImportConfig) -> Callable[[str], Any]:
    """How type inference reads a workbook's text cell: as the number it spells when the import sets a thousands or
    decimal separator (`1,234.50` with thousands_separator ","; the converter reads it the same way), else as text.
    CSV columns get this from DuckDB's reader; workbook text cells did not, so the setting changed nothing there."""
    thousands, decimal_sep = config.thousands_separator, config.decimal_separator
    if not thousands and not decimal_sep:
        return lambda text: text

    def read(text: str) -> Any:
        plain = text.strip()
        if thousands:
            plain = plain.replace(thousands, "")
        if decimal_sep and decimal_sep != ".":
            plain = plain.replace(decimal_sep, ".")
        if not _NUMBER.match(plain) or has_leading_zero(plain):
            return text
        try:
            number = float(plain)
        except ValueError:
            return text
        return number if math.isfinite(number) else text

    return read


_NUMBER = re.compile(r"^[+-]?(\d[\d ,.']*|[.,]\d+)([eE][+-]?\d+)?$")
#: A number written with a leading zero (00123, 0123.50, +01, after any spaces): a code, text, as DuckDB's CSV
#: sniffer reads a column holding one (-01, a lone 0 and 0.5 are numbers to it). The one rule for it: workbook
#: text cells read as numbers (`text_number_reader`), stray-text warnings, CSV codes past the sample
#: (app.ingest.codes).
LEADING_ZERO = r"^\s*\+?0[0-9]"
_LEADING_ZERO = re.compile(LEADING_ZERO)


def has_leading_zero(text: str) -> bool:
    """Whether `text` is a number written with a leading zero (LEADING_ZERO): a code, not a number."""
    return _LEADING_ZERO.match(text) is not None


#: A Chinese ID number (居民身份证号): 17 digits and a check character that is X one time in eleven; not a stray.
_ID_NUMBER = re.compile(r"^\d{17}[\dXx]$")


def mixed_text_warnings(
    planned: Sequence[Planned], rows: Sequence[Sequence[Any]], config: ImportConfig | None = None
) -> list[str]:
    """Warn about text columns whose sampled values are mostly numbers: a few stray values made them text.

    A column whose type the configuration sets is left alone: the user chose text.
    """
    warnings = []
    kept = [p for p in planned if p.include]
    typed = {source for source, spec in ((config.columns if config else None) or {}).items() if spec.type}
    for position, p in enumerate(kept):
        if p.type != "string" or p.source in typed:
            continue
        values = [row[position] for row in rows if isinstance(row[position], str) and row[position].strip()]
        strays = [v for v in values if not _number_like(v.strip())]
        if values and strays and len(strays) * 2 <= len(values):
            warnings.append(note(MostlyNumbers(column=p.name, example=strays[0])))
    return warnings


def _number_like(text: str) -> bool:
    """Whether a text cell reads as a number to the stray-text warning: not a code with a leading zero (a column of
    them is text by right), but an ID number with its check character is one."""
    return (bool(_NUMBER.match(text)) and not has_leading_zero(text)) or bool(_ID_NUMBER.match(text))


#: The smallest whole number of 16 digits: a workbook (an IEEE double, 15 significant digits in Excel) loses
#: digits from here on (Excel zeroes those past the 15th as they are typed).
SIXTEEN_DIGITS = 10**15


def long_number_warnings(names: Sequence[str], sample: Sequence[Sequence[Any]]) -> list[str]:
    """Say which workbook columns hold whole numbers of 16 or more digits stored as numbers: ID numbers (18 digits)
    and bank cards (16-19) stored so lost digits in the file itself, and no reading gets them back."""
    warnings = []
    for name, values in zip(names, transposed(sample, len(names)), strict=True):
        if float not in set(map(type, values)):  # in C: most columns hold no number stored as a double
            continue
        found = next((v for v in values if type(v) is float and abs(v) >= SIXTEEN_DIGITS), None)
        if found is not None and found.is_integer():
            warnings.append(long_number_warning(name, int(found)))
    return warnings


def long_number_warning(name: str, example: int) -> str:
    """What preview and import say about a workbook column holding whole numbers of 16 or more digits."""
    return note(LongNumbers(column=name, example=str(example)))


def long_numbers_past_sample(stats: Sequence[ColumnStats], warned: Sequence[str]) -> list[str]:
    """`long_number_warning` for the workbook's number columns whose imported values (`stats`: their min and max)
    reach 16 digits where the type sample did not, so no warning in `warned` names them yet."""
    warnings = []
    for column in stats:
        if column.type not in ("integer", "float") or any(
            w.startswith(f"column {column.name!r} holds numbers of 16") for w in warned
        ):
            continue
        bounds = [decimal.Decimal(bound) for bound in (column.min, column.max) if bound is not None]
        widest = max(bounds, key=abs, default=decimal.Decimal(0))
        if widest.is_finite() and abs(widest) >= SIXTEEN_DIGITS and widest == widest.to_integral_value():
            warnings.append(long_number_warning(column.name, int(widest)))
    return warnings


def json_safe(value: Any) -> Any:
    """A value any JSON encoder accepts: ISO strings for temporal values, None for NaN and infinities."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return (abs(value) if value == 0 else value) if math.isfinite(value) else None  # -0.0 shows as 0
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, decimal.Decimal):
        return str(abs(value) if value.is_zero() else value)
    if isinstance(value, list | tuple):
        return [json_safe(item) for item in value]
    if isinstance(value, dict):
        return {str(key): json_safe(item) for key, item in value.items()}
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


#: The largest whole number a JSON number keeps in a browser (JavaScript's Number.MAX_SAFE_INTEGER).
SAFE_INTEGER = 2**53 - 1


def json_shown(value: Any) -> Any:
    """A cell as a page shows it (a preview's or a dataset's rows): `json_safe`, with a decimal of the default
    scale without its padding zeros, and whole numbers past SAFE_INTEGER as text, as decimals are: the console's
    JSON.parse rounded them (an 18-digit ID number 110101199003077777 showed as 110101199003077780). The data
    keeps them as numbers."""
    if type(value) is int and abs(value) > SAFE_INTEGER:
        return str(value)
    if isinstance(value, decimal.Decimal) and value.as_tuple().exponent == -DEFAULT_SCALE:
        return _without_padding(value)
    return json_safe(value)


def _without_padding(value: decimal.Decimal) -> str:
    """A decimal stored at the default scale (no decimal places set) as written, without the zeros the scale pads
    it with: 2340 and 12.5, not 2340.000000000 and 12.500000000 (a scale the user set keeps its places)."""
    text = format(abs(value) if value.is_zero() else value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def effective(config: ImportConfig, planned: list[Planned], **inferred: Any) -> ImportConfig:
    """The configuration with every inferred value filled in, so sending it back imports what was shown."""
    columns = {
        p.source: ColumnSpec(name=p.name, type=p.type, include=p.include, format=p.format, scale=p.scale)  # type: ignore[arg-type]
        for p in planned
        if not p.source.startswith("__outside_") and not p.blank
    }
    filled = {key: value for key, value in inferred.items() if getattr(config, key) is None}
    return msgspec.structs.replace(config, columns=columns, **filled)
