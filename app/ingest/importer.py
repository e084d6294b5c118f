"""Import one file into `data.parquet` (and `rejects.parquet` when lenient) in `out_dir`, all or nothing.

Everything is written in a hidden work directory inside `out_dir` and renamed into place only when the import
succeeded, so a failed or cancelled import leaves no data file behind and a previous version is untouched.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import msgspec
import pyarrow as pa
import pyarrow.parquet as pq

from app.ingest import (
    csv_problems,
    csv_reader,
    excel_reader,
    json_numbers,
    json_reader,
    repeated_header,
    retyped,
)
from app.ingest.columns import effective, long_numbers_past_sample
from app.ingest.config import DuckDBSettings, ImportConfig, ImportLimits
from app.ingest.convert import arrow_type
from app.ingest.csv_footer import footer_offset, footer_warning, tail_text
from app.ingest.csv_select import codes_as_text, read_as_null, retyped_cells, select_sql
from app.ingest.data_sink import CopyTarget, DataSink, copy_target, raise_sink_failure
from app.ingest.date_system import is_date1904
from app.ingest.duck import column_stats, connect, literal, run
from app.ingest.errors import MAX_PROBLEMS, ImportCancelled, failed
from app.ingest.json_budget import ReadBudget, record_limit
from app.ingest.models import ImportResult
from app.ingest.notices import note, settled
from app.ingest.notices.file import InvalidBytes, Rejected
from app.ingest.preview_columns import check_field_count
from app.ingest.sheet_errors import errors_warning, with_error_texts
from app.ingest.sniff import Sniffed, sniff
from app.ingest.suggest import csv_footer, kept_footer, totals_row
from app.ingest.textio import (
    CR_CHECK_BYTES,
    duckdb_encoding,
    line_ends_warning,
    odd_line_ends,
    read_text_prefix,
    transcode_to_utf8,
)
from app.ingest.xlsx_errors import error_text_copy
from app.ingest.xlsx_padded import padded_cells
from app.paths import DATA_FILE, REJECTS_FILE

Progress = Callable[[int, int, int], None]
#: How a version's data file is written (CSV and JSON). Parquet 2.x encodings (delta for integers and dates,
#: byte-stream-split for doubles) with zstd at level 1: the 1 GiB bench CSV gives 220 MiB of Parquet instead of
#: 383 MiB (snappy, 1.x encodings) for about the same DuckDB CPU to write and less to read. Every byte of a
#: version is uploaded (and stored, and fetched into caches) on an S3 data root, where the store's CPU per byte
#: dwarfs the encoder's. Readable by DuckDB, pyarrow, polars and Spark 3.
PARQUET_OPTIONS = "FORMAT parquet, PARQUET_VERSION v2, COMPRESSION zstd, COMPRESSION_LEVEL 1"
REJECTS_SCHEMA = pa.schema(
    [("row", pa.int64()), ("column", pa.string()), ("message", pa.string()), ("value", pa.string())]
)


class _Job(msgspec.Struct, kw_only=True):
    """What the format-specific steps share."""

    source: str
    sniffed: Sniffed
    config: ImportConfig
    limits: ImportLimits
    settings: DuckDBSettings
    work: Path
    progress: Progress
    should_stop: Callable[[], bool]
    warnings: list[str]
    sink: DataSink | None = None

    @property
    def data(self) -> str:
        return str(self.work / DATA_FILE)

    @property
    def rejects(self) -> str:
        return str(self.work / REJECTS_FILE)


def import_file(
    source: str | os.PathLike[str],
    *,
    filename: str,
    config: ImportConfig,
    limits: ImportLimits,
    out_dir: str | os.PathLike[str],
    duckdb_settings: DuckDBSettings,
    progress: Progress | None = None,
    should_stop: Callable[[], bool] | None = None,
    data_sink: DataSink | None = None,
) -> ImportResult:
    """Stream `source` into Parquet under `out_dir`; raise a DomainError (and write nothing) on failure.

    `data_sink`: where a CSV's or JSON's data file is also sent as DuckDB writes it (an S3 data root); the
    local file is written all the same. A workbook's is not: the caller uploads it after."""
    config.validate()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    sniffed = sniff(source, filename, config, limits)
    work = Path(tempfile.mkdtemp(prefix=".ingest-", dir=out))
    job = _Job(
        source=os.path.abspath(source),
        sniffed=sniffed,
        config=config,
        limits=limits,
        settings=duckdb_settings,
        work=work,
        progress=progress or (lambda rows, done, total: None),
        should_stop=should_stop or (lambda: False),
        warnings=list(sniffed.warnings),
        sink=data_sink,
    )
    try:
        step = {"excel": _excel, "csv": _csv}.get(sniffed.format, _json)
        rejected, effective = step(job)
        if job.should_stop():
            raise ImportCancelled("import cancelled")
        conn = connect(duckdb_settings, readable=[job.data], writable=[str(work)])
        try:
            rows, stats = column_stats(conn, job.data)
        finally:
            conn.close()
        if sniffed.format == "excel":  # whole numbers that lost digits in the file, past the type sample too
            job.warnings += long_numbers_past_sample(stats, job.warnings)
        has_rejects = os.path.exists(job.rejects)
        if has_rejects:
            os.replace(job.rejects, out / REJECTS_FILE)
        elif (out / REJECTS_FILE).exists():
            (out / REJECTS_FILE).unlink()  # from an earlier import into this directory: no longer true
        os.replace(job.data, out / DATA_FILE)
        job.progress(rows, sniffed.size, sniffed.size)
        warnings, notices = settled(job.warnings)
        return ImportResult(
            rows=rows,
            bytes_read=sniffed.size,
            columns=stats,
            rejected=rejected,
            warnings=warnings,
            notices=notices,
            data_path=str(out / DATA_FILE),
            rejects_path=str(out / REJECTS_FILE) if has_rejects else None,
            config=effective,
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _data_connection(job: _Job, readable: list[str]) -> tuple[duckdb.DuckDBPyConnection, CopyTarget]:
    """The connection a CSV's or JSON's COPY writes the data file through, and that COPY's target: the local file,
    or the sink's URL for it (registered on the connection, the one URL it may write)."""
    data = copy_target(job.sink, job.data)
    conn = connect(job.settings, readable=readable, writable=[str(job.work)], outputs=data.outputs)
    if job.sink is not None:
        try:
            job.sink.register(conn)
        except BaseException:
            conn.close()
            raise
    return conn, data


def _csv(job: _Job) -> tuple[int, ImportConfig]:
    """CSV: (transcode to UTF-8 if DuckDB cannot decode it or its line ends, then) one DuckDB COPY with rejects
    stored."""
    encoding = job.sniffed.encoding or "utf-8"
    path, duck_encoding = job.source, duckdb_encoding(job.source, encoding)
    size = job.sniffed.size
    check_field_count(csv_reader.read_line(job.source, encoding, 1, job.limits.max_line_bytes), job.config)
    line_ends = odd_line_ends(read_text_prefix(job.source, encoding, CR_CHECK_BYTES)[0])
    if line_ends:
        job.warnings.append(line_ends_warning(line_ends))
    end = None
    if job.config.skip_footer:  # DuckDB cannot stop at an offset: a copy cut where the footer starts
        end, left_out = footer_offset(job.source, encoding, job.config.skip_footer)
        job.warnings.append(footer_warning(left_out))
    if duck_encoding is None or line_ends or end is not None:
        path, duck_encoding = str(job.work / "source.utf8.csv"), "utf-8"
        replaced = transcode_to_utf8(
            job.source,
            path,
            encoding,
            lenient=job.config.on_error == "lenient",
            line_ends=line_ends,
            progress=lambda done: job.progress(0, done // 2, size),
            should_stop=job.should_stop,
            end=end,
        )
        if replaced:
            job.warnings.append(note(InvalidBytes(count=replaced, encoding=encoding, replaced=True)))
    conn, data = _data_connection(job, [path])
    try:
        try:
            plan = csv_reader.detect(conn, path, duck_encoding, job.config, job.limits)
        except duckdb.Error as exc:
            raise csv_problems.read_error(exc, job.limits) from exc
        job.warnings += plan.warnings
        if plan.codes and job.config.on_error == "lenient":  # a code that would change: its column read as text
            plan, kept = codes_as_text(conn, plan, job.config, job.limits)
            job.warnings += kept
        select = select_sql(plan, job.config, job.limits)
        copy = f"COPY ({select}) TO {literal(data.target)} ({PARQUET_OPTIONS}{data.options})"
        base = size // 2 if path != job.source else 0
        try:
            run(
                conn,
                copy,
                should_stop=job.should_stop,
                on_progress=lambda pct: job.progress(0, base + int((size - base) * pct / 100), size),
            )
        except duckdb.Error as exc:
            raise_sink_failure(job.sink, exc)
            converting = isinstance(exc, duckdb.ConversionException | duckdb.InvalidInputException)
            if converting and (plan.as_text or plan.codes):  # a text-read value that is no number (or a code): where
                union = retyped.problems_sql(*retyped_cells(plan, job.config, job.limits))
                if bad := retyped.rows_with_problems(conn, union):
                    raise failed(retyped.first_problems(conn, union), bad) from exc
            raise csv_problems.read_error(exc, job.limits) from exc
        job.warnings += read_as_null(conn, plan, job.config, job.limits)
        rejected, problems = csv_problems.rejects(conn, plan.header_line)
        if rejected and job.config.on_error == "strict":
            raise failed(problems, total=rejected)
        if rejected:
            csv_problems.write_rejects(conn, job.rejects, plan.header_line)
            job.warnings.append(note(Rejected(count=rejected, unit="row", file=REJECTS_FILE)))
        job.warnings += _repeated_header(conn, job, plan)
    finally:
        conn.close()
    if not job.config.skip_footer and not job.config.range:  # the footer the preview suggests, read as data
        footer = csv_footer(tail_text(job.source, encoding)[0], plan.delimiter, plan.quote, len(plan.columns))
        job.warnings += [kept_footer(footer)] if footer else []
    config = effective(
        job.config,
        plan.columns,
        format="csv",
        encoding=encoding,
        delimiter=plan.delimiter,
        quote=plan.quote,
        escape=plan.escape,
        header_row=plan.header_row,
    )
    return rejected, config


def _repeated_header(conn: duckdb.DuckDBPyConnection, job: _Job, plan: csv_reader.CsvPlan) -> list[str]:
    """What the import says about header lines repeated past the sample (the sample's are in plan.warnings)."""
    count, lines = csv_problems.repeated_header_lines(conn, plan.header_line)
    written = repeated_header.past_sample(conn, job.data, plan.header, plan.columns, plan.skip, csv_reader.SAMPLE_ROWS)
    rejected = [repeated_header.lines_warning(count, lines, "rejected", REJECTS_FILE)] if count else []
    return rejected + ([written] if written else [])


def _json(job: _Job) -> tuple[int, ImportConfig]:
    """JSON: DuckDB reads arrays and NDJSON directly; records under a path are streamed out with ijson first."""
    encoding = job.sniffed.encoding or "utf-8"
    mode, prefix, warnings = json_reader.json_mode(job.source, job.sniffed.kind, job.config, encoding)
    job.warnings += warnings
    record_path = prefix[: -len(".item")] if mode == "path" and prefix else None
    fmt = "ndjson" if mode == "ndjson" else "json"
    items = None if mode == "ndjson" else prefix  # what ijson reads records at
    path = job.source
    scanned = json_numbers.scan(job.source) if mode != "path" and encoding == "utf-8" else None
    if scanned is not None and scanned.non_finite:  # DuckDB would read them as IEEE NaN and inf: a copy has null
        path = str(job.work / "records.json")
        rewritten = json_numbers.write_non_finite_as_null(job.source, path, should_stop=job.should_stop)
        job.warnings += json_numbers.non_finite_warnings(rewritten.count, rewritten.first_line)
    elif scanned is None:
        path = str(job.work / "records.ndjson")
        size = job.sniffed.size
        extracted = json_reader.extract_records(
            job.source,
            path,
            items,
            encoding=encoding,
            limit=job.config.limit,
            budget=ReadBudget(total=sys.maxsize, record=record_limit(job.limits.max_line_bytes)),  # as a preview
            should_stop=job.should_stop,
            progress=lambda count, done: job.progress(count, done // 2, size),
        )
        job.warnings += extracted.warnings()
        mode = "ndjson"
        scanned = json_numbers.scan(path)
    text_path = None
    if scanned.long_numbers:  # their text is read from a copy with the long decimals quoted
        text_path = str(job.work / "records.text.json")
        json_numbers.write_non_finite_as_null(path, text_path, should_stop=job.should_stop, quote_long=True)
    conn, data = _data_connection(job, [path, *([text_path] if text_path else [])])
    try:
        try:
            source, leaves, number_warnings = json_reader.records(
                conn,
                path,
                mode,
                job.limits,
                job.config.flatten_separator,
                long_numbers=scanned.long_numbers,
                text_path=text_path,
            )
            job.warnings += number_warnings
            planned, exprs, name_warnings = json_reader.plan(leaves, job.config)
            job.warnings += name_warnings
            inferred = {name: leaf.type for name, leaf in zip(exprs, leaves, strict=True)}
            lenient = job.config.on_error == "lenient"
            parts, forced = json_reader.select_parts(planned, exprs, inferred, safe=lenient)
            table = f"(SELECT row_number() OVER () AS {retyped.ROW}, * FROM {source})"
            rejected = _json_rejects(conn, job, table, forced) if forced else 0
            where = ""
            if forced and lenient:
                where = (
                    " WHERE NOT ("
                    + " OR ".join(f"({raw} IS NOT NULL AND {safe} IS NULL)" for _, raw, safe in forced)
                    + ")"
                )
            limit = f" LIMIT {job.config.limit}" if job.config.limit else ""
            query = f"SELECT {', '.join(parts)} FROM {table}{where}{limit}"
            copy = f"COPY ({query}) TO {literal(data.target)} ({PARQUET_OPTIONS}{data.options})"
            run(conn, copy, should_stop=job.should_stop)
        except duckdb.Error as exc:
            raise_sink_failure(job.sink, exc)
            if json_reader.DUCKDB_DUPLICATE_KEY in str(exc):  # ijson finds the record and key, as the preview does
                json_reader.extract_records(job.source, os.devnull, items, encoding=encoding)
            raise json_reader.read_error(exc, job.limits, "import") from exc
    finally:
        conn.close()
    return rejected, effective(job.config, planned, format=fmt, encoding=encoding, record_path=record_path)


def _json_rejects(conn: duckdb.DuckDBPyConnection, job: _Job, table: str, forced: list[retyped.Forced]) -> int:
    """Rows whose re-typed values do not convert: fail listing them (strict) or write them to rejects."""
    union = retyped.problems_sql(table, forced)
    rejected = retyped.rows_with_problems(conn, union)
    if not rejected:
        return 0
    if job.config.on_error == "strict":
        raise failed(retyped.first_problems(conn, union), rejected)
    run(conn, f"COPY (SELECT * FROM ({union}) ORDER BY row) TO {literal(job.rejects)} (FORMAT parquet)")
    job.warnings.append(note(Rejected(count=rejected, unit="record", file=REJECTS_FILE)))
    return rejected


def _excel(job: _Job) -> tuple[int, ImportConfig]:
    """Workbook: calamine rows → Arrow record batches → a ParquetWriter, checking `should_stop` per batch. An
    xlsx/xlsm/ods sheet with formula error cells is read from a copy that gives them as text
    (app.ingest.xlsx_errors); an xls/xlsb one through app.ingest.sheet_errors."""
    with excel_reader.open_workbook(job.source, job.limits) as workbook:
        measure = job.limits if job.config.sheet is None else None  # sheet sizes choose the default sheet
        infos = excel_reader.sheet_infos(job.source, job.sniffed.kind, workbook, measure)
        index, name = excel_reader.choose_sheet(workbook, job.config, infos)
        errors_as_text, errors = error_text_copy(job.source, job.sniffed.kind, index, job.work / "errors-as-text")
        if errors_as_text is None:
            return _excel_sheet(job, workbook, job.source, index, name)
    job.warnings.append(errors_warning(errors))
    with excel_reader.open_workbook(str(errors_as_text), job.limits) as readable:
        return _excel_sheet(job, readable, str(errors_as_text), index, name)


def _excel_sheet(job: _Job, workbook: Any, source: str, index: int, name: str) -> tuple[int, ImportConfig]:
    """Import sheet `index` of the open `workbook` (read from `source`)."""
    strict = job.config.on_error == "strict"
    problems: list[dict[str, Any]] = []
    counted = {"rows": 0, "bad": 0}
    rejects_writer: pq.ParquetWriter | None = None

    def on_problems(found: list[dict[str, Any]]) -> None:
        nonlocal rejects_writer
        counted["bad"] += len({item["row"] for item in found})
        if strict:
            problems.extend(found[: MAX_PROBLEMS - len(problems)])
            return
        if rejects_writer is None:
            rejects_writer = pq.ParquetWriter(job.rejects, REJECTS_SCHEMA)
        rejects_writer.write_table(pa.Table.from_pylist(found, schema=REJECTS_SCHEMA))

    sheet = excel_reader.load_sheet(source, job.sniffed.kind, workbook, index, job.limits)
    sheet, errors = with_error_texts(sheet, source, job.sniffed.kind, index)
    if errors:
        job.warnings.append(errors_warning(errors))
    padded = padded_cells(job.source, job.sniffed.kind, index)  # the upload's: a copy read keeps its cells
    plan = excel_reader.detect(sheet, index, job.config, padded)
    job.warnings += plan.warnings
    footer = totals_row(sheet, plan) if plan.last_row is None and not job.config.skip_footer else None
    if footer is not None:  # never left out silently: the preview suggests skip_footer, the import says so
        job.warnings.append(kept_footer(footer))
    schema = pa.schema([pa.field(p.name, arrow_type(p)) for p in plan.columns if p.include])
    total_rows = max(sheet.height, 1)
    try:
        with pq.ParquetWriter(job.data, schema) as writer:
            date1904 = is_date1904(job.source, job.sniffed.kind)  # the upload's own: a copy keeps its workbook part
            for batch in excel_reader.batches(sheet, plan, job.config, on_problems, date1904=date1904, padded=padded):
                if job.should_stop():
                    raise ImportCancelled("import cancelled")
                if strict and problems:
                    if len(problems) >= MAX_PROBLEMS:
                        break
                    continue
                writer.write_batch(batch)
                counted["rows"] += batch.num_rows
                done = min(job.sniffed.size, job.sniffed.size * counted["rows"] // total_rows)
                job.progress(counted["rows"], done, job.sniffed.size)
    finally:
        if rejects_writer is not None:
            rejects_writer.close()
    if problems:
        raise failed(problems, total=counted["bad"] if len(problems) < MAX_PROBLEMS else None)
    if counted["bad"]:
        job.warnings.append(note(Rejected(count=counted["bad"], unit="row", file=REJECTS_FILE)))
    header = excel_reader.excel_header(plan)
    return counted["bad"], effective(job.config, plan.columns, format="excel", sheet=name, **header)
