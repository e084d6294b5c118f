"""Preview a file with a configuration: format, sheets, header, typed columns, first rows, warnings, effective config.

It reads only the head of the file (a bounded byte prefix of text, the first records of JSON within a byte bound),
so it answers quickly whatever the size. An xlsx/xlsm sheet is cut after the rows a preview needs before calamine
loads it (app/ingest/xlsx_head.py); other workbooks load the sheet, and only its first rows are converted.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import duckdb
import msgspec

from app.ingest import (
    codes,
    csv_head,
    csv_limit,
    csv_problems,
    csv_range,
    csv_reader,
    csv_select,
    csv_shown,
    excel_reader,
    json_numbers,
    json_reader,
    json_select,
    json_times,
    retyped,
    sheet_range,
    subtotals,
)
from app.ingest.biff_padded import workbook_padded_cells
from app.ingest.columns import as_columns, effective, json_shown, mixed_text_warnings
from app.ingest.config import DuckDBSettings, ImportConfig, ImportLimits
from app.ingest.csv_footer import footer_offset, footer_start, footer_warning, tail_text
from app.ingest.date_system import date_origin
from app.ingest.duck import connect
from app.ingest.errors import ImportFailed, LimitExceeded
from app.ingest.json_budget import ReadBudget, record_limit
from app.ingest.models import Preview, SheetInfo, Suggestion
from app.ingest.notices import note
from app.ingest.notices.file import CellsCut, InvalidBytes, PreviewRows, RowProblem
from app.ingest.ods_range import OdsLiterals
from app.ingest.preview_columns import check_field_count, first_columns
from app.ingest.preview_workbook import (
    all_rows,
    capped_copy,
    check_preview_cells,
    excel_head,
    head_suffices,
    preview_limits,
    sheet_list,
)
from app.ingest.sheet_errors import with_error_texts
from app.ingest.sheet_nonfinite import nonfinite_cells
from app.ingest.sniff import Sniffed, sniff
from app.ingest.suggest import csv_footer, csv_title_block, excel_suggestions, suggested_config, text_suggestions
from app.ingest.textio import (
    CR_CHECK_BYTES,
    MIXED,
    as_lf,
    line_ends_warning,
    mixes_crlf_and_lf,
    odd_line_ends,
)
from app.ingest.unit_header import unit_clash_warnings
from app.ingest.xlsx_errors import error_text_copy
from app.ingest.xlsx_padded import PREVIEW_SCAN_BYTES

#: Bytes of a text file a preview reads at most.
PREVIEW_BYTES = 4 * 1024 * 1024
#: Characters of one cell a preview shows: a 50 MB cell made a 52 MB preview response (610 MB peak in the API).
PREVIEW_CELL_CHARS = 10_000
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
    capped = rows > limits.max_preview_rows  # said only when the file had more rows to show
    rows = min(rows, limits.max_preview_rows)
    sniffed = sniff(path, filename, config, limits)
    warnings = list(sniffed.warnings)
    with tempfile.TemporaryDirectory(prefix="ingest-preview-", dir=work_dir) as work:
        if sniffed.format == "excel":
            cache = Path(head_cache) if head_cache is not None else None
            result = _excel(str(path), sniffed, config, limits, max(rows, 0), Path(work), cache=cache)
        elif sniffed.format == "csv":
            result = _csv(str(path), sniffed, config, limits, max(rows, 0), duckdb_settings, Path(work))
        else:
            result = _json(str(path), sniffed, config, limits, max(rows, 0), duckdb_settings, Path(work))
    if capped and len(result.rows) >= rows:
        warnings.insert(0, note(PreviewRows(rows=rows)))
    result.warnings[:0] = warnings
    cut = _cut_long_cells(result.rows)
    if cut:
        result.warnings.append(note(CellsCut(count=cut, chars=PREVIEW_CELL_CHARS)))
    return result.settle()


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
    sheets = sheet_list(path, sniffed.kind, limits, cache if cut else None, work)
    index, name = excel_reader.choose_sheet([s.name for s in sheets], config, sheets)
    check_preview_cells(sheets[index], sniffed.kind, config, rows)
    loading = preview_limits(limits, sniffed.kind)  # for a sheet whose size is known only once cut or loaded
    cut_copy = excel_head(path, sniffed.kind, index, config, rows, work, cache) if cut else None
    capped = None if cut else capped_copy(path, sniffed.kind, index, work / "capped.xlsx")
    ods_literals = OdsLiterals(PREVIEW_SCAN_BYTES)  # whether content.xml holds 1e400, 1e-400, in the same pass
    ods_errors = (
        error_text_copy(path, sniffed.kind, index, work / "errors", also=ods_literals)[0]
        if sniffed.kind == "ods"
        else None
    )
    source = str(cut_copy or capped or ods_errors or path)
    workbook = excel_reader.open_workbook(source, loading)
    with workbook:
        try:
            sheet = excel_reader.load_sheet(source, sniffed.kind, workbook, index, loading)
            sheet = with_error_texts(sheet, source, sniffed.kind, index)[0]
        except ImportFailed:
            if not cut_copy:
                raise
            sheet = None  # empty where it was cut: the data starts further down
        if cut_copy and (sheet is None or not head_suffices(sheet, config, rows)):
            return _excel(path, sniffed, config, limits, rows, work, cut=False)
        # The original sheet's (not the cut copy's), as the import does, within a bound: the API's work is bounded.
        padded = workbook_padded_cells(path, sniffed.kind, index, max_bytes=PREVIEW_SCAN_BYTES)
        plan = excel_reader.detect(sheet, index, config, padded)
        seen = ods_literals.seen if sniffed.kind == "ods" else None
        beyond = sheet_range.scanned(path, sniffed.kind, index, PREVIEW_SCAN_BYTES, seen=seen)  # as the import
        beyond.update(nonfinite_cells(sheet, plan, path, sniffed.kind, index))  # xls/xlsb ±inf, NaN: as the import
        literals = None
        if found := sheet_range.by_column(plan, beyond):
            if config.on_error == "strict":
                raise sheet_range.refused(plan, found)
            plan, kept = sheet_range.as_text(plan, found)
            plan.warnings.extend(kept)
            literals = sheet_range.Literals(beyond)
        problems: list[dict[str, Any]] = []
        head = msgspec.structs.replace(plan, limit=min(plan.limit or rows, rows))
        values: list[list[Any]] = []
        if rows:
            origin = date_origin(path, sniffed.kind)
            for batch in excel_reader.batches(
                sheet,
                head,
                config,
                problems.extend,
                batch_rows=rows,
                origin=origin,
                padded=padded,
                literals=literals,
                notices=plan.warnings,  # times with a UTC offset: as the import says
            ):
                values += [[json_shown(v) for v in row.values()] for row in batch.to_pylist()]
        whole = cut_copy is None or all_rows(sheet, sheets[index])
        suggestions = excel_suggestions(sheet, plan, config, sheets, whole=whole)
    warnings = plan.warnings + [_problem_text(p) for p in problems[:PREVIEW_PROBLEMS]]
    warnings += subtotals.shown(plan.columns, values) + unit_clash_warnings(plan.columns, values)
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
    text, complete, replaced, _ = csv_head.read_head(path, encoding, config, limits, PREVIEW_BYTES)
    line_ends = odd_line_ends(text[:CR_CHECK_BYTES])
    if line_ends is None and mixes_crlf_and_lf(text):  # past the head: DuckDB's sniffer would give up on it
        line_ends = MIXED
    if line_ends:
        text = as_lf(text, line_ends)  # as the import reads it
    warnings = [line_ends_warning(line_ends)] if line_ends else []
    tail = text if complete else tail_text(path, encoding)[0]
    if config.skip_footer:  # as the import: the same lines, found the same way
        _, left_out = footer_offset(path, encoding, config.skip_footer)
        warnings.append(footer_warning(left_out))
        text = text[: footer_start(text, config.skip_footer) or len(text)] if complete else text
    _check_first_line(text, complete, config)
    text, narrowed = first_columns(text, config)
    warnings += [note(InvalidBytes(count=replaced, encoding=encoding, replaced=False))] if replaced else []
    warnings += [narrowed] if narrowed else []
    head = work / "head.csv"
    head.write_text(text, encoding="utf-8")
    conn = connect(settings, readable=[str(head)], writable=[str(work)])
    try:
        try:
            plan = csv_reader.detect(conn, str(head), "utf-8", config, limits)
            sampled = complete and _data_lines(text, plan.skip) <= csv_reader.SAMPLE_ROWS  # what the import reads
            if plan.limit:  # as the import: nothing past the limit (or a range's last row) is read
                plan, short = csv_limit.first_rows(plan, plan.limit, work / "head.rows.csv")
                sampled = sampled or (plan.limit <= csv_reader.SAMPLE_ROWS and (complete or not short))
            plan, values = csv_shown.shown(conn, plan, config, limits, rows, work)  # its bad rows listed below
            if suspects := csv_range.shown_suspects(plan, values, text):  # 1e400 read as infinity, 1e-400 as 0
                table, _, _ = csv_select.retyped_cells(plan, config, limits)
                if found := csv_problems.record_rows(conn, plan, csv_range.first_out_of_range(conn, table, suspects)):
                    if config.on_error == "strict":
                        raise csv_range.refused(plan, found)
                    plan, kept = csv_range.as_text(plan, found)
                    warnings += kept
                    csv_problems.clear_rejects(conn)  # read again, to its end: its rejects replace the first's
                    values = conn.execute(csv_select.select_sql(plan, config, limits, safe=True)).fetchall()
            said = csv_select.rejected_cells(plan, config, limits, converted=rows > 0)
            _, problems = csv_problems.rejects(conn, said)
        except duckdb.Error as exc:
            raise csv_problems.read_error(exc, limits) from exc
    finally:
        conn.close()
    if not complete:
        problems = [p for p in problems if "Maximum line size" not in p["message"]]
    warnings += plan.warnings + [_problem_text(p) for p in problems[:PREVIEW_PROBLEMS]]
    if plan.codes and not sampled:  # the import reads rows past the sampled ones: it decides the codes there
        coded = [p for p in plan.columns if p.include and p.source in plan.codes]
        warnings += [codes.decided_at_import_warning(p.name, p.type, config.on_error) for p in coded]
    warnings += mixed_text_warnings(plan.columns, values, config) + subtotals.shown(plan.columns, values)
    warnings += unit_clash_warnings(plan.columns, values)
    suggestions = text_suggestions(plan.columns, values, config, plan.delimiter)
    block = csv_title_block(text, config) if config.header_row is None and not config.skip_rows else None
    if block is not None:  # the columns and types above are the title block's: only the header row is worth saying
        suggestions = [Suggestion(field="header_row", value=block.start + 1, reason=block.reason)]
    width = block.width if block else sum(1 for c in plan.columns if not c.source.startswith("__outside_"))
    footer = (
        None
        if config.skip_footer or config.range
        else csv_footer(tail, block.delimiter if block else plan.delimiter, plan.quote, width)
    )
    suggestions += [footer] if footer else []
    return Preview(
        format="csv",
        detected=sniffed.kind,
        encoding=encoding,
        sheets=[],
        header_row=plan.header_row,
        columns=as_columns(c for c in plan.columns if not c.source.startswith("__outside_")),
        rows=[[json_shown(v) for v in row] for row in values],
        warnings=warnings,
        config=csv_reader.effective_config(config, plan, encoding),
        suggestions=suggestions,
        suggested_config=suggested_config(config, suggestions),
    )


def _data_lines(text: str, skip: int) -> int:
    """Lines of `text` after the first `skip` (the head is in memory: counted in C)."""
    return text.rstrip("\n").count("\n") + 1 - skip


def _check_first_line(text: str, complete: bool, config: ImportConfig) -> None:
    """Refuse a text head that is one endless line, or whose first line splits into more fields than any table has."""
    if not complete and "\n" not in text and "\r" not in text:
        raise LimitExceeded(
            f"no line break in the first {PREVIEW_BYTES // 1024 // 1024} MB: this is not a table of lines "
            "(check the file, or its encoding)"
        )
    check_field_count(text, config)


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
    mode, prefix, warnings = json_reader.json_mode(
        path, sniffed.kind, config, encoding, record_limit(limits.max_line_bytes)
    )
    records = work / "head.ndjson"
    extracted = json_reader.extract_records(
        path,
        str(records),
        None if mode == "ndjson" else prefix,
        encoding=encoding,
        limit=max(rows, 50),
        budget=ReadBudget(total=PREVIEW_BYTES, record=record_limit(limits.max_line_bytes)),
    )
    warnings += extracted.warnings()
    long_numbers = json_numbers.scan(str(records)).long_numbers
    text_path = str(work / "head.text.ndjson") if long_numbers else None
    if text_path:  # as the import reads them: long decimals' text from a copy with them quoted
        json_numbers.write_non_finite_as_null(str(records), text_path, quote_long=True)
    conn = connect(settings, readable=[str(records), *([text_path] if text_path else [])], writable=[str(work)])
    try:
        try:
            source, leaves, number_warnings = json_reader.records(
                conn,
                str(records),
                "ndjson",
                limits,
                config.flatten_separator,
                long_numbers=long_numbers,
                text_path=text_path,
                lenient=config.on_error == "lenient",
                empty_key=extracted.empty_key,
            )
            warnings += number_warnings
            planned, exprs, name_warnings = json_reader.plan(leaves, config)
            inferred = {name: leaf.type for name, leaf in zip(exprs, leaves, strict=True)}
            zoned = json_times.zoned_sources(conn, source, planned, exprs, inferred)
            warnings += json_times.zoned_warnings(planned, zoned)
            parts, forced = json_select.select_parts(planned, exprs, inferred, safe=True, zoned=zoned, config=config)
            table = f"(SELECT row_number() OVER () AS {retyped.ROW}, * FROM (SELECT * FROM {source} LIMIT {rows}))"
            where = retyped.without_problems_sql(forced)  # as a lenient import: left out, listed (a strict one fails)
            values = conn.execute(f"SELECT {', '.join(parts)} FROM {table}{where}").fetchall()
            said = json_times.zoned_messages(zoned)
            problems = retyped.first_problems(conn, retyped.problems_sql(table, forced, said)) if forced else []
        except duckdb.Error as exc:
            raise json_reader.read_error(exc, limits, "read") from exc
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
        rows=[[json_shown(v) for v in row] for row in values],
        warnings=warnings + name_warnings + [_problem_text(p) for p in problems[:PREVIEW_PROBLEMS]],
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
    return note(RowProblem(row=found["row"], column=found.get("column") or None, problem=found["message"]))


__all__ = ["Preview", "SheetInfo", "preview"]
