"""The SQL that reads a planned CSV: the explicit `read_csv(...)` call (no sniffing at import time) and the
SELECT that names, types and converts its chosen columns, for preview and import alike."""

from __future__ import annotations

from typing import Any

import duckdb
import msgspec

from app.ingest import codes, csv_cells, retyped
from app.ingest.columns import Planned
from app.ingest.config import ImportConfig, ImportLimits
from app.ingest.convert import boolean_sql
from app.ingest.csv_problems import REJECTS_SCAN, REJECTS_TABLE
from app.ingest.csv_reader import CsvPlan, null_strings, read_buffer_bytes
from app.ingest.duck import duckdb_type, ident, literal
from app.ingest.money import plain_number_sql
from app.ingest.notices import note
from app.ingest.notices.columns import ReadAsNull


def read_call(plan: CsvPlan, config: ImportConfig, limits: ImportLimits, *, text: bool = False) -> str:
    """The explicit `read_csv(...)` call: no sniffing at import time, rejects stored, not thrown; `text`: every
    column as text, bad rows ignored (nothing is rejected, so rows keep their numbers)."""
    typed = not text
    columns = {
        p.source: (
            "TIMESTAMPTZ"
            if typed and p.source in plan.zoned
            else duckdb_type(p.type, p.scale)
            if typed and p.include and p.type != "json" and p.source not in plan.as_text and p.source not in plan.codes
            else "VARCHAR"
        )
        for p in plan.columns
    }
    args: dict[str, Any] = {
        "auto_detect": False,
        "encoding": plan.encoding,
        "delim": plan.delimiter,
        "quote": plan.quote,
        "escape": plan.escape,
        "header": False,
        "skip": plan.skip,
        "columns": columns,
        "max_line_size": limits.max_line_bytes,
        "buffer_size": read_buffer_bytes(limits),
        "nullstr": null_strings(config),
    }
    if typed:
        args.update(store_rejects=True, rejects_table=REJECTS_TABLE, rejects_scan=REJECTS_SCAN)
    else:
        args["ignore_errors"] = True
    if config.decimal_separator:
        args["decimal_separator"] = config.decimal_separator
    if config.thousands_separator:
        args["thousands"] = config.thousands_separator
    if plan.dateformat:
        args["dateformat"] = plan.dateformat
    if plan.timestampformat:
        args["timestampformat"] = plan.timestampformat
    return f"read_csv({literal(plan.path)}, " + ", ".join(f"{k}={literal(v)}" for k, v in args.items()) + ")"


def retyped_cells(
    plan: CsvPlan, config: ImportConfig, limits: ImportLimits
) -> tuple[str, list[retyped.Forced], dict[str, str]]:
    """The data rows the import reads (up to its limit) numbered by their line (one line a row), the columns read
    as text (amounts, percentages, 是/否; codes) as retyped reads them, and what a code's problem says: what a
    strict import lists when one does not convert (its CAST fails naming neither row nor column)."""
    rows = read_call(plan, config, limits, text=True) + (f" LIMIT {plan.limit}" if plan.limit else "")
    table = f"(SELECT row_number() OVER () + {plan.skip} AS {retyped.ROW}, * FROM (SELECT * FROM {rows}))"
    kept = [p for p in plan.columns if p.include]
    forced = [(p, ident(p.source), _retyped(p, config, "TRY_CAST")) for p in kept if p.source in plan.as_text]
    coded = [p for p in kept if p.source in plan.codes]
    forced += [(p, ident(p.source), codes.exact_sql(p, ident(p.source))) for p in coded]
    return table, forced, {p.source: codes.problem_sql(p) for p in coded}


def read_as_null(
    conn: duckdb.DuckDBPyConnection, plan: CsvPlan, config: ImportConfig, limits: ImportLimits
) -> list[str]:
    """What a lenient import says about values of the columns it read as text (amounts, 是/否, dates of several
    formats) that did not convert and were imported as NULL: one more read of the file, only when there are such
    columns (a strict import fails naming them instead)."""
    if config.on_error != "lenient" or not plan.as_text:
        return []
    table, forced, _ = retyped_cells(plan, config, limits)
    union = retyped.problems_sql(table, [f for f in forced if f[0].source in plan.as_text])
    found = conn.execute(f'SELECT count(DISTINCT "row"), list(DISTINCT "column") FROM ({union})').fetchone()
    if not found or not found[0]:
        return []
    names = [p.name for p in plan.columns if p.source in set(found[1])]
    return [note(ReadAsNull(columns=names, rows=found[0]))]


def _retyped(p: Planned, config: ImportConfig, cast: str) -> str:
    """SQL for the value of column `p` read as text (an amount, a percentage, 是/否: `plan.as_text`), converted by
    `cast` (CAST or TRY_CAST)."""
    if p.format:  # a date read with its own format, or written several ways: the first of its formats that fits
        parse = "strptime" if cast == "CAST" else "try_strptime"
        return f"CAST({parse}(trim({ident(p.source)}), {literal(p.format)}) AS {duckdb_type(p.type, p.scale)})"
    text = boolean_sql(ident(p.source)) if p.type == "boolean" else plain_number_sql(ident(p.source), config)
    return f"{cast}({text} AS {duckdb_type(p.type, p.scale)})"


def select_sql(plan: CsvPlan, config: ImportConfig, limits: ImportLimits, *, limit: int | None = None) -> str:
    """`SELECT <chosen, renamed, typed columns> FROM read_csv(...) [LIMIT n]`."""
    parts = []
    for p in plan.columns:
        if not p.include:
            continue
        expr = ident(p.source)
        cast = "CAST" if config.on_error == "strict" else "TRY_CAST"
        if p.type == "json":
            expr = f"{cast}({expr} AS JSON)"
        elif p.source in plan.as_text:
            expr = _retyped(p, config, cast)
        elif p.source in plan.codes:
            expr = codes.checked_sql(expr, ident(codes.number_column(p)))
        elif p.source in plan.zoned:
            # the instant in UTC; not a CAST, which DuckDB pushes into read_csv as a TIMESTAMP read dropping the offset
            expr = f"timezone('UTC', {expr})"
        elif p.source in plan.padded:
            expr = f"rtrim({expr}, {csv_cells.TAB})"
        parts.append(f"{expr} AS {ident(p.name)}")
    rows = min(x for x in (limit, plan.limit) if x is not None) if (limit or plan.limit) else None
    source = read_call(plan, config, limits)
    if numbers := [p for p in plan.columns if p.include and p.source in plan.codes]:
        beside = ", ".join(
            f"{codes.number_sql(p, ident(p.source))} AS {ident(codes.number_column(p))}" for p in numbers
        )
        source = f"(SELECT *, {beside} FROM {source})"
    return f"SELECT {', '.join(parts)} FROM {source}" + (f" LIMIT {rows}" if rows else "")


def codes_as_text(
    conn: duckdb.DuckDBPyConnection, plan: CsvPlan, config: ImportConfig, limits: ImportLimits
) -> tuple[CsvPlan, list[str]]:
    """For a lenient import: the plan with each code column holding a value that would change as a number (000001
    past the sampled rows of 600519) read as text, every value as written, and the warnings saying so; the other
    code columns are read as numbers by DuckDB again (a value that is no number is a rejected row)."""
    table, _, _ = retyped_cells(plan, config, limits)
    coded = [p for p in plan.columns if p.include and p.source in plan.codes]
    found = codes.first_changed(conn, table, coded)
    columns = [msgspec.structs.replace(p, type="string", scale=None) if p.source in found else p for p in plan.columns]
    warnings = [codes.kept_as_text_warning(p.name, *found[p.source]) for p in coded if p.source in found]
    return msgspec.structs.replace(plan, columns=columns, codes=[]), warnings
