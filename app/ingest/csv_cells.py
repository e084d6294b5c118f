"""What the sampled text of a CSV's cells says about reading them, in one scan: number columns holding amounts
with a currency sign, percentages, negatives in parentheses or full-width digits (app.ingest.money), boolean
columns holding 是/否 (app.ingest.convert), and text columns whose cells end in a tab or are written `="…"`.

WeChat Pay pads ids and some text cells with a trailing tab so that Excel keeps them as text; nobody wants
the tab in their data, so a text column where the sample shows one is read without trailing tabs (and a
warning says so). Order and account exports write an id `="202311021234567890"`, a formula Excel shows as the
text inside (its digits kept, not a rounded number): a text column where the sample shows one is read so.
"""

from __future__ import annotations

import duckdb

from app.ingest.columns import Planned
from app.ingest.convert import CHINESE_BOOLEANS
from app.ingest.duck import literal
from app.ingest.money import NUMBER_TYPES, changed_sql
from app.ingest.notices import note
from app.ingest.notices.columns import FormulaText, TabPadded, UtcOffset
from app.ingest.utc_offsets import has_offset_sql

#: A tab, as SQL.
TAB = "chr(9)"
#: Cells the scan reads at most: a wide file's sample is cut to fewer rows (5,000 columns of 20,480 rows ran a
#: 512 MB job out of memory).
SAMPLE_CELLS = 1_000_000
#: Rows sampled however wide the file.
MIN_SAMPLE_ROWS = 100


def sampled(
    conn: duckdb.DuckDBPyConnection, call: str, planned: list[Planned], sniffed: dict[int, str], rows: int
) -> tuple[list[str], list[str], list[str]]:
    """(as_text, padded, formulas): the sources of number columns DuckDB sniffed as text whose sample holds an
    amount with a currency sign, a percentage, a negative in parentheses or full-width digits, and of boolean ones
    whose sample holds 是/否; of text columns whose sample holds a cell ending in a tab; and of those whose sample
    holds a cell written `="…"`. `call` reads every column as text `c0`, `c1`, ... by file position; `sniffed` is
    DuckDB's type by file position."""
    money = [p for p in planned if p.include and p.type in NUMBER_TYPES and sniffed.get(p.index) == "string"]
    flags = [p for p in planned if p.include and p.type == "boolean" and sniffed.get(p.index) == "string"]
    text = [p for p in planned if p.include and p.type == "string"]
    words = literal(list(CHINESE_BOOLEANS))
    checks = [changed_sql(f"c{p.index}") for p in money]
    checks += [f"list_contains({words}, trim(c{p.index}))" for p in flags]
    checks += [f"ends_with(c{p.index}, {TAB})" for p in text]
    checks += [_formula_sql(f"c{p.index}") for p in text]
    if not checks:
        return [], [], []
    parts = ", ".join(f"coalesce(bool_or({check}), false)" for check in checks)
    picked = ", ".join(f"c{index}" for index in sorted({p.index for p in money + flags + text}))
    rows = max(MIN_SAMPLE_ROWS, min(rows, SAMPLE_CELLS // len(checks)))
    found = conn.execute(f"SELECT {parts} FROM (SELECT {picked} FROM {call} LIMIT {rows})").fetchall()[0]
    first = len(money + flags + text)
    found_in = dict(zip([p.source for p in money + flags + text], found[:first], strict=True))
    written = dict(zip([p.source for p in text], found[first:], strict=True))
    return (
        [p.source for p in money + flags if found_in[p.source]],
        [p.source for p in text if found_in[p.source]],
        [p.source for p in text if written[p.source]],
    )


def _formula_sql(cell: str) -> str:
    """SQL: the text `cell` is written `="…"`, Excel's text formula."""
    return f"(starts_with({cell}, '=\"') AND ends_with({cell}, '\"') AND length({cell}) >= 3)"


def formula_text_sql(expr: str) -> str:
    """SQL: the text `expr`, a cell written `="…"` as the text inside (as Excel shows it), another as it is."""
    return f"CASE WHEN {_formula_sql(expr)} THEN substr({expr}, 3, length({expr}) - 3) ELSE {expr} END"


def formula_warning(sources: list[str]) -> str:
    """What preview and import say about text columns whose `="…"` cells are read as the text inside."""
    return note(FormulaText(columns=sources[:10], count=len(sources)))


def padded_warning(sources: list[str]) -> str:
    """What preview and import say about text columns read without their trailing tabs."""
    return note(TabPadded(columns=sources[:10], count=len(sources)))


def offset_columns(conn: duckdb.DuckDBPyConnection, call: str, planned: list[Planned], rows: int) -> list[int]:
    """The file positions of the datetime columns (of no format) whose sample holds a time with a UTC offset: read
    with it (app.ingest.utc_offsets), whatever DuckDB's sniffer made of them (several offset forms, or a column
    the user typed datetime, it left as text; read as TIMESTAMP, every offset was dropped). `call` reads every
    column as text `c0`, `c1`, ... by file position."""
    times = [p for p in planned if p.include and p.type == "datetime" and not p.format]
    if not times:
        return []
    parts = ", ".join(f"coalesce(bool_or({has_offset_sql(f'c{p.index}')}), false)" for p in times)
    picked = ", ".join(f"c{p.index}" for p in times)
    found = conn.execute(f"SELECT {parts} FROM (SELECT {picked} FROM {call} LIMIT {rows})").fetchall()[0]
    return [p.index for p, zoned in zip(times, found, strict=True) if zoned]


def zoned_warning(conn: duckdb.DuckDBPyConnection, call: str, planned: list[Planned], zoned: list[str]) -> list[str]:
    """What preview and import say about datetime columns read with their UTC offsets (`zoned`), with an example
    from `call` (every column as text `c0`, `c1`, ... by file position)."""
    warnings = []
    for p in planned:
        if p.source in zoned:
            found = conn.execute(
                f"SELECT trim(c{p.index}) FROM {call} WHERE {has_offset_sql(f'c{p.index}')} LIMIT 1"
            ).fetchone()
            warnings.append(note(UtcOffset(column=p.name, example=found[0] if found else None)))
    return warnings
