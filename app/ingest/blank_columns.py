"""Trailing columns with no header and no value, as Excel exports often end a CSV's lines (`单号,金额,,,`): they
are left out of the dataset and said in one notice. The effective config leaves them out rather than marking them
`include: false`: a preview decides on the file's head, and a config saying so made an import of the whole file drop
a value further down; without them each read decides on what it reads, so a re-import does the same."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import duckdb
import msgspec

from app.ingest.columns import Planned
from app.ingest.config import ImportConfig
from app.ingest.notices import note, notice_of
from app.ingest.notices.columns import BlankColumnsLeftOut, EmptyHeader


def trailing_blank(raw: Sequence[Any]) -> int:
    """How many header cells at the end of `raw` are empty, when some header cell before them is not; else 0."""
    count = 0
    for value in reversed(raw):
        if value is not None and str(value).strip():
            break
        count += 1
    return count if count < len(raw) else 0


def left_out(
    conn: duckdb.DuckDBPyConnection, call: str, planned: list[Planned], raw: Sequence[Any], config: ImportConfig
) -> tuple[list[Planned], list[int]]:
    """`planned` with the trailing header-less columns that hold no value in any row of `call` (every column as
    text `c0`, `c1`, ...) left out, and their 1-based positions; a column the config names is left as it says."""
    named = config.columns or {}
    candidates = [p for p in planned[len(raw) - trailing_blank(raw) : len(raw)] if p.source not in named]
    if not candidates:
        return planned, []
    filled = ", ".join(f"count(nullif(trim(c{p.index}), ''))" for p in candidates)
    counts = conn.execute(f"SELECT {filled} FROM {call}").fetchone() or ()
    blank = {p.index for p, count in zip(candidates, counts, strict=True) if not count}
    # only the run at the end: a blank column before a filled one is kept where it stands
    ends = [p.index for p in reversed(candidates) if p.index in blank]
    run = [index for n, index in enumerate(ends) if index == candidates[-1].index - n]
    if not run:
        return planned, []
    gone = set(run)
    kept = [msgspec.structs.replace(p, include=False, blank=True) if p.index in gone else p for p in planned]
    return kept, sorted(index + 1 for index in gone)


def warnings_without(warnings: list[str], planned: list[Planned], positions: list[int]) -> list[str]:
    """`warnings` with one notice for the columns at `positions` (1-based) instead of one empty-header notice each;
    a column left out by the config gets none (its name is no output's)."""
    out = {p.index + 1 for p in planned if not p.include}
    kept = [w for w in warnings if not (isinstance(n := notice_of(w), EmptyHeader) and n.column in out)]
    return [*kept, note(BlankColumnsLeftOut(count=len(positions), first=positions[0]))] if positions else kept
