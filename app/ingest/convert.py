"""Python cell values to Arrow arrays of a chosen type: a vectorised fast path, a per-cell path that says why.

Whole-column conversion by pyarrow (in C) is tried first; only a batch whose column holds something it cannot
take (an empty cell in a number column, a text date, a bad value) is converted cell by cell, and only there
are problems reported with the row they are on.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
from collections.abc import Callable, Sequence
from typing import Any

import msgspec
import pyarrow as pa
import pyarrow.compute as pc

from app.ingest.columns import Planned, has_leading_zero, json_safe
from app.ingest.config import ImportConfig, formats_of
from app.ingest.date_system import EXCEL_1900, DateOrigin
from app.ingest.duck import DEFAULT_SCALE, literal
from app.ingest.money import plain_number
from app.ingest.number_range import beyond, nonfinite_text, out_of_range
from app.ingest.utc_offsets import AN_OFFSET, NO_OFFSET, in_utc, parsed

#: The last date a serial may be, as Excel's: 9999-12-31 (and the first an ods's below 0 may be).
LAST_DATE, FIRST_DATE = dt.datetime(9999, 12, 31), dt.datetime(1, 1, 1)
#: Our types whose Arrow arrays pyarrow would also build from numbers, read as days or microseconds after 1970.
TEMPORAL = frozenset({"date", "datetime", "time"})
#: Chinese yes and no, as forms and HR exports write a flag (是/否), and the ticks and crosses of a checklist column
#: (√ and the multiplication sign, ✓/✗): read so in a boolean column (CSV: `boolean_sql`).
CHINESE_BOOLEANS = {"是": True, "否": False, "√": True, "\u00d7": False, "✓": True, "✗": False}
TRUE_WORDS = {"true", "yes", "y", "1", "t", *(word for word, flag in CHINESE_BOOLEANS.items() if flag)}
FALSE_WORDS = {"false", "no", "n", "0", "f", *(word for word, flag in CHINESE_BOOLEANS.items() if not flag)}


def arrow_type(p: Planned) -> pa.DataType:
    """The Arrow type a planned column is written as."""
    return {
        "string": pa.string(),
        "integer": pa.int64(),
        "float": pa.float64(),
        "boolean": pa.bool_(),
        "date": pa.date32(),
        "datetime": pa.timestamp("us"),
        "time": pa.time64("us"),
        "json": pa.string(),
        "decimal": pa.decimal128(38, DEFAULT_SCALE if p.scale is None else p.scale),
    }[p.type]


def boolean_sql(expr: str) -> str:
    """SQL for `expr` (text) with 是/否, ticks and crosses as true/false (CHINESE_BOOLEANS), else trimmed: for
    DuckDB's cast, which reads true/false, yes/no, y/n, t/f and 1/0 itself."""
    value = f"trim({expr})"
    cases = " ".join(f"WHEN {literal(word)} THEN '{str(flag).lower()}'" for word, flag in CHINESE_BOOLEANS.items())
    return f"CASE {value} {cases} ELSE {value} END"


def warm_up() -> None:
    """Do pyarrow's one-time lazy work now, at process start: its first `pa.array` of a Python list checks whether
    pandas is installed and imports it if so (seconds; tens of seconds without bytecode caches on a busy machine).
    The API runs this at startup, so the first preview after a start does not spend its request time limit
    (CONVEYOR_REQUEST_QUERY_SECONDS) on an import and fail as query_too_expensive."""
    pa.array([0], pa.int64())


class CellError(ValueError):
    """Why a cell does not fit its column's type, in words a user reads (not Python's own exception text)."""


class Converter:
    """Converts one column's cells to its planned type, given the import's null markers and separators."""

    def __init__(self, p: Planned, config: ImportConfig, *, origin: DateOrigin = EXCEL_1900) -> None:
        self.p = p
        self.origin = origin
        self.type = arrow_type(p)
        self.nulls = frozenset(v for v in (config.null_values or []) if v != "")
        self.decimal_sep = config.decimal_separator or "."
        self.thousands = config.thousands_separator
        self.config = config
        self.cell: Callable[[Any], Any] = getattr(self, f"to_{p.type}")
        #: Whether the column's times carry a UTC offset, as its first time with a time of day says (None before
        #: it): a time of the other kind is a bad value (app.ingest.utc_offsets).
        self.zoned: bool | None = None
        #: The column's first time written with a UTC offset (what its UtcOffset notice shows), when it is zoned.
        self.offset_example: str | None = None

    def array(self, values: Sequence[Any]) -> tuple[pa.Array, list[tuple[int, str, Any]]]:
        """The column as an Arrow array, and (position, reason, value) for each cell that could not convert."""
        if self.p.type in ("string", "json"):
            if self.p.type == "string":
                try:
                    return self._strings(pa.array(values, pa.string())), []
                except (pa.ArrowInvalid, pa.ArrowTypeError):
                    pass
        else:
            try:
                fast = self._fast(values), []
            except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
                pass
            else:
                if self.zoned is None and self.p.type == "datetime" and fast[0].null_count < len(fast[0]):
                    self.zoned = False  # datetime cells: local times
                return fast
            if not self.nulls:
                try:
                    return self._fast(self._tidy(values)), []
                except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
                    pass
        converted: list[Any] = []
        problems: list[tuple[int, str, Any]] = []
        for position, value in enumerate(values):
            if value is None or value == "" or (isinstance(value, str) and value in self.nulls):
                converted.append(None)
                continue
            try:
                converted.append(self.cell(value))
            except (ValueError, TypeError, ArithmeticError) as exc:
                converted.append(None)
                why = f": {exc}" if isinstance(exc, CellError) else ""  # not "[<class 'decimal.ConversionSyntax'>]"
                problems.append((position, f"cannot read {value!r} as {self.p.type}{why}", value))
        return self._unsigned_zero(pa.array(converted, self.type)), problems

    def _fast(self, values: Sequence[Any]) -> pa.Array:
        """Whole-column conversion in C; raises when a cell does not fit."""
        if self.p.type == "integer":  # workbooks store numbers as doubles: convert as such, refuse fractions
            return pc.cast(pa.array(values, pa.float64()), pa.int64())
        if self.p.type == "float":
            numbers = pa.array(values, pa.float64())
            if pc.any(pc.is_inf(numbers)).as_py():  # a number cell past a float's range: said cell by cell
                raise pa.ArrowInvalid("an infinity in a float column")
            return self._unsigned_zero(numbers)
        if self.p.type in TEMPORAL and any(type(v) in (int, float) for v in values):
            # pyarrow takes 45296 as day 45296 after 1970 (2094-01-06): numbers go cell by cell (`to_datetime`)
            raise pa.ArrowInvalid("numbers in a temporal column")
        return self._unsigned_zero(pa.array(values, self.type))

    def _unsigned_zero(self, array: pa.Array) -> pa.Array:
        """-0.0 (a formula rounding a small negative) as 0.0: adding +0.0 leaves every other value as it is."""
        return pc.add(array, pa.scalar(0.0)) if self.p.type == "float" else array

    def _tidy(self, values: Sequence[Any]) -> list[Any]:
        """Empty cells as None; for datetime columns, dates as midnight (calamine gives a date for 00:00)."""
        if self.p.type == "datetime":
            date, datetime, midnight = dt.date, dt.datetime, dt.time()
            return [None if v == "" else datetime.combine(v, midnight) if type(v) is date else v for v in values]
        return [None if v == "" else v for v in values]

    def _strings(self, array: pa.Array) -> pa.Array:
        """Empty cells and null markers become nulls."""
        if self.nulls:
            empty = pc.is_in(array, value_set=pa.array(["", *self.nulls], pa.string()))
        else:
            empty = pc.equal(array, "")
        return pc.if_else(empty, pa.scalar(None, pa.string()), array)

    def _number_text(self, text: str) -> str:
        """A numeric string with the configured separators made Python-readable; a number written with a leading
        zero is a code (app.ingest.columns.LEADING_ZERO: a sampled one makes its column text), not a number."""
        text = text.strip()
        if has_leading_zero(text):
            raise CellError("is written with a leading zero, a code: set the column's type to string to keep it")
        amount = plain_number(text, self.config)  # ¥1,234.56, 20.00元: app.ingest.money
        if amount is not None:
            text = amount
        elif self.thousands:
            text = text.replace(self.thousands, "")
        return text.replace(self.decimal_sep, ".") if self.decimal_sep != "." else text

    def to_string(self, value: Any) -> str:
        if isinstance(value, float) and not math.isfinite(value):  # an xls/xlsb cell: not json_safe's None
            return nonfinite_text(value)
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, dt.timedelta):
            return duration_text(value)
        return str(json_safe(value))

    def to_json(self, value: Any) -> str:
        return msgspec.json.encode(json_safe(value)).decode()

    def to_integer(self, value: Any) -> int:
        if isinstance(value, bool | dt.date | dt.time):
            raise CellError("not a number")
        if isinstance(value, float):
            if not value.is_integer():
                raise CellError("has a fractional part")
            return int(value)
        if isinstance(value, str):
            number = decimal.Decimal(self._number_text(value))
            if number != number.to_integral_value():
                raise CellError("has a fractional part")
            return int(number)
        return int(value)

    def to_float(self, value: Any) -> float:
        if isinstance(value, bool | dt.date | dt.time):
            raise CellError("not a number")
        text = self._number_text(value) if isinstance(value, str) else None
        if text is not None and out_of_range(text):  # a text cell 1e400 or 1e-400: no silent infinity or 0
            raise CellError(beyond(text))
        number = float(value if text is None else text)
        if math.isinf(number):  # a workbook holds no infinity: a number cell written 1e400 by hand or a generator
            raise CellError("is beyond what a float holds (about 1.8e308) and would have been read as infinity")
        return number

    def to_decimal(self, value: Any) -> decimal.Decimal:
        if isinstance(value, bool | dt.date | dt.time):
            raise CellError("not a number")
        text = self._number_text(value) if isinstance(value, str) else repr(value)
        scale = DEFAULT_SCALE if self.p.scale is None else self.p.scale
        number = decimal.Decimal(text).quantize(decimal.Decimal(1).scaleb(-scale))
        return abs(number) if number.is_zero() else number  # no -0.00

    def to_boolean(self, value: Any) -> bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, int | float) and value in (0, 1):
            return bool(value)
        word = str(value).strip().lower()
        if word in TRUE_WORDS or word in FALSE_WORDS:
            return word in TRUE_WORDS
        raise CellError("not a boolean")

    def to_datetime(self, value: Any) -> dt.datetime:
        """A cell as a time: text with a UTC offset as its instant in UTC, in a column whose times all have one
        (a datetime cell or a time without one is a local time: the column's first time says which it holds)."""
        time = self._time(value)
        zoned = time.tzinfo is not None
        if self.zoned is None:
            self.zoned = zoned
            if zoned and isinstance(value, str):
                self.offset_example = value.strip()
        elif zoned != self.zoned:
            raise CellError(AN_OFFSET if zoned else NO_OFFSET)
        return in_utc(time) if zoned else time

    def _time(self, value: Any) -> dt.datetime:
        if isinstance(value, dt.datetime):
            return value
        if isinstance(value, dt.date):
            return dt.datetime(value.year, value.month, value.day)
        if isinstance(value, int | float) and not isinstance(value, bool):
            if self.p.format and float(value).is_integer():  # 20240105 with the format %Y%m%d
                return self._time(str(int(value)))
            return serial_datetime(value, self.origin)  # a serial date in a cell not formatted as one
        if isinstance(value, str):
            text = value.strip()
            return self._parsed(text) if self.p.format else parsed(text)
        raise CellError("not a date and time")

    def _parsed(self, text: str) -> dt.datetime:
        """`text` read through the column's formats, the first that fits."""
        for form in formats_of(self.p.format):
            try:
                return dt.datetime.strptime(text, form)
            except ValueError:
                continue
        forms = formats_of(self.p.format)
        said = f"the format {forms[0]!r}" if len(forms) == 1 else f"any of the formats {', '.join(map(repr, forms))}"
        raise CellError(f"does not match {said}")

    def to_date(self, value: Any) -> dt.date:
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            return value
        return self._time(value).date()

    def to_time(self, value: Any) -> dt.time:
        if isinstance(value, dt.time):
            return value
        if isinstance(value, dt.datetime):
            return value.time()
        if isinstance(value, dt.timedelta) and dt.timedelta(0) <= value < dt.timedelta(days=1):
            return (dt.datetime.min + value).time()
        if isinstance(value, str):
            text = value.strip()
            return self._parsed(text).time() if self.p.format else dt.time.fromisoformat(text)
        raise CellError("not a time")


def serial_datetime(value: float, origin: DateOrigin) -> dt.datetime:
    """A serial date (days, with the time as a fraction) in the workbook's date system (app.ingest.date_system):
    Excel's 1900 or 1904 (1,462 days later for the same serial), or an ods's null date."""
    first = (FIRST_DATE - origin.epoch).days if origin.negative else 0
    last = (LAST_DATE - origin.epoch).days
    if not first <= value <= last:
        raise CellError(f"is no Excel serial date ({first} to {last}: 9999-12-31); set a format such as %Y%m%d")
    if origin.leap_bug and value < 60:  # Excel counts a 1900-02-29 (serial 60, read as 02-28) that never was
        value += 1
    return origin.epoch + dt.timedelta(days=value)


def duration_text(value: dt.timedelta) -> str:
    """A duration as Excel shows a `[h]:mm:ss` cell (25:30:00; calamine gives such cells as timedeltas), with the
    fraction of a second when there is one: as text, since a time of day stops at 24:00."""
    sign = "-" if value < dt.timedelta(0) else ""
    seconds, micros = divmod(abs(value) // dt.timedelta(microseconds=1), 1_000_000)
    hours, rest = divmod(seconds, 3600)
    fraction = f".{micros:06d}" if micros else ""
    return f"{sign}{hours}:{rest // 60:02d}:{rest % 60:02d}{fraction}"
