"""A CSV's import step: (transcode to UTF-8 if DuckDB cannot decode it or its line ends, then) one DuckDB COPY
with rejects stored."""

from __future__ import annotations

from functools import partial

import duckdb

from app.ingest import csv_limit, csv_problems, csv_range, csv_reader, repeated_header
from app.ingest.config import ImportConfig
from app.ingest.csv_footer import footer_offset, footer_warning, tail_text
from app.ingest.csv_select import (
    bad_cells_sql,
    codes_as_text,
    every_reject,
    kept_as_text,
    rejected_cells,
    select_sql,
)
from app.ingest.data_sink import CopyTarget, SinkSpent, copy_target, raise_sink_failure
from app.ingest.duck import literal, run
from app.ingest.errors import ImportFailed, failed
from app.ingest.import_job import PARQUET_OPTIONS, ImportJob, data_connection
from app.ingest.notices import note
from app.ingest.notices.file import InvalidBytes, Rejected
from app.ingest.preview_columns import check_field_count
from app.ingest.suggest import csv_footer, kept_footer
from app.ingest.textio import (
    CR_CHECK_BYTES,
    MIXED,
    duckdb_encoding,
    file_mixes_crlf_and_lf,
    line_ends_warning,
    odd_line_ends,
    read_text_prefix,
    transcode_to_utf8,
)
from app.paths import REJECTS_FILE


def import_csv(job: ImportJob) -> tuple[int, ImportConfig]:
    """CSV: (transcode to UTF-8 if DuckDB cannot decode it or its line ends, then) one DuckDB COPY with rejects
    stored."""
    encoding = job.sniffed.encoding or "utf-8"
    check_field_count(csv_reader.read_line(job.source, encoding, 1, job.limits.max_line_bytes), job.config)
    line_ends = odd_line_ends(read_text_prefix(job.source, encoding, CR_CHECK_BYTES)[0])
    said = len(job.warnings)
    try:
        return _import(job, encoding, line_ends)
    except ImportFailed as exc:
        # rows past the head end in LF where those before end in CRLF, or the other way round (rows a script
        # appended): DuckDB's reader fails on the first that differs. Only then is the whole file read for it.
        if (
            line_ends
            or not csv_problems.parser_lost(exc)
            or not file_mixes_crlf_and_lf(job.source, encoding, job.should_stop)
        ):
            raise
        if job.sink is not None:  # it streamed part of the data file: the caller imports again without one
            raise SinkSpent("the data file is written again") from exc
    del job.warnings[said:]
    return _import(job, encoding, MIXED)


def _import(job: ImportJob, encoding: str, line_ends: str | None) -> tuple[int, ImportConfig]:
    """The import, its line ends (`odd_line_ends`) read as LF if given."""
    path, duck_encoding = job.source, duckdb_encoding(job.source, encoding)
    size = job.sniffed.size
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
    conn, data = data_connection(job, [path])
    try:
        try:
            plan = csv_reader.detect(conn, path, duck_encoding, job.config, job.limits)
        except duckdb.Error as exc:
            raise csv_problems.read_error(exc, job.limits) from exc
        job.warnings += plan.warnings
        plan = csv_limit.cut(plan, job.work / "source.rows.csv")  # a rejected row lets no row past the limit in
        kept: dict[str, tuple[int, str]] = {}
        if plan.codes and job.config.on_error == "lenient":  # a code that would change: its column read as text
            plan, kept = codes_as_text(conn, plan, job.config, job.limits)
        base = size // 2 if path != job.source else 0
        _copy(conn, job, plan, data, base)
        job.warnings += kept_as_text(conn, plan, kept)  # named once the COPY's rejects say which rows were not split
        if found := csv_range.found_in(conn, job.data, plan, job.config, job.limits):  # 1e400 as inf, 1e-400 as 0
            if job.config.on_error == "strict":
                raise csv_range.refused(plan, found)
            if job.sink is not None:  # it took the first data file: the caller imports again without one
                raise SinkSpent("the data file is written again")
            plan, kept = csv_range.as_text(plan, found)
            job.warnings += kept
            csv_problems.clear_rejects(conn)
            _copy(conn, job, plan, copy_target(None, job.data), base)
        lenient = job.config.on_error == "lenient"
        said = rejected_cells(plan, job.config, job.limits, converted=lenient)
        rejected, problems = csv_problems.rejects(conn, said)
        if rejected and not lenient:
            raise failed(problems, total=rejected)
        if rejected:
            csv_problems.write_rejects(conn, job.rejects, said)
            job.warnings.append(note(Rejected(count=rejected, unit="row", file=REJECTS_FILE)))
        job.warnings += _repeated_header(conn, job, plan, said)
    finally:
        conn.close()
    if not job.config.skip_footer and not job.config.range:  # the footer the preview suggests, read as data
        footer = csv_footer(tail_text(job.source, encoding)[0], plan.delimiter, plan.quote, len(plan.columns))
        job.warnings += [kept_footer(footer)] if footer else []
    return rejected, csv_reader.effective_config(job.config, plan, encoding)


def _copy(
    conn: duckdb.DuckDBPyConnection, job: ImportJob, plan: csv_reader.CsvPlan, data: CopyTarget, base: int
) -> None:
    """COPY the rows `plan` reads to `data` as Parquet, reporting progress from `base` bytes; a value that does not
    convert fails it naming where (a strict import's rejects are listed after)."""
    size = job.sniffed.size
    copy = (
        f"COPY ({select_sql(plan, job.config, job.limits)}) TO {literal(data.target)} ({PARQUET_OPTIONS}{data.options})"
    )
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
        if converting and (plan.codes or bad_cells_sql(plan, job.config)):
            # a value the SELECT converts (an amount, a date of its own format, JSON; a code) that does not: where,
            # with the rows DuckDB rejects (the COPY stopped before it met them all)
            bad, problems = csv_problems.rejects(conn, every_reject(conn, plan, job.config, job.limits))
            if bad:
                raise failed(problems, bad) from exc
        raise csv_problems.read_error(exc, job.limits) from exc


def _repeated_header(
    conn: duckdb.DuckDBPyConnection, job: ImportJob, plan: csv_reader.CsvPlan, said: csv_problems.Rejects
) -> list[str]:
    """What the import says about header lines repeated past the sample (the sample's are in plan.warnings); `said`:
    what the rejects of the read that wrote the data file are."""
    count, lines = csv_problems.repeated_header_lines(conn, plan.header_line)
    in_file = partial(csv_problems.written_rows, conn, said)
    written = repeated_header.past_sample(conn, job.data, plan.header, plan.columns, in_file, csv_reader.SAMPLE_ROWS)
    rejected = [repeated_header.lines_warning(count, lines, "rejected", REJECTS_FILE)] if count else []
    return rejected + ([written] if written else [])
