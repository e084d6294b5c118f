"""The import configuration, the limits and the DuckDB settings a job runs with, validated before any I/O."""

from __future__ import annotations

import codecs
import re
from typing import Annotated, Literal

import msgspec

from app.ingest.bom_codecs import GB18030_SIG
from app.ingest.errors import InvalidImportConfig, field_error
from app.ingest.header_rows import MAX_HEADER_ROWS

Format = Literal["csv", "json", "ndjson", "excel"]
OnError = Literal["strict", "lenient"]
ColumnType = Literal["string", "integer", "float", "decimal", "boolean", "date", "datetime", "time", "json"]

#: Canonical encoding names we accept, keyed by Python's codec name.
ENCODINGS = {
    "utf-8": "utf-8",
    "utf-8-sig": "utf-8-sig",
    "utf-16": "utf-16",
    "utf-16-le": "utf-16-le",
    "utf-16-be": "utf-16-be",
    "gb18030": "gb18030",
    GB18030_SIG: GB18030_SIG,
    "gbk": "gbk",
    "gb2312": "gbk",
    "latin-1": "latin-1",
    "iso8859-1": "latin-1",
    "cp1252": "cp1252",
    "cp1251": "cp1251",
    "koi8-r": "koi8-r",
    "cp1253": "cp1253",
    "iso8859-7": "iso-8859-7",
    "shift_jis": "shift_jis",
    "cp932": "cp932",
    "big5": "big5",
    "cp950": "cp950",
    "big5hkscs": "big5hkscs",
    "euc_kr": "euc-kr",
    "cp949": "cp949",
}

#: What a column's `format` is, as the OpenAPI document says it.
FORMAT_DESCRIPTION = (
    "How a date, datetime or time column's text reads: one strptime format (`%Y年%m月%d日`), or a list of them tried "
    'in order for a column written several ways (`["%Y年%m月%d日", "%Y/%m/%d", "%Y%m%d"]`)'
)
_RANGE = re.compile(r"^([A-Z]{1,3})([1-9][0-9]{0,6}):([A-Z]{1,3})([1-9][0-9]{0,6})$")


class ColumnSpec(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    """What to do with one source column: keep or drop it, rename it, force its type."""

    name: str | None = None
    type: ColumnType | None = None
    include: bool = True
    #: strptime format for `date`/`datetime`/`time` columns given as text, e.g. `%d/%m/%Y`; or a list of them,
    #: tried in order, for a column written several ways (`["%Y年%m月%d日", "%Y/%m/%d", "%Y%m%d"]`).
    format: Annotated[str | list[str] | None, msgspec.Meta(description=FORMAT_DESCRIPTION)] = None
    #: Digits after the point for `decimal` columns (precision is 38).
    scale: int | None = None


def formats_of(value: str | list[str] | None) -> list[str]:
    """A column's `format` as the list of formats tried in order (empty: none given)."""
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def one_format(value: str | list[str] | None) -> str | list[str] | None:
    """A column's `format` as it is echoed: one format as a string, several as their list."""
    listed = formats_of(value)
    return None if not listed else listed[0] if len(listed) == 1 else listed


class ImportConfig(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    """How to read one file; every field is optional and inferred when absent (the preview echoes the result)."""

    format: Format | None = None
    #: Workbook sheet: its name, or its 0-based index.
    sheet: str | int | None = None
    #: 1-based row of the header within the sheet or file; 0 means no header.
    header_row: int | None = None
    #: Rows the header spans from `header_row` (workbooks, 1-3): each column's names joined top to bottom with
    #: `_`, a merged cell naming every column under it (2023年 over 收入 | 成本: 2023年_收入, 2023年_成本).
    #: Inferred when a header row's merged cells stand over a row of names.
    header_rows: int | None = None
    #: A cell range such as `A3:F1003`; its first row is the header unless `header_row` says otherwise.
    range: str | None = None
    #: Rows to skip after the header, before the data (units lines and the like).
    skip_rows: int = 0
    #: Rows to leave out at the end of a workbook sheet (or of `range`): a totals row and the like; of a CSV file,
    #: its last non-empty lines (a summary such as 共8笔记录), blank lines around them too.
    skip_footer: int = 0
    encoding: str | None = None
    delimiter: str | None = None
    quote: str | None = None
    escape: str | None = None
    null_values: list[str] | None = None
    decimal_separator: str | None = None
    thousands_separator: str | None = None
    #: Dotted path to the records inside a JSON document, e.g. `data.items`.
    record_path: str | None = None
    flatten_separator: str = "."
    columns: dict[str, ColumnSpec] | None = None
    limit: int | None = None
    on_error: OnError = "strict"

    def validate(self) -> ImportConfig:
        """Check the fields together; raise InvalidImportConfig naming every bad field."""
        errors: list[dict[str, str]] = []

        def bad(field: str, message: str) -> None:
            errors.append({"field": field, "message": message})

        if self.header_row is not None and self.header_row < 0:
            bad("header_row", "must be 0 (no header) or a 1-based row number")
        if self.header_rows is not None and not 1 <= self.header_rows <= MAX_HEADER_ROWS:
            bad("header_rows", f"must be from 1 to {MAX_HEADER_ROWS}")
        elif self.header_rows and self.header_rows > 1:
            if self.header_row == 0:
                bad("header_rows", "needs a header: header_row is 0")
            if self.format not in (None, "excel"):
                bad("header_rows", "applies to workbooks only")
        if self.skip_rows < 0:
            bad("skip_rows", "must be 0 or more")
        if self.skip_footer < 0:
            bad("skip_footer", "must be 0 or more")
        if self.skip_footer and self.format not in (None, "excel", "csv"):
            bad("skip_footer", "applies to workbooks and CSV files only")
        if self.limit is not None and self.limit < 1:
            bad("limit", "must be 1 or more")
        if self.range is not None:
            try:
                cell_range = parse_range(self.range)
            except InvalidImportConfig as exc:
                bad("range", exc.errors[0]["message"])
            else:
                if self.header_row and not cell_range.first_row <= self.header_row <= cell_range.last_row:
                    bad("header_row", f"row {self.header_row} is outside range {self.range}")
        if isinstance(self.sheet, int) and self.sheet < 0:
            bad("sheet", "index must be 0 or more")
        if self.encoding is not None and normalize_encoding(self.encoding) is None:
            bad("encoding", f"unsupported encoding {self.encoding!r}; use one of {', '.join(sorted(set(ENCODINGS)))}")
        for field in ("delimiter", "quote", "escape", "decimal_separator", "thousands_separator"):
            value = getattr(self, field)
            empty_ok = field in ("quote", "escape") and value == ""  # "" = no quoting / no escaping
            if value is not None and not empty_ok and (len(value) != 1 or value in "\r\n"):
                bad(field, "must be a single character other than a line break")
        if self.delimiter is not None and self.delimiter == self.decimal_separator:
            bad("decimal_separator", "must differ from delimiter")
        if self.decimal_separator not in (None, ".", ","):
            bad("decimal_separator", "must be '.' or ','")
        if self.decimal_separator and self.decimal_separator == self.thousands_separator:
            bad("thousands_separator", "must differ from decimal_separator")
        if self.delimiter is not None and self.delimiter == self.quote and self.quote:
            bad("quote", "must differ from delimiter")
        if not self.flatten_separator:
            bad("flatten_separator", "must not be empty")
        if self.record_path is not None and (not self.record_path or "" in self.record_path.split(".")):
            bad("record_path", "must be a dotted path such as data.items")
        if self.record_path is not None and self.format not in (None, "json"):
            bad("record_path", "applies to JSON documents only")
        for source, spec in (self.columns or {}).items():
            if spec.name is not None and not spec.name.strip():
                bad(f"columns.{source}.name", "must not be empty")
            if spec.format is not None and spec.type not in ("date", "datetime", "time"):
                bad(f"columns.{source}.format", "applies to date, datetime and time columns only")
            elif isinstance(spec.format, list) and (not spec.format or not all(f.strip() for f in spec.format)):
                bad(f"columns.{source}.format", "must list one or more formats, none of them empty")
            if spec.scale is not None and (spec.type != "decimal" or not 0 <= spec.scale <= 38):
                bad(f"columns.{source}.scale", "applies to decimal columns, from 0 to 38")
        renamed = [spec.name or src for src, spec in (self.columns or {}).items() if spec.include and spec.name]
        if len(renamed) != len(set(renamed)):
            bad("columns", "two columns are renamed to the same name")
        if errors:
            first = errors[0]
            raise InvalidImportConfig(f"{first['field']}: {first['message']}", errors=errors)
        return self


class ImportLimits(msgspec.Struct, kw_only=True, frozen=True):
    """Limits from settings, passed in by the caller; exceeding one raises LimitExceeded naming it."""

    max_upload_bytes: int = 5 * 1024**3
    #: Sum of a workbook's declared uncompressed member sizes.
    max_workbook_uncompressed_bytes: int = 2 * 1024**3
    #: Uncompressed/compressed ratio of a workbook above which it is treated as a zip bomb.
    max_compression_ratio: float = 200.0
    max_workbook_cells: int = 12_000_000
    max_preview_rows: int = 1000
    #: Longest line (CSV) or record (JSON) accepted; DuckDB sizes its read buffers from it (keep it well under
    #: the job memory limit: Latin-1 decoding needs a block of 32x this).
    max_line_bytes: int = 8 * 1024**2
    #: Deepest JSON nesting accepted (DuckDB's reader stops at 128 anyway).
    max_json_depth: int = 64


class DuckDBSettings(msgspec.Struct, kw_only=True, frozen=True):
    """Resources one job's DuckDB connection may use."""

    memory_limit: str = "512MB"
    threads: int = 2
    #: Spill directory; must exist and be writable. Empty: a directory inside the job's work dir.
    temp_directory: str = ""
    #: Wall-clock limit of a `bounded` block of work (seconds), for work done inside an API request; None: no
    #: limit (a run's own timeout and cancel bound it). See `app.ingest.bounded`.
    time_limit_seconds: float | None = None


class CellRange(msgspec.Struct, frozen=True):
    """A parsed `A3:F1003` range: 1-based, inclusive rows and columns."""

    first_row: int
    first_col: int
    last_row: int
    last_col: int


def column_index(letters: str) -> int:
    """1-based column number of Excel column letters (`A` → 1, `AA` → 27)."""
    number = 0
    for char in letters:
        number = number * 26 + ord(char) - ord("A") + 1
    return number


def column_letters(number: int) -> str:
    """Excel column letters of a 1-based column number, for messages that point at a cell."""
    letters = ""
    while number > 0:
        number, rest = divmod(number - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def parse_range(text: str) -> CellRange:
    """Parse `A3:F1003` (either corner first) into a CellRange."""
    match = _RANGE.match(text.strip().upper().replace("$", ""))
    if match is None:
        raise field_error("range", f"{text!r} is not a cell range such as A3:F1003")
    col_a, row_a, col_b, row_b = column_index(match[1]), int(match[2]), column_index(match[3]), int(match[4])
    if max(col_a, col_b) > 16384 or max(row_a, row_b) > 1_048_576:
        raise field_error("range", f"{text!r} is outside a worksheet (XFD1048576)")
    return CellRange(min(row_a, row_b), min(col_a, col_b), max(row_a, row_b), max(col_a, col_b))


def normalize_encoding(name: str) -> str | None:
    """Our canonical name for an encoding label, or None when we do not import that encoding."""
    try:
        python_name = codecs.lookup(name).name
    except LookupError:
        return None
    return ENCODINGS.get(python_name)


def parse_config(data: bytes | str | dict[str, object] | None) -> ImportConfig:
    """Decode and validate a configuration from JSON or a dict; errors name the field."""
    try:
        if data is None or data in (b"", ""):
            config = ImportConfig()
        elif isinstance(data, dict):
            config = msgspec.convert(data, ImportConfig)
        else:
            config = msgspec.json.decode(data, type=ImportConfig)
    except msgspec.ValidationError as exc:
        message = str(exc)
        field = message.rsplit("at `$.", 1)[-1].rstrip("`") if "at `$." in message else "config"
        raise InvalidImportConfig(message, errors=[{"field": field, "message": message}]) from exc
    except msgspec.DecodeError as exc:
        raise InvalidImportConfig(f"not valid JSON: {exc}", errors=[{"field": "config", "message": str(exc)}]) from exc
    return config.validate()
