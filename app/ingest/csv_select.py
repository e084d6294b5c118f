"""The SQL that reads a planned CSV: the explicit `read_csv(...)` call (no sniffing at import time) and the
SELECT that names, types and converts its chosen columns, for preview and import alike."""

from __future__ import annotations

from typing import Any

import duckdb
import msgspec

from app.ingest import codes, csv_cells, csv_problems, retyped, utc_offsets
from app.ingest.columns import Planned
from app.ingest.config import ImportConfig, ImportLimits
from app.ingest.convert import boolean_sql
from app.ingest.csv_problems import REJECTS_SCAN, REJECTS_TABLE, Rejects
from app.ingest.csv_reader import CsvPlan, null_strings, read_buffer_bytes
from app.ingest.duck import duckdb_type, ident, literal
from app.ingest.money import plain_number_sql


def read_call(plan: CsvPlan, config: ImportConfig, limits: ImportLimits, *, text: bool = False) -> str:
    """The explicit `read_csv(...)` call: no sniffing at import time, rejects stored, not thrown; `text`: every
    column as text, bad rows ignored (nothing is rejected, so rows keep their numbers)."""
    typed = not text
    as_read = {*plan.as_text, *plan.codes, *(p.source for p in plan.columns if p.source in plan.zoned and not p.format)}
    as_read |= {p.source for p in plan.columns if _local_times(p, plan)}
    columns = {
        p.source: (
            "TIMESTAMPTZ"
            if typed and p.source in plan.zoned and p.format
            else duckdb_type(p.type, p.scale)
            if typed and p.include and p.type != "json" and p.source not in as_read
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
    as text and converted by the SELECT (amounts, percentages, 是/否, dates with their own formats, JSON; codes) as
    retyped reads them, and what a problem of each says: the rows a strict import lists and a lenient one rejects
    when one does not convert (a CAST's failure names neither row nor column)."""
    rows = read_call(plan, config, limits, text=True) + (f" LIMIT {plan.limit}" if plan.limit else "")
    table = f"(SELECT row_number() OVER () + {plan.skip} AS {retyped.ROW}, * FROM (SELECT * FROM {rows}))"
    kept = [p for p in plan.columns if p.include]
    forced = [(p, ident(p.source), safe) for p in kept if (safe := _converted(p, plan, config)) is not None]
    coded = [p for p in kept if p.source in plan.codes]
    forced += [(p, ident(p.source), codes.exact_sql(p, ident(p.source))) for p in coded]
    said = {p.source: codes.problem_sql(p) for p in coded}
    zoned = [p for p in kept if p.source in plan.zoned and not p.format]
    said |= {p.source: utc_offsets.problem_sql(p.type, retyped.cannot_read_sql(p.type)) for p in zoned}
    local = [p for p in kept if _local_times(p, plan)]
    return (
        table,
        forced,
        said | {p.source: utc_offsets.local_problem_sql(retyped.cannot_read_sql(p.type)) for p in local},
    )


def _local_times(p: Planned, plan: CsvPlan) -> bool:
    """Whether `p` is a datetime column of times without offsets that read_csv would read with DuckDB's ISO cast,
    which drops a UTC offset (no format: a format's strptime refuses one): read as text and converted by
    `utc_offsets.local_time_sql`, so a time with an offset past the sampled rows is a bad value, not a wrong one."""
    plain = p.type == "datetime" and not p.format and not plan.timestampformat
    return p.include and plain and p.source not in plan.zoned and p.source not in plan.as_text


def _converted(p: Planned, plan: CsvPlan, config: ImportConfig) -> str | None:
    """SQL of column `p` converted from its text, NULL where it does not convert, for the columns the SELECT
    converts (`plan.as_text`, json); None for the others (DuckDB's typed read converts them, rejecting rows
    itself, and codes, which have their own check)."""
    if p.source in plan.codes:
        return None
    if p.source in plan.zoned and not p.format:
        return utc_offsets.instant_sql(ident(p.source), safe=True)
    if p.source in plan.as_text:
        return _retyped(p, config, "TRY_CAST")
    if _local_times(p, plan):
        return utc_offsets.local_time_sql(ident(p.source), safe=True)
    return f"TRY_CAST({ident(p.source)} AS JSON)" if p.type == "json" else None


def bad_cells_sql(plan: CsvPlan, config: ImportConfig) -> str | None:
    """SQL over read_csv's columns: the row holds a value the SELECT converts (`retyped_cells`) that does not
    convert; None when the SELECT converts none. A lenient import leaves such rows out and rejects them, as
    DuckDB's typed read does a value of another type."""
    checks = [
        f"({ident(p.source)} IS NOT NULL AND {safe} IS NULL)"
        for p in plan.columns
        if p.include and (safe := _converted(p, plan, config)) is not None
    ]
    return " OR ".join(checks) or None


def rejected_cells(
    plan: CsvPlan, config: ImportConfig, limits: ImportLimits, *, converted: bool, codes: bool = False
) -> Rejects:
    """What the rejects of reading `plan` are; `converted` (a lenient import, a preview, a strict import's
    failure): with the values the SELECT converts that do not convert (the rows `bad_cells_sql` leaves out; with
    `codes`, codes that would change), found by one more read of the file, only when it has such columns."""
    table, forced, said = retyped_cells(plan, config, limits)
    forced = [f for f in forced if codes or f[0].source not in plan.codes]
    formats = {"date": plan.dateformat, "datetime": plan.timestampformat}
    return Rejects(
        read=plan,
        header_line=plan.header_line,
        converted=retyped.problems_sql(table, forced, said) if forced and converted else None,
        formats={
            p.source: form
            for p in plan.columns
            if p.include and p.source not in plan.as_text and (form := formats.get(p.type))
        },
    )


def every_reject(conn: duckdb.DuckDBPyConnection, plan: CsvPlan, config: ImportConfig, limits: ImportLimits) -> Rejects:
    """After a strict import's COPY stopped at a value the SELECT converts: the file read again to its end so that
    DuckDB's rejects hold every row it does not read (each column converted: a count alone reads none), and the
    rejects with the SELECT's, for one listing of them all."""
    csv_problems.clear_rejects(conn)
    rows = f" LIMIT {plan.limit}" if plan.limit else ""
    conn.execute(
        f"SELECT count(hash(COLUMNS(*))) FROM (SELECT * FROM {read_call(plan, config, limits)}{rows})"
    ).fetchall()
    return rejected_cells(plan, config, limits, converted=True, codes=True)


def _retyped(p: Planned, config: ImportConfig, cast: str) -> str:
    """SQL for the value of column `p` read as text (an amount, a percentage, 是/否: `plan.as_text`), converted by
    `cast` (CAST or TRY_CAST)."""
    if p.format:  # a date read with its own format, or written several ways: the first of its formats that fits
        parse = "strptime" if cast == "CAST" else "try_strptime"
        return f"CAST({parse}(trim({ident(p.source)}), {literal(p.format)}) AS {duckdb_type(p.type, p.scale)})"
    text = boolean_sql(ident(p.source)) if p.type == "boolean" else plain_number_sql(ident(p.source), config)
    return f"{cast}({text} AS {duckdb_type(p.type, p.scale)})"


def select_sql(
    plan: CsvPlan, config: ImportConfig, limits: ImportLimits, *, limit: int | None = None, safe: bool | None = None
) -> str:
    """`SELECT <chosen, renamed, typed columns> FROM read_csv(...) [WHERE ...] [LIMIT n]`. `safe` (a lenient
    import's, and a preview's): a row with a value the SELECT converts that does not convert is left out, as
    DuckDB's typed read leaves out a row it rejects (`converted_problems` lists them); else such a value fails
    the query (a strict import then lists where)."""
    safe = config.on_error == "lenient" if safe is None else safe
    parts = []
    for p in plan.columns:
        if not p.include:
            continue
        expr = ident(p.source)
        cast = "TRY_CAST" if safe else "CAST"
        if p.type == "json":
            expr = f"{cast}({expr} AS JSON)"
        elif p.source in plan.as_text:
            expr = _retyped(p, config, cast)
        elif p.source in plan.codes:
            expr = codes.checked_sql(expr, ident(codes.number_column(p)))
        elif p.source in plan.zoned and not p.format:  # read as text: a time without an offset is a bad value
            expr = utc_offsets.instant_sql(expr, safe=safe)
        elif p.source in plan.zoned:
            # the instant in UTC; not a CAST, which DuckDB pushes into read_csv as a TIMESTAMP read dropping the offset
            expr = f"timezone('UTC', {expr})"
        elif _local_times(p, plan):  # read as text: a time with an offset is a bad value
            expr = utc_offsets.local_time_sql(expr, safe=safe)
        elif p.source in plan.padded:
            expr = f"rtrim({expr}, {csv_cells.TAB})"
        if p.source in plan.formulas:
            expr = csv_cells.formula_text_sql(expr)
        parts.append(f"{expr} AS {ident(p.name)}")
    rows = min(x for x in (limit, plan.limit) if x is not None) if (limit or plan.limit) else None
    source = read_call(plan, config, limits)
    if numbers := [p for p in plan.columns if p.include and p.source in plan.codes]:
        beside = ", ".join(
            f"{codes.number_sql(p, ident(p.source))} AS {ident(codes.number_column(p))}" for p in numbers
        )
        source = f"(SELECT *, {beside} FROM {source})"
    bad = bad_cells_sql(plan, config) if safe else None
    where = f" WHERE NOT ({bad})" if bad else ""
    return f"SELECT {', '.join(parts)} FROM {source}{where}" + (f" LIMIT {rows}" if rows else "")


def codes_as_text(
    conn: duckdb.DuckDBPyConnection, plan: CsvPlan, config: ImportConfig, limits: ImportLimits
) -> tuple[CsvPlan, dict[str, tuple[int, str]]]:
    """For a lenient import: the plan with each code column holding a value that would change as a number (000001
    past the sampled rows of 600519) read as text, every value as written, and by column name the first such
    (row, value), its row numbered by a read that leaves out the rows DuckDB cannot split: `kept_as_text` says it
    after the typed read. The other code columns are read as numbers by DuckDB again (a value that is no number
    is a rejected row)."""
    table, _, _ = retyped_cells(plan, config, limits)
    coded = [p for p in plan.columns if p.include and p.source in plan.codes]
    found = codes.first_changed(conn, table, coded)
    columns = [msgspec.structs.replace(p, type="string", scale=None) if p.source in found else p for p in plan.columns]
    kept = {p.name: found[p.source] for p in coded if p.source in found}
    return msgspec.structs.replace(plan, columns=columns, codes=[]), kept


def kept_as_text(conn: duckdb.DuckDBPyConnection, plan: CsvPlan, kept: dict[str, tuple[int, str]]) -> list[str]:
    """After the typed read (the COPY), whose rejects say which rows DuckDB could not split: the warnings that
    `codes_as_text`'s columns were read as text, each naming the record's row in the file
    (csv_problems.record_rows, as the SELECT's rejected cells are named): the text read numbered it a row too high
    up after each such row and blank line."""
    return [codes.kept_as_text_warning(name, *at) for name, at in csv_problems.record_rows(conn, plan, kept).items()]
