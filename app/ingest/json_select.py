"""The SELECT items of a JSON import and preview: each kept column converted to its planned type."""

from __future__ import annotations

from app.ingest.columns import Planned
from app.ingest.config import ImportConfig
from app.ingest.convert import boolean_sql
from app.ingest.duck import duckdb_type, ident, literal
from app.ingest.money import plain_number_sql
from app.ingest.utc_offsets import instant_sql


def cast(
    p: Planned,
    expr: str,
    inferred: str,
    *,
    safe: bool,
    zoned: frozenset[str] = frozenset(),
    config: ImportConfig | None = None,
) -> str:
    """`expr` converted to the planned type (TRY_ variants when `safe`), or unchanged if already that type; a
    `zoned` column's times as their instants in UTC. Text typed a number or a boolean is read as a CSV's or a
    workbook's text cell is, by `config`'s separators: amounts (¥1,234.50, 20.00元, 12.5%, (300.00)) as numbers,
    是/否 as booleans (they were bad values)."""
    if p.type == inferred and (p.type != "decimal" or p.scale == 0):  # a decimal inferred is DECIMAL(38, 0)
        return expr
    if p.source in zoned:
        return instant_sql(f"CAST({expr} AS VARCHAR)", safe=safe)
    target = duckdb_type(p.type, p.scale)
    if p.format and p.type in ("date", "datetime", "time"):
        function = "try_strptime" if safe else "strptime"
        return f"CAST({function}(CAST({expr} AS VARCHAR), {literal(p.format)}) AS {target})"
    if p.type == "json":
        return f"CAST(to_json({expr}) AS JSON)"
    if inferred == "string" and p.type in ("integer", "float", "decimal") and config is not None:
        expr = plain_number_sql(expr, config)
    elif inferred == "string" and p.type == "boolean":
        expr = boolean_sql(expr)
    return f"{'TRY_CAST' if safe else 'CAST'}({expr} AS {target})"


def select_parts(
    planned: list[Planned],
    exprs: dict[str, str],
    inferred: dict[str, str],
    *,
    safe: bool,
    zoned: frozenset[str] = frozenset(),
    config: ImportConfig | None = None,
) -> tuple[list[str], list[tuple[Planned, str, str]]]:
    """SELECT items for the kept columns, and (column, raw, converted) for the ones a user re-typed."""
    parts, forced = [], []
    for p in planned:
        if not p.include:
            continue
        raw = exprs[p.source]
        converted = cast(p, raw, inferred[p.source], safe=safe, zoned=zoned, config=config)
        if converted != raw:
            forced.append((p, raw, cast(p, raw, inferred[p.source], safe=True, zoned=zoned, config=config)))
        parts.append(f"{converted} AS {ident(p.name)}")
    return parts, forced
