"""JSON text columns typed datetime whose times carry a UTC offset (app.ingest.utc_offsets): found by one scan, read
as instants in UTC, a time without an offset among them a bad value."""

from __future__ import annotations

import duckdb

from app.ingest.columns import Planned
from app.ingest.notices import note
from app.ingest.notices.columns import UtcOffset
from app.ingest.retyped import cannot_read_sql
from app.ingest.utc_offsets import has_offset_sql, problem_sql


def zoned_sources(
    conn: duckdb.DuckDBPyConnection,
    source: str,
    planned: list[Planned],
    exprs: dict[str, str],
    inferred: dict[str, str],
) -> frozenset[str]:
    """The text columns typed datetime (of no format) where a time carries a UTC offset: read as instants, a time
    without one a bad value (app.ingest.utc_offsets); cast to TIMESTAMP, every offset was dropped. One scan of
    those columns, only when there are such."""
    times = [p for p in planned if p.include and p.type == "datetime" and not p.format and inferred[p.source] != p.type]
    if not times:
        return frozenset()
    parts = ", ".join(
        f"coalesce(bool_or({has_offset_sql(f'CAST({exprs[p.source]} AS VARCHAR)')}), false)" for p in times
    )
    found = conn.execute(f"SELECT {parts} FROM {source}").fetchall()[0]
    return frozenset(p.source for p, zoned in zip(times, found, strict=True) if zoned)


def zoned_warnings(planned: list[Planned], zoned: frozenset[str]) -> list[str]:
    """What preview and import say about the `zoned` columns: imported in UTC."""
    return [note(UtcOffset(column=p.name, example=None)) for p in planned if p.source in zoned]


def zoned_messages(zoned: frozenset[str]) -> dict[str, str]:
    """What a problem of each `zoned` column says (retyped.problems_sql): a time without an offset is named so."""
    return {source: problem_sql("datetime", cannot_read_sql("datetime")) for source in zoned}
