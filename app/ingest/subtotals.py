"""Subtotal rows among the data: an ERP or finance report's 小计 row after each group (部门 | 员工 | 工资 with a
`小计 | | 15,500.00` row below each department). They are read as data, as the file holds them (a row is never left
out unasked, and no setting leaves out rows in the middle of a table), so a sum over a column counted each group
twice without a word: the preview and the import say so, naming the column that labels them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import duckdb

from app.ingest.columns import Planned
from app.ingest.duck import ident, literal
from app.ingest.models import ColumnStats
from app.ingest.notices import note
from app.ingest.notices.columns import SubtotalRows
from app.ingest.shape import LABEL_NOISE, SUBTOTAL_LABELS, label_key

#: Text columns of a data file an import looks in (the label is in one of the first, as in a spreadsheet).
CHECKED_COLUMNS = 3
#: Rows at the start of a table an import looks through for a subtotal row before it reads them all (a group of more
#: rows than this whose first subtotal row is past them is not named: an ERP report's groups are far shorter).
FIRST_ROWS = 100_000


def _label_pattern() -> str:
    """An RE2 pattern a whole text matches when its `shape.label_key` is a subtotal label: each label's characters in
    order, in any case, with the noise the key drops around and between them. One match a value, where building the
    key in SQL (regexp_replace, lower) cost 2.5 times the CPU over a table's text columns (10M rows: 7.6 against 3.1
    CPU-s), on every import."""
    noise = LABEL_NOISE.removesuffix("+") + "*"
    labels = "|".join(noise.join(re.escape(char) for char in label) for label in sorted(SUBTOTAL_LABELS))
    return f"(?i){noise}(?:{labels}){noise}"


def shown(planned: Sequence[Planned], rows: Sequence[Sequence[Any]]) -> list[str]:
    """What a preview says of the subtotal rows among the `rows` it shows (its included columns, in order)."""
    kept = [p for p in planned if p.include]
    for position, p in enumerate(kept):
        if p.type != "string":
            continue
        found = [v for row in rows if isinstance(v := row[position], str) and label_key(v) in SUBTOTAL_LABELS]
        if found:
            return [note(SubtotalRows(column=p.name, label=found[0].strip(), count=len(found)))]
    return []


def written(conn: duckdb.DuckDBPyConnection, data: str, stats: Sequence[ColumnStats]) -> list[str]:
    """What an import says of the subtotal rows of the data file `data` (its columns `stats`): a read of its first
    text columns' first FIRST_ROWS rows, and of all their rows only when those hold a subtotal row (a report that has
    them has one after each group), so a table without any, most of them, costs a look at its start."""
    texts = [c.name for c in stats if c.type == "string"][:CHECKED_COLUMNS]
    if not texts:
        return []
    pattern = literal(_label_pattern())
    parts = ", ".join(
        f"count(*) FILTER (WHERE regexp_full_match({ident(name)}, {pattern})), "
        f"any_value(trim({ident(name)})) FILTER (WHERE regexp_full_match({ident(name)}, {pattern}))"
        for name in texts
    )
    columns = ", ".join(ident(name) for name in texts)
    first = f"(SELECT {columns} FROM read_parquet({literal(data)}) LIMIT {FIRST_ROWS})"
    if not any((conn.execute(f"SELECT {parts} FROM {first}").fetchone() or ())[::2]):
        return []
    found = conn.execute(f"SELECT {parts} FROM read_parquet({literal(data)})").fetchone() or ()
    for index, name in enumerate(texts):
        count, label = found[2 * index], found[2 * index + 1]
        if count:
            return [note(SubtotalRows(column=name, label=label, count=count))]
    return []
