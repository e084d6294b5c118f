"""The rows a CSV preview shows, read so that DuckDB's rejects cover exactly the file's rows up to the last one shown.

The preview read its head with `SELECT ... LIMIT rows`: DuckDB stores a read's rejects only when the read runs to
its end, so when the head had more rows than the preview showed, a row it left out among them (a value its column
does not read) was listed nowhere, while the SELECT's own check (amounts, codes: `csv_select.rejected_cells`) read
the whole head and listed rows past the last one shown. The preview reads instead a copy of the head cut after
the row its last shown row is (csv_limit, as the import's `limit`), to its end: its rejects are then a lenient
import's for those rows, and nothing past them is read. Which row that is only a read can tell (each left-out row
moves it one down), so copies of more rows are read until one gives the rows asked for: the first adds the rows
missing, then the rows added at least double (a head of bad rows costs a few reads of it, not one for each), and
a copy that gave more than asked is narrowed by halves.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import msgspec

from app.ingest import csv_limit, csv_problems, csv_select
from app.ingest.config import ImportConfig, ImportLimits
from app.ingest.csv_reader import CsvPlan


def shown(
    conn: duckdb.DuckDBPyConnection,
    plan: CsvPlan,
    config: ImportConfig,
    limits: ImportLimits,
    rows: int,
    work: Path,
) -> tuple[CsvPlan, list[tuple[Any, ...]]]:
    """`plan` reading a copy of its file cut after the row the `rows`-th row read is (the whole file when it gives
    fewer), and the rows read from it, DuckDB's rejects (`csv_problems.rejects`) holding that read's alone."""
    if not rows:
        return plan, []

    def read(count: int) -> tuple[CsvPlan, list[tuple[Any, ...]], bool]:
        cut, whole = csv_limit.first_rows(plan, count, work / f"head.shown.{count}.csv")  # a file each: none read twice
        cut = msgspec.structs.replace(cut, limit=plan.limit)  # the import's limit: the effective config says it
        csv_problems.clear_rejects(conn)  # a read adds its rejects to the tables
        return cut, conn.execute(csv_select.select_sql(cut, config, limits, safe=True)).fetchall(), whole

    below, gave, count = 0, 0, rows  # a cut that gave fewer than `rows` rows (none at first), how many; the next
    while True:
        cut, values, whole = read(count)
        if len(values) >= rows or whole:
            break
        below, gave, count = count, len(values), count + max(rows - len(values), count - rows)
    if len(values) < rows:
        return cut, values
    last = count
    # The `rows`-th row is within (below, count]: each left-out row moves it one down, so it is not above
    # `below + rows - gave`.
    while (least := below + rows - gave) < count:
        last = max(least, (below + count) // 2)
        cut, values, _ = read(last)
        if len(values) >= rows:
            count = last
        else:
            below, gave = last, len(values)
    return (cut, values) if last == count else read(count)[:2]
