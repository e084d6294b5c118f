"""CSV/TSV through DuckDB: its sniffer finds the dialect and types, its `read_csv` inside a `COPY ... TO parquet`
does the import, so the fast path is exactly DuckDB's own, with the options made explicit.

Bad rows are never guessed at in Python: `store_rejects` records each one (line, column, reason) in a temp
table; a lenient import copies them to a rejects file, a strict one fails listing the first of them.
"""

from __future__ import annotations

import csv
import re
from typing import Any

import duckdb
import msgspec

from app.ingest import blank_columns, csv_cells, repeated_header
from app.ingest.codes import code_columns
from app.ingest.columns import Planned, clean_names, effective, plan_columns
from app.ingest.config import ImportConfig, ImportLimits, parse_range
from app.ingest.duck import WIDER_THAN_BIGINT, exact_number_type, literal, our_type
from app.ingest.errors import field_error
from app.ingest.notices import note
from app.ingest.notices.columns import DelimiterHint, HeaderWidth

#: Rows DuckDB's sniffer samples for the dialect and the column types.
SAMPLE_ROWS = 20_480
#: DuckDB's marker for "no quote/escape character".
EMPTY = "(empty)"
#: Excel's first line `sep=;` (any one character after `sep=`): it names the delimiter and is not data. Excel writes
#: it in some exports and honours it on opening, so files made for Excel by other tools carry it too.
_SEPARATOR_HINT = re.compile(r'^"?sep=([^"\r\n])"?[ \t]*$')
#: Characters of the first line read to look for that hint (a one-line 200 MB file is not read whole for it).
HINT_CHARS = 64


class CsvPlan(msgspec.Struct, kw_only=True):
    """Everything `read_csv` needs, made explicit so preview and import read the file the same way."""

    path: str
    encoding: str
    delimiter: str
    quote: str
    escape: str
    header_row: int
    #: The header line as written (None without a header), and its cells: what a line repeating it is compared with.
    header_line: str | None = None
    header: list[str] = msgspec.field(default_factory=list)
    #: Lines before the first data row.
    skip: int
    #: Every source column in file order; excluded ones are still parsed (as text) to keep positions.
    columns: list[Planned]
    dateformat: str | None = None
    timestampformat: str | None = None
    limit: int | None = None
    #: Number columns holding amounts, percentages or accounting negatives (app.ingest.money), boolean columns
    #: holding 是/否 (app.ingest.convert): read as text, then converted.
    as_text: list[str] = msgspec.field(default_factory=list)
    #: Text columns whose cells may end in a tab (app.ingest.csv_cells): read without trailing tabs.
    padded: list[str] = msgspec.field(default_factory=list)
    #: Text columns whose cells may be written `="…"` (app.ingest.csv_cells): read as the text inside.
    formulas: list[str] = msgspec.field(default_factory=list)
    #: Number columns whose sample holds codes (digits of one width, or wide ones: app.ingest.codes): read as text,
    #: converted only where the number writes back as the same text.
    codes: list[str] = msgspec.field(default_factory=list)
    #: Datetime columns whose times carry a UTC offset (+08:00, Z): read with it, stored as the instant in UTC; one
    #: of no format is read as text and converted (a time without an offset in it is a bad value: utc_offsets).
    zoned: list[str] = msgspec.field(default_factory=list)
    warnings: list[str] = msgspec.field(default_factory=list)


def sniff_dialect(conn: duckdb.DuckDBPyConnection, path: str, encoding: str, options: dict[str, Any]) -> dict[str, Any]:
    """DuckDB's sniffer over the file's head, with whatever the user already fixed."""
    args = ", ".join(f"{key}={literal(value)}" for key, value in {**options, **SNIFF_ONLY}.items())
    cursor = conn.execute(f"SELECT * FROM sniff_csv({literal(path)}, encoding={literal(encoding)}, {args})")
    row = cursor.fetchone()
    assert row is not None
    return dict(zip([d[0] for d in cursor.description], row, strict=True))


#: The CSV read buffer DuckDB uses (it must be at least the longest line allowed).
READ_BUFFER_BYTES = 32 * 1024 * 1024


def read_buffer_bytes(limits: ImportLimits) -> int:
    """DuckDB's CSV read buffer: without it, DuckDB sizes its buffers at 16 x max_line_size (128 MiB for 8 MiB
    lines), which costs about a quarter of the throughput and a third more memory; it must hold one line."""
    return max(READ_BUFFER_BYTES, limits.max_line_bytes)


def base_options(config: ImportConfig, limits: ImportLimits) -> dict[str, Any]:
    """read_csv options fixed by the configuration alone."""
    options: dict[str, Any] = {
        "sample_size": SAMPLE_ROWS,
        "max_line_size": limits.max_line_bytes,
        "buffer_size": read_buffer_bytes(limits),
    }
    if config.delimiter is not None:
        options["delim"] = config.delimiter
    if config.quote is not None:
        options["quote"] = config.quote
    if config.escape is not None:
        options["escape"] = config.escape
    if config.null_values is not None:
        options["nullstr"] = null_strings(config)
    if config.decimal_separator is not None:
        options["decimal_separator"] = config.decimal_separator
    if config.thousands_separator is not None:
        options["thousands"] = config.thousands_separator
    return options


def null_strings(config: ImportConfig) -> list[str]:
    """The cells read as NULL: empty ones, always (as in workbooks), and the `null_values`. Given to DuckDB as they
    were, `null_values` replaced its empty-cell marker: an empty cell became '' and turned a number column text."""
    return ["", *(value for value in config.null_values or () if value != "")]


#: Sniffer options that are not read options: bad rows are ignored while guessing, reported while reading.
SNIFF_ONLY = {"ignore_errors": True}


def sniffed_types(
    conn: duckdb.DuckDBPyConnection, path: str, options: dict[str, Any], skip: int, columns: list[dict[str, Any]]
) -> tuple[list[str], list[int | None]]:
    """Our types (and decimal scales) for the columns DuckDB's sniffer typed, the data starting after `skip` lines.

    Digits too long for a 64-bit integer (account and card numbers, ids) became `integer` and every row failed
    its cast to BIGINT; they follow `exact_number_type`, from the longest such value in the sampled rows.
    """
    wide = [i for i, column in enumerate(columns) if column["type"].upper() in WIDER_THAN_BIGINT]
    longest = _longest_digits(conn, path, options, skip, len(columns), wide) if wide else {}
    types: list[str] = []
    scales: list[int | None] = []
    for index, column in enumerate(columns):
        kind, scale = exact_number_type(longest[index]) if index in longest else (our_type(column["type"]), None)
        types.append(kind)
        scales.append(scale)
    return types, scales


def _longest_digits(
    conn: duckdb.DuckDBPyConnection, path: str, options: dict[str, Any], skip: int, width: int, indexes: list[int]
) -> dict[int, int]:
    """The most digits a value of each column in `indexes` has, over the rows the sniffer samples."""
    parts = ", ".join(f"coalesce(max(length(regexp_replace(c{i}, '[^0-9]', '', 'g'))), 0)" for i in indexes)
    call = text_call(path, options, skip, width)
    row = conn.execute(f"SELECT {parts} FROM (SELECT * FROM {call} LIMIT {SAMPLE_ROWS})").fetchall()[0]
    return dict(zip(indexes, (int(digits) for digits in row), strict=True))


def text_call(path: str, options: dict[str, Any], skip: int, width: int) -> str:
    """`read_csv` of the data rows after `skip` lines, every column as text `c0`, `c1`, ... (bad rows ignored)."""
    args = {
        "auto_detect": False,
        "encoding": options["encoding"],
        "delim": options["delim"],
        "quote": options["quote"],
        "escape": options["escape"],
        "header": False,
        "skip": skip,
        "columns": {f"c{i}": "VARCHAR" for i in range(width)},
        "max_line_size": options["max_line_size"],
        "buffer_size": options["buffer_size"],
        "ignore_errors": True,
    }
    return f"read_csv({literal(path)}, " + ", ".join(f"{k}={literal(v)}" for k, v in args.items()) + ")"


def detect(
    conn: duckdb.DuckDBPyConnection, path: str, encoding: str, config: ImportConfig, limits: ImportLimits
) -> CsvPlan:
    """Work out dialect, header, names and types of a CSV file DuckDB can read, honouring `config`."""
    options = base_options(config, limits)
    hint = separator_hint(read_line(path, encoding, 1, HINT_CHARS))
    if hint is not None:
        options.setdefault("delim", hint)  # a delimiter the configuration sets still wins
    cell_range = parse_range(config.range) if config.range else None
    header_row = config.header_row
    if header_row is None and cell_range is not None:
        header_row = cell_range.first_row
    dialect_options = dict(options)
    if header_row is not None:
        dialect_options.update(header=header_row > 0, skip=max(header_row - 1, 0))
    elif cell_range is not None:
        dialect_options["skip"] = cell_range.first_row - 1
    elif hint is not None:
        dialect_options["skip"] = 1  # the header is looked for below the hint (DuckDB's SkipRows counts it)
    dialect = sniff_dialect(conn, path, encoding, dialect_options)
    for key, field in (("delim", "Delimiter"), ("quote", "Quote"), ("escape", "Escape")):
        options.setdefault(key, "" if dialect[field] == EMPTY else dialect[field])
    if header_row is None:
        header_row = dialect["SkipRows"] + 1 if dialect["HasHeader"] else 0

    first_data = (header_row + 1 if header_row else (cell_range.first_row if cell_range else 1)) + config.skip_rows
    if header_row == 0 and cell_range is None and dialect["SkipRows"]:
        first_data = dialect["SkipRows"] + 1 + config.skip_rows
    data = sniff_dialect(conn, path, encoding, {**options, "header": False, "skip": first_data - 1})
    types, scales = sniffed_types(conn, path, {**options, "encoding": encoding}, first_data - 1, data["Columns"])
    if header_row:
        header_line = read_line(path, encoding, header_row, limits.max_line_bytes)
        raw = header_cells(header_line, options)
        names, warnings = clean_names(raw)
        rows = text_call(path, {**options, "encoding": encoding}, first_data - 1, len(raw))
        repeats = repeated_header.warning(conn, rows, raw, SAMPLE_ROWS)
        warnings += [repeats] if repeats else []
    else:
        names, warnings, header_line = [f"column_{i}" for i in range(1, len(types) + 1)], [], None
    if len(names) != len(types):
        warnings.append(note(HeaderWidth(header=len(names), data=len(types))))
        width = max(len(names), len(types))
        names, _ = clean_names(names + [""] * (width - len(names)))
        types += ["string"] * (width - len(types))
        scales += [None] * (width - len(scales))
    if hint is not None:
        warnings.append(note(DelimiterHint(hint=hint, delimiter=options["delim"])))

    kept_names, kept_types, kept_scales = _within_range(names, types, scales, cell_range)
    planned = plan_columns(kept_names, kept_types, config, kept_scales)
    shift = cell_range.first_col - 1 if cell_range else 0
    sniffed = {p.index + shift: kind for p, kind in zip(planned, kept_types, strict=True)}
    planned = _with_range_positions(planned, cell_range)
    cells = text_call(path, {**options, "encoding": encoding}, first_data - 1, len(names))
    if header_row and cell_range is None:  # trailing columns with no header and no value: left out, said once
        planned, blank = blank_columns.left_out(conn, cells, planned, raw, config)
        warnings = blank_columns.warnings_without(warnings, planned, blank)
    as_text, padded, formulas = csv_cells.sampled(conn, cells, planned, sniffed, SAMPLE_ROWS)
    warnings += [csv_cells.padded_warning(padded)] if padded else []
    warnings += [csv_cells.formula_warning(formulas)] if formulas else []
    codes = code_columns(conn, cells, planned, sniffed, SAMPLE_ROWS)
    zones = {i for i, c in enumerate(data["Columns"]) if c["type"].upper() == "TIMESTAMP WITH TIME ZONE"}
    zones |= set(csv_cells.offset_columns(conn, cells, planned, SAMPLE_ROWS))
    zoned = [p.source for p in planned if p.include and p.type == "datetime" and p.index in zones]
    warnings += csv_cells.zoned_warning(conn, cells, planned, zoned)
    if cell_range is not None:
        planned = _pad_columns(planned, len(names))
    limit = config.limit
    if cell_range is not None:
        span = cell_range.last_row - first_data + 1
        limit = min(limit, span) if limit else max(span, 0)
    formatted, dateformat, timestampformat = _formats(planned, zoned, data["DateFormat"], data["TimestampFormat"])
    as_text += formatted
    return CsvPlan(
        path=path,
        encoding=encoding,
        delimiter=options["delim"],
        quote=options["quote"],
        escape=options["escape"],
        header_row=header_row,
        header_line=header_line,
        header=raw if header_row else [],
        skip=first_data - 1,
        columns=planned,
        dateformat=dateformat,
        timestampformat=timestampformat,
        limit=limit,
        as_text=as_text,
        padded=padded,
        formulas=formulas,
        codes=codes,
        zoned=zoned,
        warnings=warnings,
    )


def effective_config(config: ImportConfig, plan: CsvPlan, encoding: str) -> ImportConfig:
    """The configuration `plan` reads the CSV with, every inferred value filled in (as preview and import give it)."""
    return effective(
        config,
        plan.columns,
        format="csv",
        encoding=encoding,
        delimiter=plan.delimiter,
        quote=plan.quote,
        escape=plan.escape,
        header_row=plan.header_row,
    )


def separator_hint(line: str) -> str | None:
    """The delimiter an Excel `sep=;` line names, or None when `line` is no such hint."""
    match = _SEPARATOR_HINT.match(line.lstrip("\ufeff").rstrip("\r\n"))
    return match.group(1) if match else None


def read_line(path: str, encoding: str, number: int, max_bytes: int) -> str:
    """Line `number` (from 1) of a text file, at most `max_bytes` characters; any line end (LF, CRLF, CR) ends it."""
    codec = "utf-8-sig" if encoding == "utf-8" else encoding
    with open(path, encoding=codec, errors="replace", newline="") as handle:
        for _ in range(number - 1):
            handle.readline(max_bytes)
        return handle.readline(max_bytes)


def header_cells(line: str, options: dict[str, Any]) -> list[str]:
    """The cells of the header line, split with the data's dialect (Python's csv: no sniffing, so ragged
    rows further down cannot confuse it)."""
    quote, escape = options.get("quote") or None, options.get("escape") or None
    reader = csv.reader(
        [line.rstrip("\r\n")],
        delimiter=options["delim"],
        quotechar=quote,
        escapechar=escape if escape != quote else None,
        quoting=csv.QUOTE_MINIMAL if quote else csv.QUOTE_NONE,
    )
    return next(reader, [])


def _within_range(
    names: list[str], types: list[str], scales: list[int | None], cell_range: Any
) -> tuple[list[str], list[str], list[int | None]]:
    """Only the columns inside a range's letters."""
    if cell_range is None:
        return names, types, scales
    first, last = cell_range.first_col - 1, cell_range.last_col
    return names[first:last], types[first:last], scales[first:last]


def _with_range_positions(planned: list[Planned], cell_range: Any) -> list[Planned]:
    """Shift plan indexes back to file positions when a range cut off leading columns."""
    if cell_range is None:
        return planned
    return [msgspec.structs.replace(p, index=p.index + cell_range.first_col - 1) for p in planned]


def _pad_columns(planned: list[Planned], width: int) -> list[Planned]:
    """Add excluded text columns for the file columns a range left out, so read_csv keeps its positions."""
    by_index = {p.index: p for p in planned}
    taken = {p.source for p in planned}
    padded = []
    for index in range(width):
        if index in by_index:
            padded.append(by_index[index])
            continue
        source = f"__outside_{index + 1}"
        while source in taken:
            source += "_"
        padded.append(Planned(index=index, source=source, name=source, type="string", include=False))
    return padded


def _formats(
    planned: list[Planned], zoned: list[str], sniffed_date: str | None, sniffed_ts: str | None
) -> tuple[list[str], str | None, str | None]:
    """(the columns read as text and converted one by one with their own formats, the date and the timestamp
    format of `read_csv`). `read_csv` takes one format of each for the whole file: a user's format is given to it
    only when every column of that type it reads has that format (a column with none keeps the sniffed one, which
    another column's format must not replace); other columns with formats, several formats or a time format are
    read as text and converted by the SELECT with `strptime`, each with its own."""
    chosen: dict[str, str | None] = {"date": sniffed_date or None, "datetime": sniffed_ts or None}
    kept = [p for p in planned if p.include and p.type in ("date", "datetime", "time")]
    as_text = [p.source for p in kept if isinstance(p.format, list) or (p.format and p.type == "time")]
    for kind in chosen:
        typed = [p for p in kept if p.type == kind and p.source not in as_text]
        fixed = {p.format for p in typed if p.format and p.source in zoned}  # read with their offset: by read_csv
        if len(fixed) > 1:
            raise field_error(
                f"columns.{next(p.source for p in typed if p.source in zoned and p.format)}.format",
                f"a CSV import reads the {kind} columns with a UTC offset with one format",
            )
        given = fixed or {p.format for p in typed if p.format}
        if fixed or (len(given) == 1 and all(p.format for p in typed)):
            chosen[kind] = given.pop()  # type: ignore[assignment]
        as_text += [p.source for p in typed if p.format and p.format != chosen[kind]]
    return as_text, chosen["date"], chosen["datetime"]
