"""A CSV import's `limit` (or a `range`'s last row) as the file's first rows, not as the first rows read.

`read_csv(...) LIMIT n` stops after n rows it returned: a row DuckDB rejected (a value its column does not read),
or one the SELECT leaves out (an amount that does not convert), was not counted, so row n+1 came in in its place,
past the end the user set. The import reads instead a copy of the file cut after its first n rows (records:
a quoted cell may hold line breaks), so a bad row among them is rejected and nothing past them is read. The copy
costs the rows asked for, not the file.
"""

from __future__ import annotations

from pathlib import Path

import msgspec

from app.ingest.csv_reader import CsvPlan


def cut(plan: CsvPlan, target: Path) -> CsvPlan:
    """`plan` reading `target`: the `plan.skip` lines above its data and its first `plan.limit` rows, written
    there as UTF-8 (the file's own line ends); `plan` itself without a limit."""
    if not plan.limit:
        return plan
    return first_rows(plan, plan.limit, target)[0]


def first_rows(plan: CsvPlan, rows: int, target: Path) -> tuple[CsvPlan, bool]:
    """`plan` reading `target`: the `plan.skip` lines above its data and its first `rows` rows, written there as
    UTF-8 (the file's own line ends); and whether they are all of the file's rows."""
    codec = "utf-8-sig" if plan.encoding.lower().replace("_", "-") in ("utf-8", "utf8") else plan.encoding
    written = quotes = 0
    with (
        open(plan.path, encoding=codec, errors="surrogateescape", newline="") as source,
        open(target, "w", encoding="utf-8", errors="surrogateescape", newline="") as out,
    ):
        for _ in range(plan.skip):
            out.write(source.readline())
        for line in source:
            out.write(line)
            inside = quotes % 2 == 1
            quotes += _quotes(line, plan.quote, plan.escape)
            if quotes % 2 == 0 and (inside or line.strip("\r\n")):  # a line end outside a quoted cell ends a row;
                written += 1  # a blank line is none (read_csv skips it)
                if written >= rows:
                    break
    return msgspec.structs.replace(plan, path=str(target), encoding="utf-8"), written < rows


def blank_lines(plan: CsvPlan, rows: int) -> list[int]:
    """The lines of `plan`'s file that are blank among its data up to its `rows`-th row that is not, numbered as
    DuckDB's reader numbers the lines it rejects (a row with line breaks in a quoted cell is one line, a blank
    line is one): read_csv skips them without a word, so a read's `n`-th row is that many lines further down.
    None in a file of one column, where DuckDB reads a blank line as a row of NULL."""
    if len(plan.columns) < 2 or rows <= 0:
        return []
    codec = "utf-8-sig" if plan.encoding.lower().replace("_", "-") in ("utf-8", "utf8") else plan.encoding
    blank: list[int] = []
    line, seen, quotes = plan.skip, 0, 0
    with open(plan.path, encoding=codec, errors="surrogateescape", newline="") as source:
        for _ in range(plan.skip):
            source.readline()
        for text in source:
            if quotes % 2 == 0:  # a line end outside a quoted cell ended the row before: this line starts one
                line += 1
                if not text.strip("\r\n"):
                    blank.append(line)
                    continue
                seen += 1
                if seen > rows:
                    break
            quotes += _quotes(text, plan.quote, plan.escape)
    return blank


def _quotes(line: str, quote: str, escape: str) -> int:
    """The quote characters of `line` that open or close a quoted cell (a doubled one counts twice, which keeps
    the parity; one after an escape character other than the quote does not count). Counted, not parsed with
    Python's csv module, whose cell limit is one setting for the whole process."""
    if not quote:
        return 0
    count = line.count(quote)
    if escape and escape != quote:
        count -= line.count(escape + quote)
    return count
