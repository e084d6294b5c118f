"""A JSON file's import step: DuckDB reads arrays and NDJSON directly; records under a path are streamed out with
ijson first."""

from __future__ import annotations

import os
import sys

import duckdb

from app.ingest import json_keys, json_numbers, json_reader, json_select, json_times, retyped
from app.ingest.columns import effective
from app.ingest.config import ImportConfig
from app.ingest.data_sink import raise_sink_failure
from app.ingest.duck import literal, run
from app.ingest.errors import failed
from app.ingest.import_job import PARQUET_OPTIONS, ImportJob, data_connection
from app.ingest.json_budget import ReadBudget, record_limit
from app.ingest.notices import note
from app.ingest.notices.file import Rejected
from app.paths import REJECTS_FILE


def import_json(job: ImportJob) -> tuple[int, ImportConfig]:
    """JSON: DuckDB reads arrays and NDJSON directly; records under a path are streamed out with ijson first."""
    said = len(job.warnings)
    try:
        return _import(job, extract=False)
    except json_keys.EmptyKey:  # read before any row is written: the records again, their empty key renamed
        del job.warnings[said:]
        return _import(job, extract=True)


def _import(job: ImportJob, *, extract: bool) -> tuple[int, ImportConfig]:
    """The import; with `extract`, of the records streamed out with ijson (json_reader.extract_records) first."""
    encoding = job.sniffed.encoding or "utf-8"
    mode, prefix, warnings = json_reader.json_mode(
        job.source, job.sniffed.kind, job.config, encoding, record_limit(job.limits.max_line_bytes)
    )
    job.warnings += warnings
    record_path = prefix[: -len(".item")] if mode == "path" and prefix else None
    fmt = "ndjson" if mode == "ndjson" else "json"
    items = None if mode == "ndjson" else prefix  # what ijson reads records at
    path, empty_key = job.source, False
    scanned = json_numbers.scan(job.source) if mode != "path" and encoding == "utf-8" and not extract else None
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
        mode, empty_key = "ndjson", extracted.empty_key
        scanned = json_numbers.scan(path)
    text_path = None
    if scanned.long_numbers:  # their text is read from a copy with the long decimals quoted
        text_path = str(job.work / "records.text.json")
        json_numbers.write_non_finite_as_null(path, text_path, should_stop=job.should_stop, quote_long=True)
    conn, data = data_connection(job, [path, *([text_path] if text_path else [])])
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
                lenient=job.config.on_error == "lenient",
                empty_key=empty_key,
            )
            job.warnings += number_warnings
            planned, exprs, name_warnings = json_reader.plan(leaves, job.config)
            job.warnings += name_warnings
            inferred = {name: leaf.type for name, leaf in zip(exprs, leaves, strict=True)}
            lenient = job.config.on_error == "lenient"
            zoned = json_times.zoned_sources(conn, source, planned, exprs, inferred)
            job.warnings += json_times.zoned_warnings(planned, zoned)
            parts, forced = json_select.select_parts(
                planned, exprs, inferred, safe=lenient, zoned=zoned, config=job.config
            )
            table = f"(SELECT row_number() OVER () AS {retyped.ROW}, * FROM {source})"
            if job.config.limit:  # the first records, not the first good ones: a rejected one lets none past in
                table = f"(SELECT * FROM {table} WHERE {retyped.ROW} <= {int(job.config.limit)})"
            rejected = _json_rejects(conn, job, table, forced, json_times.zoned_messages(zoned)) if forced else 0
            where = retyped.without_problems_sql(forced) if lenient else ""
            query = f"SELECT {', '.join(parts)} FROM {table}{where}"
            copy = f"COPY ({query}) TO {literal(data.target)} ({PARQUET_OPTIONS}{data.options})"
            run(conn, copy, should_stop=job.should_stop)
        except duckdb.Error as exc:
            raise_sink_failure(job.sink, exc)
            if json_keys.DUCKDB_DUPLICATE_KEY in str(exc):  # ijson finds the record and key, as the preview does
                json_reader.extract_records(job.source, os.devnull, items, encoding=encoding)
            raise json_reader.read_error(exc, job.limits, "import") from exc
    finally:
        conn.close()
    return rejected, effective(job.config, planned, format=fmt, encoding=encoding, record_path=record_path)


def _json_rejects(
    conn: duckdb.DuckDBPyConnection, job: ImportJob, table: str, forced: list[retyped.Forced], said: dict[str, str]
) -> int:
    """Rows whose re-typed values do not convert: fail listing them (strict) or write them to rejects."""
    union = retyped.problems_sql(table, forced, said)
    rejected = retyped.rows_with_problems(conn, union)
    if not rejected:
        return 0
    if job.config.on_error == "strict":
        raise failed(retyped.first_problems(conn, union), rejected)
    run(conn, f"COPY (SELECT * FROM ({union}) ORDER BY row) TO {literal(job.rejects)} (FORMAT parquet)")
    job.warnings.append(note(Rejected(count=rejected, unit="record", file=REJECTS_FILE)))
    return rejected
