"""A CSV import's `limit` (or a `range`'s last row) as the file's first rows, not as the first rows read.

`read_csv(...) LIMIT n` stops after n rows it returned: a row DuckDB rejected (a value its column does not read),
or one the SELECT leaves out (an amount that does not convert), was not counted, so row n+1 came in in its place,
past the end the user set. The import reads instead a copy of the file cut after its first n rows (records:
a quoted cell may hold line breaks), so a bad row among them is rejected and nothing past them is read. The copy
costs the rows asked for, not the file.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

import msgspec

from app.ingest.csv_reader import CsvPlan

#: The longest cell Python's csv reader takes (its default, 128 KiB, is shorter than a line DuckDB reads).
_FIELD_CHARS = 2**31 - 1


def cut(plan: CsvPlan, target: Path) -> CsvPlan:
    """`plan` reading `target`: the `plan.skip` lines above its data and its first `plan.limit` rows, written
    there as UTF-8 (the file's own line ends); `plan` itself without a limit."""
    if not plan.limit:
        return plan
    codec = "utf-8-sig" if plan.encoding.lower().replace("_", "-") in ("utf-8", "utf8") else plan.encoding
    with (
        open(plan.path, encoding=codec, errors="surrogateescape", newline="") as source,
        open(target, "w", encoding="utf-8", errors="surrogateescape", newline="") as out,
    ):
        for _ in range(plan.skip):
            out.write(source.readline())
        rows = csv.reader(
            _copied(source, out),
            delimiter=plan.delimiter,
            quotechar=plan.quote or None,
            escapechar=plan.escape if plan.escape and plan.escape != plan.quote else None,
            doublequote=not plan.escape or plan.escape == plan.quote,
            quoting=csv.QUOTE_MINIMAL if plan.quote else csv.QUOTE_NONE,
            strict=False,
        )
        csv.field_size_limit(max(csv.field_size_limit(), _FIELD_CHARS))  # a row's length is the reader's limit
        for _ in zip(range(plan.limit), rows, strict=False):
            pass
    return msgspec.structs.replace(plan, path=str(target), encoding="utf-8")


def _copied(source: TextIO, out: TextIO) -> Iterator[str]:
    """The lines of `source`, each written to `out` as the csv reader takes it (it takes no line past a row)."""
    for line in source:
        out.write(line)
        yield line
