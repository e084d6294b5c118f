"""A workbook's import step: calamine rows -> Arrow record batches -> a ParquetWriter."""

from __future__ import annotations

import sys
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from app.ingest import excel_reader, sheet_range
from app.ingest.biff_padded import workbook_padded_cells
from app.ingest.columns import effective
from app.ingest.config import ImportConfig
from app.ingest.convert import arrow_type
from app.ingest.date_system import date_origin
from app.ingest.errors import MAX_PROBLEMS, ImportCancelled, failed
from app.ingest.import_job import REJECTS_SCHEMA, ImportJob
from app.ingest.notices import note
from app.ingest.notices.file import Rejected
from app.ingest.ods_range import OdsLiterals
from app.ingest.sheet_errors import errors_warning, with_error_texts
from app.ingest.sheet_nonfinite import nonfinite_cells
from app.ingest.sheet_range import OutOfRangeCells
from app.ingest.suggest import kept_footer, totals_row
from app.ingest.xlsx_errors import error_text_copy
from app.paths import REJECTS_FILE


def import_excel(job: ImportJob) -> tuple[int, ImportConfig]:
    """Workbook: calamine rows → Arrow record batches → a ParquetWriter, checking `should_stop` per batch. An
    xlsx/xlsm/ods sheet with formula error cells is read from a copy that gives them as text
    (app.ingest.xlsx_errors); an xls/xlsb one through app.ingest.sheet_errors."""
    with excel_reader.open_workbook(job.source, job.limits) as workbook:
        measure = job.limits if job.config.sheet is None else None  # sheet sizes choose the default sheet
        infos = excel_reader.sheet_infos(job.source, job.sniffed.kind, workbook, measure)
        index, name = excel_reader.choose_sheet(workbook, job.config, infos)
        numbers = OutOfRangeCells()  # in the same pass over an xlsx sheet's XML
        literals = OdsLiterals()  # an ods's: whether there is any, in the same pass over content.xml
        ods = job.sniffed.kind == "ods"
        errors_as_text, errors = error_text_copy(
            job.source, job.sniffed.kind, index, job.work / "errors-as-text", also=literals if ods else numbers
        )
        if ods:  # its cells' places need a walk of its own, only when one is there
            numbers.found = sheet_range.scanned(job.source, "ods", index, sys.maxsize, seen=literals.seen)
        if errors_as_text is None:
            return _excel_sheet(job, workbook, job.source, index, name, numbers.found)
    job.warnings.append(errors_warning(errors))
    with excel_reader.open_workbook(str(errors_as_text), job.limits) as readable:
        return _excel_sheet(job, readable, str(errors_as_text), index, name, numbers.found)


def _excel_sheet(
    job: ImportJob, workbook: Any, source: str, index: int, name: str, beyond: dict[tuple[int, int], str]
) -> tuple[int, ImportConfig]:
    """Import sheet `index` of the open `workbook` (read from `source`); `beyond`: its number cells whose literal
    no double holds (app.ingest.sheet_range)."""
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
    padded = workbook_padded_cells(job.source, job.sniffed.kind, index)  # the upload's: a copy read keeps its cells
    plan = excel_reader.detect(sheet, index, job.config, padded)
    job.warnings += plan.warnings
    beyond = {**beyond, **nonfinite_cells(sheet, plan, job.source, job.sniffed.kind, index)}  # xls/xlsb ±inf, NaN
    if found := sheet_range.by_column(plan, beyond):  # 1e400 read as infinity, 1e-400 as 0: as a CSV's
        if strict:
            raise sheet_range.refused(plan, found)
        plan, kept = sheet_range.as_text(plan, found)
        job.warnings += kept
    footer = totals_row(sheet, plan) if plan.last_row is None and not job.config.skip_footer else None
    if footer is not None:  # never left out silently: the preview suggests skip_footer, the import says so
        job.warnings.append(kept_footer(footer))
    schema = pa.schema([pa.field(p.name, arrow_type(p)) for p in plan.columns if p.include])
    total_rows = max(sheet.height, 1)
    try:
        with pq.ParquetWriter(job.data, schema) as writer:
            origin = date_origin(job.source, job.sniffed.kind)  # the upload's own: a copy keeps its workbook part
            literals = sheet_range.Literals(beyond) if found else None
            zoned: list[str] = []  # a UtcOffset notice per column of times stored in UTC, as a CSV's import says
            rows = excel_reader.batches(
                sheet, plan, job.config, on_problems, origin=origin, padded=padded, literals=literals, notices=zoned
            )
            for batch in rows:
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
    job.warnings += zoned
    if counted["bad"]:
        job.warnings.append(note(Rejected(count=counted["bad"], unit="row", file=REJECTS_FILE)))
    header = excel_reader.excel_header(plan)
    return counted["bad"], effective(job.config, plan.columns, format="excel", sheet=name, **header)
