"""Read a dataset version's Parquet file through DuckDB: pages of rows (columns, sort, simple filters), and downloads.

Every query runs on a sandboxed connection that may read only that one file.
Column names are checked against the file's schema and quoted; filter values
are bound parameters, never spliced into the SQL.
"""

from __future__ import annotations

import decimal
import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

import duckdb
import msgspec
import pyarrow as pa
import pyarrow.csv as pa_csv

from app.core.errors import InvalidParameter
from app.domain.cell_cuts import Cut, cut_cell, fetchable, is_nested, nested_budget
from app.domain.csv_cells import defused, defused_text
from app.domain.row_totals import TOTALS
from app.domain.sorted_copies import MIN_ROWS, SORTED
from app.ingest import DuckDBSettings
from app.ingest.columns import json_safe, json_shown
from app.ingest.duck import connect, ident, our_type

#: Filter operators: `column:op:value` (`is_null` and `not_null` take no value). `{column}` is the column, `?` the
#: value; `contains` and `starts_with` compare plain text, case-insensitively (no LIKE pattern: `%` and `_` are
#: characters like any other).
OPERATORS = {
    "eq": "{column} = ?",
    "ne": "{column} <> ?",
    "lt": "{column} < ?",
    "le": "{column} <= ?",
    "gt": "{column} > ?",
    "ge": "{column} >= ?",
    "contains": "contains(lower({column}), lower(?))",
    "starts_with": "starts_with(lower({column}), lower(?))",
    "is_null": "{column} IS NULL",
    "not_null": "{column} IS NOT NULL",
}
#: Operators that compare the column as text.
TEXT_OPERATORS = frozenset({"contains", "starts_with"})
#: Operators that take no value.
NO_VALUE = frozenset({"is_null", "not_null"})
#: DuckDB's virtual column of a row's position in the Parquet file (a version whose own column has this name is
#: read the one-query way).
ROW_NUMBER = "file_row_number"
#: Rows fetched per batch while streaming a download.
DOWNLOAD_BATCH = 65_536
#: Characters of one text cell a page of rows holds: a 50 MB cell made a 50 MB page (and a 500 MB API process).
#: A longer cell is cut there and listed in the page's `truncated`; downloads keep it whole.
ROW_CELL_CHARS = 10_000
#: Characters the text cells of one row hold together: a row of 16,384 text columns cut at ROW_CELL_CHARS each was
#: 160 M characters. A page of more text columns than this over ROW_CELL_CHARS cuts each at this share of it
#: (never below MIN_CELL_CHARS).
ROW_TEXT_CHARS = 500_000
#: The fewest characters a text cell is cut at, however many text columns a page selects.
MIN_CELL_CHARS = 64
#: Bytes of JSON the rows of one page take at most (the first row is always sent): a page of `limit` wide rows
#: of 10,000-character cells was hundreds of MB. The page stops at the row that would pass it, with `next_offset`.
PAGE_BYTES = 8 << 20
#: Rows taken from DuckDB into Python at once while a page is measured (fewer when its text cells could pass
#: PAGE_BYTES characters together).
FETCH_ROWS = 256
_TEXTUAL = re.compile(r"^(VARCHAR|JSON)$")  # not VARCHAR[] (a list)


class _Result(Protocol):
    def fetchmany(self, size: int = ..., /) -> list[Any]: ...


class _NoRows:
    """The result of a page past the last match."""

    def fetchmany(self, size: int = 1, /) -> list[Any]:
        return []


def cell_chars(texts: int) -> int:
    """The characters each text cell of a page with `texts` text columns is cut at."""
    return max(MIN_CELL_CHARS, min(ROW_CELL_CHARS, ROW_TEXT_CHARS // max(texts, 1)))


def _measured(result: _Result, width: int, row_chars: int) -> tuple[list[tuple[Any, ...]], list[list[Any]], bool]:
    """The rows of a page's result, a batch at a time, up to PAGE_BYTES of JSON (at least one row): the rows as
    fetched, as shown, and whether the page stopped before the result's end. `row_chars` is about the most a
    row's cut cells may hold, which bounds a batch."""
    fetched: list[tuple[Any, ...]] = []
    shown: list[list[Any]] = []
    size, batch_rows = 0, max(1, min(FETCH_ROWS, PAGE_BYTES // max(row_chars, 1)))
    while batch := result.fetchmany(batch_rows):
        for row in batch:
            cells = [json_shown(v) for v in row[:width]]
            size += len(msgspec.json.encode(cells)) + 1
            if fetched and size > PAGE_BYTES:
                return fetched, shown, True
            fetched.append(row)
            shown.append(cells)
    return fetched, shown, False


def _truncated(
    page: list[tuple[Any, ...]], width: int, texts: list[str], nested: dict[str, Cut]
) -> list[dict[str, Any]]:
    """The cells of a page that were cut, in row then column order of the select list: a text cell with its
    whole length in `chars`, another with its whole size in its unit (`items`, `bytes`; a struct cut inside
    has none)."""
    cut: list[dict[str, Any]] = []
    units = [("chars", name) for name in texts] + [(found.unit, name) for name, found in nested.items()]
    for number, row in enumerate(page):
        for (unit, column), size in zip(units, row[width:], strict=True):
            if size is not None:
                cut.append({"row": number, "column": column, **({unit: size} if unit else {})})
    return cut


def _bad(field: str, message: str, code: str = "invalid_parameter") -> InvalidParameter:
    return InvalidParameter(message, code=code, errors=[{"field": field, "message": message}])


class Reader:
    """One version's file, opened for one request."""

    def __init__(
        self, parquet: Path, work_dir: Path, settings: DuckDBSettings, *, sorted_dir: Path | None = None
    ) -> None:
        work_dir.mkdir(parents=True, exist_ok=True)
        self.path = self.source = str(parquet)
        self.settings, self.work_dir, self.sorted_dir = settings, work_dir, sorted_dir
        self.conn = connect(settings, readable=[self.path], writable=[str(work_dir)])
        described = self.conn.execute("DESCRIBE SELECT * FROM read_parquet(?)", [self.path]).fetchall()
        self.types: dict[str, str] = {row[0]: row[1] for row in described}
        scanned = self.conn.sql("SELECT * FROM read_parquet(?)", params=[self.path])
        self.kinds = dict(zip(scanned.columns, scanned.types, strict=True))
        #: The list, struct, map, binary and union columns, whose cells a page cuts (app.domain.cell_cuts).
        self.nested = {name: kind for name, kind in self.kinds.items() if is_nested(kind)}

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Reader:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _columns(self, columns: list[str] | None) -> list[str]:
        chosen = columns or list(self.types)
        unknown = [c for c in chosen if c not in self.types]
        if unknown:
            raise _bad("columns", f"unknown column(s): {', '.join(unknown)}", "unknown_column")
        return chosen

    def _where(self, filters: list[str]) -> tuple[str, list[Any]]:
        clauses, values = [], []
        for raw in filters:
            column, _, rest = raw.partition(":")
            op, _, value = rest.partition(":")
            if column not in self.types:
                raise _bad("filter", f"unknown column {column!r} in filter {raw!r}", "unknown_column")
            if op not in OPERATORS:
                raise _bad("filter", f"unknown operator {op!r}: use one of {', '.join(OPERATORS)}")
            target, template = ident(column), OPERATORS[op]
            if op in TEXT_OPERATORS or _TEXTUAL.match(self.types[column]):
                target = f"CAST({target} AS VARCHAR)"
            elif op not in NO_VALUE:
                self._check_value(raw, column, value)
                template = template.replace("?", f"TRY_CAST(? AS {self.types[column]})")
            if op not in NO_VALUE:
                values.append(value)
            clauses.append(template.replace("{column}", target))
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", values

    def _check_value(self, raw: str, column: str, value: str) -> None:
        """400 unless `value` reads as the column's type as written: the query's TRY_CAST makes any other value
        NULL (no row matches, silently) and rounds a number (`1.5` in an integer column is 2)."""
        kind = self.types[column]
        try:
            cast, exact = self.conn.execute(
                f"SELECT {fetchable(f'TRY_CAST(? AS {kind})', self.kinds[column])}, TRY_CAST(? AS DECIMAL(38, 18))",
                [value, value],
            ).fetchone() or (None, None)
        except duckdb.Error:
            cast, exact = None, None
        rounded = isinstance(cast, int | decimal.Decimal) and not isinstance(cast, bool) and exact not in (None, cast)
        if cast is None or rounded:
            raise _bad("filter", f"{value!r} cannot be read as {our_type(kind)} (column {column!r}), in filter {raw!r}")

    def _order(self, order_by: list[str]) -> str:
        terms = []
        for raw in order_by:
            column, descending = (raw[1:], True) if raw.startswith("-") else (raw, False)
            if column not in self.types:
                raise _bad("order_by", f"unknown column {column!r} in order_by", "unknown_column")
            terms.append(f"{ident(column)} {'DESC' if descending else 'ASC'} NULLS LAST")
        if terms and ROW_NUMBER not in self.types:
            terms.append(ROW_NUMBER)  # ties in file order: pages neither repeat nor skip a row
        return (" ORDER BY " + ", ".join(terms)) if terms else ""

    def _sorted_copy(self, order: str) -> bool:
        """Read from this version's copy in `order` from now on, if it is written (else start writing it)."""
        if self.sorted_dir is None or ROW_NUMBER in self.types or self._row_count() < MIN_ROWS:
            return False
        copy = SORTED.find(self.source, order.removeprefix(" ORDER BY "), self.sorted_dir, self.settings)
        if copy is None:
            return False
        self.conn.close()
        self.conn = connect(self.settings, readable=[self.source, copy], writable=[str(self.work_dir)])
        self.path = copy
        return True

    def _row_count(self) -> int:
        row = self.conn.execute("SELECT sum(num_rows) FROM parquet_file_metadata(?)", [self.path]).fetchone()
        return int(row[0] or 0) if row else 0

    def rows(
        self, *, offset: int, limit: int, columns: list[str] | None, order_by: list[str], filters: list[str]
    ) -> dict[str, Any]:
        """{"columns": [{name, type}], "rows": [[...]], "total": n, "truncated": [...], "next_offset": n | None} for
        one page, of at most `limit` rows and PAGE_BYTES of them encoded."""
        chosen = self._columns(columns)
        where, values = self._where(filters)
        select, texts, cut, nested = self._select(chosen)
        order = self._order(order_by)
        if order and self._sorted_copy(order):
            order = ""  # the copy's rows are in this order already
        ties = order and ROW_NUMBER not in self.types  # the ORDER BY ends with the virtual row number
        scan = f"read_parquet(?{f', {ROW_NUMBER} = true' if ties else ''})"
        try:
            if offset and not order and ROW_NUMBER not in self.types:
                result = self._deep_page(select, where, values, offset, limit)
            else:
                result = self.conn.execute(
                    f"SELECT {select} FROM {scan}{where}{order} LIMIT ? OFFSET ?", [self.path, *values, limit, offset]
                )
            row_size = len(texts) * cut + len(nested) * nested_budget(len(nested))
            page, shown, stopped = _measured(result, len(chosen), row_size)
            total = self._total(where, values, offset, limit, limit if stopped else len(page))
        except duckdb.ConversionException as exc:
            raise _bad("filter", f"a filter value does not fit its column: {exc}") from None
        except (duckdb.IOException, duckdb.PermissionException):  # a missing file reads as a refused glob
            if self.path == self.source:
                raise
            # The copy was evicted between finding it and reading it: this page sorts the version itself.
            self.conn.close()
            self.conn = connect(self.settings, readable=[self.source], writable=[str(self.work_dir)])
            self.path = self.source
            return self.rows(offset=offset, limit=limit, columns=columns, order_by=order_by, filters=filters)
        width, after = len(chosen), offset + len(page)
        return {
            "columns": [{"name": c, "type": our_type(self.types[c])} for c in chosen],
            "rows": shown,
            "total": total,
            "next_offset": after if after < total else None,
            "cell_chars": cut,
            "truncated": _truncated(page, width, texts, nested),
        }

    def _select(self, chosen: list[str]) -> tuple[str, list[str], int, dict[str, Cut]]:
        """The page's select list: each chosen column, a text, list, struct, map or binary one cut in the query (a
        long value never reaches Python whole), then, per text column, the whole length of a cell that was cut
        (else NULL), then per other cut column the whole size of a cell that was cut; the text columns; the
        characters a text cell is cut at (`cell_chars`); the other cut columns."""
        texts = [name for name in chosen if _TEXTUAL.match(self.types[name])]
        others = [name for name in chosen if name in self.nested and name not in texts]
        budget = nested_budget(len(others))
        nested = {name: cut_cell(name, self.nested[name], budget) for name in others}
        cut = cell_chars(len(texts))
        cells, lengths = [], []
        for name in chosen:
            column = ident(name)
            if name in nested:
                cells.append(nested[name].shown)  # unnamed, as a text cell's cut
            elif name in texts:
                cells.append(f"left({column}, {cut})")  # unnamed: ORDER BY still sorts the whole value
                lengths.append(f"CASE WHEN length({column}) > {cut} THEN length({column}) END")
            else:
                cells.append(fetchable(column, self.kinds[name]))
        return ", ".join(cells + lengths + [c.size for c in nested.values()]), texts, cut, nested

    def _deep_page(self, select: str, where: str, values: list[Any], offset: int, limit: int) -> _Result:
        """An unsorted page past the first: skipping `offset` matches reads only the filtered columns (the file's
        row numbers of the page's rows), then only the page's stretch of the file is read in full. The rows and
        their order are those of the one-query form: the page is the matches between its first and last row
        number, in file order."""
        scan = f"read_parquet(?, {ROW_NUMBER} = true)"
        found = self.conn.execute(
            f"SELECT min({ROW_NUMBER}), max({ROW_NUMBER}) FROM "
            f"(SELECT {ROW_NUMBER} FROM {scan}{where} LIMIT ? OFFSET ?)",
            [self.path, *values, limit, offset],
        ).fetchone()
        if not found or found[0] is None:
            return _NoRows()
        bounds = f"{ROW_NUMBER} BETWEEN ? AND ?"
        where = f"{where} AND {bounds}" if where else f" WHERE {bounds}"
        return self.conn.execute(
            f"SELECT {select} FROM {scan}{where} ORDER BY {ROW_NUMBER}", [self.path, *values, found[0], found[1]]
        )

    def _total(self, where: str, values: list[Any], offset: int, limit: int, found: int) -> int:
        """The count of rows matching the filters: a short page that is not past the end is the end (no count);
        otherwise the remembered count of this version and filter, or one scan that is then remembered."""
        if found < limit and (found or not offset):
            return offset + found

        def count() -> int:
            row = self.conn.execute(f"SELECT count(*) FROM read_parquet(?){where}", [self.path, *values]).fetchone()
            return int(row[0]) if row else 0

        return TOTALS.total(TOTALS.key(self.source, where, values), count)

    def stream(self, fmt: str) -> Iterator[bytes]:
        """The whole version as CSV (with a header) or NDJSON, a batch at a time (the query starts at once, so
        a failure is raised here, before any byte is sent)."""
        reader = self.conn.sql("SELECT * FROM read_parquet(?)", params=[self.path]).to_arrow_reader(DOWNLOAD_BATCH)
        return self._encode(reader, fmt)

    def _encode(self, reader: pa.RecordBatchReader, fmt: str) -> Iterator[bytes]:
        first = True
        for batch in reader:
            if fmt == "csv":
                buffer = io.BytesIO()
                table = pa.Table.from_batches([defused(batch)]).rename_columns(
                    [defused_text(n) for n in batch.schema.names]
                )
                pa_csv.write_csv(table, buffer, pa_csv.WriteOptions(include_header=first))
                first = False
                yield buffer.getvalue()
            else:
                names = batch.schema.names
                lines = [
                    msgspec.json.encode(dict(zip(names, (json_safe(v) for v in row), strict=True)))
                    for row in zip(*(column.to_pylist() for column in batch.columns), strict=True)
                ]
                yield b"\n".join(lines) + b"\n"
        if first and fmt == "csv":  # no rows: still the header
            yield ",".join('"' + defused_text(name).replace('"', '""') + '"' for name in self.types).encode() + b"\n"
