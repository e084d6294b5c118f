"""Preview a file with a configuration: format, sheets, header, typed columns, first rows, warnings, effective config.

It reads only the head of the file (a bounded byte prefix of text, the first records of JSON), so it answers
quickly whatever the size. An xlsx/xlsm sheet is cut after the rows a preview needs before calamine loads it
(app/ingest/xlsx_head.py); other workbooks load the sheet, and only its first rows are converted.
"""

from __future__ import annotations

import os
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import duckdb
import msgspec

from app.ingest import csv_reader, excel_reader, json_numbers, json_reader
from app.ingest.columns import as_columns, effective, json_safe, mixed_text_warnings
from app.ingest.config import DuckDBSettings, ImportConfig, ImportLimits, parse_range
from app.ingest.duck import connect, duckdb_reason
from app.ingest.errors import ImportFailed, LimitExceeded
from app.ingest.header_rows import MAX_HEADER_ROWS
from app.ingest.models import Preview, SheetInfo
from app.ingest.preview_columns import first_columns, first_line_fields
from app.ingest.sniff import Sniffed, sniff
from app.ingest.suggest import csv_title_rows, excel_suggestions, suggested_config, text_suggestions
from app.ingest.textio import CR_CHECK_BYTES, as_lf, lone_cr_line_ends, read_text_prefix
from app.ingest.xlsx_head import preview_copy, sheet_head
from app.ingest.xlsx_strings import shared_strings_member

#: Bytes of a text file a preview reads at most.
PREVIEW_BYTES = 4 * 1024 * 1024
#: Characters of one cell a preview shows: a 50 MB cell made a 52 MB preview response (610 MB peak in the API).
PREVIEW_CELL_CHARS = 10_000
#: Fields the first line of a text file may split into before a preview refuses it: DuckDB's sniffer took a
#: 4 MB line of `x,x,x,…` (two million columns) past the request's memory limit, and the API 470 MB up.
MAX_PREVIEW_FIELDS = 20_000
#: Rows DuckDB may report as problems in a preview, shown as warnings.
PREVIEW_PROBLEMS = 20
#: A preview's DuckDB connection: small, as it reads at most a few MB.
PREVIEW_DUCKDB = DuckDBSettings(memory_limit="256MB", threads=1)


def preview(
    path: str | os.PathLike[str],
    filename: str,
    config: ImportConfig,
    limits: ImportLimits,
    *,
    rows: int = 100,
    duckdb_settings: DuckDBSettings = PREVIEW_DUCKDB,
    work_dir: str | os.PathLike[str] | None = None,
    head_cache: str | os.PathLike[str] | None = None,
) -> Preview:
    """What importing `path` with `config` would give, from the file's head; raises the same errors as an import."""
    config.validate()
    warnings: list[str] = []
    if rows > limits.max_preview_rows:
        warnings.append(f"showing {limits.max_preview_rows} rows, the max_preview_rows limit")
        rows = limits.max_preview_rows
    sniffed = sniff(path, filename, config, limits)
    warnings += sniffed.warnings
    with tempfile.TemporaryDirectory(prefix="ingest-preview-", dir=work_dir) as work:
        if sniffed.format == "excel":
            cache = Path(head_cache) if head_cache is not None else None
            result = _excel(str(path), sniffed, config, limits, max(rows, 0), Path(work), cache=cache)
        elif sniffed.format == "csv":
            result = _csv(str(path), sniffed, config, limits, max(rows, 0), duckdb_settings, Path(work))
        else:
            result = _json(str(path), sniffed, config, limits, max(rows, 0), duckdb_settings, Path(work))
    result.warnings[:0] = warnings
    cut = _cut_long_cells(result.rows)
    if cut:
        result.warnings.append(
            f"{cut} cell(s) longer than {PREVIEW_CELL_CHARS} characters are cut short here "
            "(the import keeps them whole)"
        )
    return result


def _cut_long_cells(rows: list[list[Any]]) -> int:
    """Cut text cells past PREVIEW_CELL_CHARS (in place); returns how many were cut."""
    cut = 0
    for row in rows:
        for index, value in enumerate(row):
            if isinstance(value, str) and len(value) > PREVIEW_CELL_CHARS:
                row[index] = value[:PREVIEW_CELL_CHARS] + "…"
                cut += 1
    return cut


def _excel(
    path: str,
    sniffed: Sniffed,
    config: ImportConfig,
    limits: ImportLimits,
    rows: int,
    work: Path,
    *,
    cut: bool = True,
    cache: Path | None = None,
) -> Preview:
    sheets = _sheet_list(path, sniffed.kind, limits, cache if cut else None, work)
    index, name = excel_reader.choose_sheet([s.name for s in sheets], config, sheets)
    cut_copy = _excel_head(path, sniffed.kind, index, config, rows, work, cache) if cut else None
    capped = None if cut else _capped(path, sniffed.kind, index, work / "capped.xlsx")
    source = str(cut_copy or capped or path)
    workbook = excel_reader.open_workbook(source)
    with workbook:
        try:
            sheet = excel_reader.load_sheet(source, sniffed.kind, workbook, index, limits)
        except ImportFailed:
            if not cut_copy:
                raise
            sheet = None  # empty where it was cut: the data starts further down
        if cut_copy and (sheet is None or not _head_suffices(sheet, config, rows)):
            return _excel(path, sniffed, config, limits, rows, work, cut=False)
        plan = excel_reader.detect(sheet, index, config)
        problems: list[dict[str, Any]] = []
        head = msgspec.structs.replace(plan, limit=min(plan.limit or rows, rows))
        values: list[list[Any]] = []
        if rows:
            for batch in excel_reader.batches(sheet, head, config, problems.extend, batch_rows=rows):
                values += [[json_safe(v) for v in row.values()] for row in batch.to_pylist()]
        whole = cut_copy is None or _all_rows(sheet, sheets[index])
        suggestions = excel_suggestions(sheet, plan, config, sheets, whole=whole)
    warnings = plan.warnings + [_problem_text(p) for p in problems[:PREVIEW_PROBLEMS]]
    return Preview(
        format="excel",
        detected=sniffed.kind,
        encoding=None,
        sheets=sheets,
        header_row=plan.header_row,
        columns=as_columns(plan.columns),
        rows=values[:rows],
        warnings=warnings,
        config=effective(config, plan.columns, format="excel", sheet=name, **excel_reader.excel_header(plan)),
        suggestions=suggestions,
        suggested_config=suggested_config(config, suggestions),
    )


def _all_rows(sheet: Any, original: SheetInfo) -> bool:
    """Whether a preview copy of the sheet kept every row of the original (it was only edited, not cut)."""
    return original.rows is not None and sheet.start is not None and sheet.start[0] + sheet.height >= original.rows


#: Rows kept past what a sheet starting on its first row needs: a few empty rows on top still fit.
HEAD_SPARE_ROWS = 50
#: The rows a cut copy keeps are rounded up to this, so nearby configurations share one cached copy.
HEAD_ROW_BLOCK = 1000


def _last_row_needed(config: ImportConfig, rows: int, top: int) -> int:
    """The last sheet row a preview reads when the data starts on row `top`: the type sample and the rows shown."""
    header = config.header_row or top
    depth = config.header_rows or MAX_HEADER_ROWS  # room for a header found to span rows
    return max(top + excel_reader.SAMPLE_ROWS + config.skip_rows + 2, header + depth + config.skip_rows + rows)


def _top(config: ImportConfig, sheet_top: int) -> int:
    return parse_range(config.range).first_row if config.range else sheet_top


def _excel_head(
    path: str, kind: str, index: int, config: ImportConfig, rows: int, work: Path, cache: Path | None = None
) -> Path | None:
    """A workbook cut after the rows a preview needs (xlsx/xlsm only), or None to read the sheet whole.

    With `cache` (the upload's own folder, removed with it), the cut copy is kept there and reused by
    the next preview that needs no more rows: cutting streams the whole sheet XML (seconds for a
    million rows), and the preview form asks again on every configuration change.
    """
    if kind not in ("xlsx", "xlsm"):
        return None
    last_row = _head_last_row(config, rows)
    kept = _cached_head(path, index, last_row, cache)
    if kept is not None and kept.is_file():
        return kept
    members = excel_reader.xlsx_sheet_members(path)
    member = members[index] if index < len(members) else None
    if member is None:
        return None
    if kept is not None:
        partial = kept.with_name(f".{kept.name}.{os.getpid()}.part")
        try:
            made = sheet_head(path, member, last_row, partial)
            if made is not None:
                os.replace(partial, kept)  # atomic: a concurrent preview sees the whole file or none
                return kept
        except OSError:
            pass  # an unwritable cache: cut into the work folder as without one
        finally:
            partial.unlink(missing_ok=True)
    return sheet_head(path, member, last_row, work / "head.xlsx")


def _cached_head(path: str, index: int, last_row: int, cache: Path | None) -> Path | None:
    """Where the cut copy of sheet `index` up to `last_row` is kept; its name holds the source's size and mtime."""
    if cache is None:
        return None
    try:
        source = os.stat(path)
    except OSError:
        return None
    return cache / f"preview-head-{index}-{last_row}-{source.st_size}-{source.st_mtime_ns}.xlsx"


def _capped(path: str, kind: str, index: int, dest: Path) -> Path | None:
    """The xlsx/xlsm workbook with the long texts of sheet `index` and of its shared strings cut short and its
    error cells as text, or None when it has neither: read whole, one 50 MB cell was held several times over."""
    if kind not in ("xlsx", "xlsm"):
        return None
    members = excel_reader.xlsx_sheet_members(path)
    return preview_copy(path, members[index] if index < len(members) else None, _strings_member(path), dest)


def _strings_member(path: str) -> str | None:
    try:
        with zipfile.ZipFile(path) as archive:
            return shared_strings_member(archive)
    except (KeyError, OSError, zipfile.BadZipFile):
        return None


def _sheet_list(path: str, kind: str, limits: ImportLimits, cache: Path | None, work: Path) -> list[SheetInfo]:
    """The workbook's sheets, remembered in `cache` beside the cut copies: opening a big workbook reads all
    its shared strings (seconds), which a preview of a cut copy otherwise never needs. A table with a
    huge string is opened from a copy whose strings are cut short (app.ingest.xml_text_cap)."""
    kept = None
    if cache is not None and kind in ("xlsx", "xlsm"):
        try:
            source = os.stat(path)
            kept = cache / f"preview-sheets-{limits.max_workbook_cells}-{source.st_size}-{source.st_mtime_ns}.json"
            if kept.is_file():
                return msgspec.json.decode(kept.read_bytes(), type=list[SheetInfo])
        except (OSError, msgspec.DecodeError):
            kept = None
    xlsx = kind in ("xlsx", "xlsm")
    strings = preview_copy(path, None, _strings_member(path), work / "strings.xlsx") if xlsx else None
    workbook = excel_reader.open_workbook(str(strings or path))
    with workbook:
        sheets = excel_reader.sheet_infos(path, kind, workbook, limits)
    if kept is not None:
        partial = kept.with_name(f".{kept.name}.{os.getpid()}.part")
        try:
            partial.write_bytes(msgspec.json.encode(sheets))
            os.replace(partial, kept)
        except OSError:
            partial.unlink(missing_ok=True)
    return sheets


def _head_last_row(config: ImportConfig, rows: int) -> int:
    """Rounded up to a whole HEAD_ROW_BLOCK, so small changes (skip rows, a header row) reuse one cached cut."""
    needed = _last_row_needed(config, rows, _top(config, 1)) + HEAD_SPARE_ROWS
    return -(-needed // HEAD_ROW_BLOCK) * HEAD_ROW_BLOCK


def _head_suffices(sheet: Any, config: ImportConfig, rows: int) -> bool:
    """Whether the cut sheet holds every row the preview reads (data may start further down than assumed)."""
    if sheet.start is None:
        return False
    return _last_row_needed(config, rows, _top(config, sheet.start[0] + 1)) <= _head_last_row(config, rows)


def _csv(
    path: str,
    sniffed: Sniffed,
    config: ImportConfig,
    limits: ImportLimits,
    rows: int,
    settings: DuckDBSettings,
    work: Path,
) -> Preview:
    encoding = sniffed.encoding or "utf-8"
    text, complete, replaced = read_text_prefix(path, encoding, PREVIEW_BYTES)
    if lone_cr_line_ends(text[:CR_CHECK_BYTES]):
        text = as_lf(text)  # as the import reads it
    _check_first_line(text, complete, config)
    text, narrowed = first_columns(text, config)
    warnings = [f"{replaced} byte sequence(s) are not valid {encoding}"] if replaced else []
    warnings += [narrowed] if narrowed else []
    head = work / "head.csv"
    head.write_text(text, encoding="utf-8")
    conn = connect(settings, readable=[str(head)], writable=[str(work)])
    try:
        try:
            plan = csv_reader.detect(conn, str(head), "utf-8", config, limits)
            values = conn.execute(csv_reader.select_sql(plan, config, limits, limit=rows)).fetchall() if rows else []
        except duckdb.Error as exc:
            raise csv_reader.read_error(exc, limits) from exc
        _, problems = csv_reader.rejects(conn)
    finally:
        conn.close()
    if not complete:
        problems = [p for p in problems if "Maximum line size" not in p["message"]]
    warnings += plan.warnings + [_problem_text(p) for p in problems[:PREVIEW_PROBLEMS]]
    warnings += mixed_text_warnings(plan.columns, values, config)
    suggestions = text_suggestions(plan.columns, values, config)
    title = csv_title_rows(text, config) if config.header_row is None and not config.skip_rows else None
    if title is not None:  # the columns and types above are the title block's: only the header row is worth saying
        suggestions = [title]
    return Preview(
        format="csv",
        detected=sniffed.kind,
        encoding=encoding,
        sheets=[],
        header_row=plan.header_row,
        columns=as_columns(c for c in plan.columns if not c.source.startswith("__outside_")),
        rows=[[json_safe(v) for v in row] for row in values],
        warnings=warnings,
        config=effective(
            config,
            plan.columns,
            format="csv",
            encoding=encoding,
            delimiter=plan.delimiter,
            quote=plan.quote,
            escape=plan.escape,
            header_row=plan.header_row,
        ),
        suggestions=suggestions,
        suggested_config=suggested_config(config, suggestions),
    )


def _check_first_line(text: str, complete: bool, config: ImportConfig) -> None:
    """Refuse a text head that is one endless line, or whose first line splits into more fields than any table has."""
    if not complete and "\n" not in text and "\r" not in text:
        raise LimitExceeded(
            f"no line break in the first {PREVIEW_BYTES // 1024 // 1024} MB: this is not a table of lines "
            "(check the file, or its encoding)"
        )
    fields, _ = first_line_fields(text, config)
    if fields > MAX_PREVIEW_FIELDS:
        raise LimitExceeded(
            f"the first line splits into {fields} fields, over {MAX_PREVIEW_FIELDS}: check the delimiter, "
            "or split the file"
        )


def _json(
    path: str,
    sniffed: Sniffed,
    config: ImportConfig,
    limits: ImportLimits,
    rows: int,
    settings: DuckDBSettings,
    work: Path,
) -> Preview:
    encoding = sniffed.encoding or "utf-8"
    mode, prefix, warnings = json_reader.json_mode(path, sniffed.kind, config, encoding)
    records = work / "head.ndjson"
    extracted = json_reader.extract_records(
        path, str(records), None if mode == "ndjson" else prefix, encoding=encoding, limit=max(rows, 50)
    )
    warnings += extracted.warnings()
    conn = connect(settings, readable=[str(records)], writable=[str(work)])
    try:
        wide = json_numbers.scan(str(records)).wide_integers
        try:
            source, leaves = json_reader.records(
                conn, str(records), "ndjson", limits, config.flatten_separator, wide_integers=wide
            )
            planned, exprs, name_warnings = json_reader.plan(leaves, config)
            inferred = {name: leaf.type for name, leaf in zip(exprs, leaves, strict=True)}
            parts, _ = json_reader.select_parts(planned, exprs, inferred, safe=True)
            values = conn.execute(f"SELECT {', '.join(parts)} FROM {source} LIMIT {rows}").fetchall()
        except duckdb.Error as exc:
            raise ImportFailed(f"could not read the JSON records: {duckdb_reason(exc)}") from exc
    finally:
        conn.close()
    record_path = prefix[: -len(".item")] if mode == "path" and prefix else None
    return Preview(
        format="ndjson" if mode == "ndjson" else "json",
        detected=sniffed.kind,
        encoding=encoding,
        sheets=[],
        header_row=0,
        columns=as_columns(planned),
        rows=[[json_safe(v) for v in row] for row in values],
        warnings=warnings + name_warnings,
        config=effective(
            config,
            planned,
            format="ndjson" if mode == "ndjson" else "json",
            encoding=encoding,
            record_path=record_path,
        ),
    )


def _problem_text(found: dict[str, Any]) -> str:
    """A row problem as a one-line warning."""
    where = f"row {found['row']}" + (f", column {found['column']}" if found.get("column") else "")
    return f"{where}: {found['message']}"


__all__ = ["Preview", "SheetInfo", "preview"]
