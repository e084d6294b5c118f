"""Where the table is in a messy sheet, read from the shape of its rows: title rows, header, totals row, null tokens.

Pure functions over cell values (what calamine gives: str, float, int, bool, date, ...), so they are tested
without files. Each answer comes with the reason a user is shown beside the suggestion.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable, Sequence
from typing import Any

from workers.ingest.config import column_letters

#: Rows looked at from the top for title rows above the header.
HEADER_SCAN_ROWS = 30
#: Labels of a totals row, compared without case, spaces and a trailing colon.
FOOTER_LABELS = frozenset(
    {"合计", "总计", "小计", "合計", "總計", "小計", "total", "totals", "grandtotal", "subtotal", "sum"}
)
#: Placeholders exports put in number and date cells for "no value".
NULL_TOKENS = ("N/A", "n/a", "#N/A", "NA", "-", "--", "—", "\u2013", "无", "空")

Rows = Sequence[tuple[int, Sequence[Any]]]
Merged = Sequence[tuple[tuple[int, int], tuple[int, int]]]


def is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _filled(row: Sequence[Any]) -> list[tuple[int, Any]]:
    return [(position, value) for position, value in enumerate(row) if not is_empty(value)]


def _title(number: int, row: Sequence[Any], merged: Merged, first_col: int, width: int) -> str | None:
    """Why row `number` is a title (one text cell alone, or a merged cell across the width), or None."""
    filled = _filled(row)
    if len(filled) != 1 or not isinstance(filled[0][1], str) or width < 2:
        return None
    cell = f"{column_letters(first_col + filled[0][0])}{number}"
    for (r0, c0), (r1, c1) in merged:
        if r0 + 1 <= number <= r1 + 1 and c1 - c0 + 1 >= max(2, width // 2):
            span = f"{column_letters(c0 + 1)}{r0 + 1}:{column_letters(c1 + 1)}{r1 + 1}"
            return f"row {number} is a title merged across {span} ({filled[0][1].strip()[:40]!r})"
    return f"row {number} is a title: one text cell {cell} ({filled[0][1].strip()[:40]!r})"


def find_header(rows: Rows, merged: Merged, first_col: int, width: int) -> tuple[int, str | None]:
    """The header row (0: none) of rows from the table's top, and why when title rows were passed over.

    Title rows (a lone text cell, a merged cell spanning the width), notes (a few cells on a wide table) and
    blank rows above the first row of several text cells are skipped; a table whose first full row holds
    numbers has no header (or its first row, if that is text: the rule before titles were looked for).
    """
    titles: list[str] = []
    for number, row in list(rows)[:HEADER_SCAN_ROWS]:
        filled = _filled(row)
        if not filled:
            continue
        title = _title(number, row, merged, first_col, width)
        if title is not None:
            titles.append(title)
            continue
        if not all(isinstance(value, str) for _, value in filled):
            if len(filled) * 2 < width:  # a note such as 制表日期 | 2024-03-31 on a wide table
                titles.append(f"row {number} is a note ({len(filled)} of {width} cells)")
                continue
            break  # data before any header row: no header below titles
        if not titles:
            return number, None
        return number, f"{'; '.join(titles)}; row {number} is the first row of column names below"
    top = rows[0] if rows else None
    if top is not None:
        filled = _filled(top[1])
        if filled and all(isinstance(value, str) for _, value in filled):
            return top[0], None
    return 0, None


def _label(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    text = re.sub("[\\s:\uff1a]+", "", value).lower()
    return value.strip() if text in FOOTER_LABELS else None


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-6 * max(1.0, abs(a), abs(b))


def find_footer(rows: Iterable[tuple[int, Sequence[Any]]]) -> tuple[int, int, str] | None:
    """A totals row at the end of the data rows: (its row number, rows to skip from the end, why), or None.

    The last non-empty row qualifies when it holds a label such as 合计 or Total, nothing but numbers
    besides, and each of those numbers equals the sum of its column in the rows above it. The rows are
    streamed: only running column sums and the last non-empty row are kept.
    """
    sums: dict[int, float] = {}
    candidate: tuple[int, Sequence[Any]] | None = None
    blank_before = blank_after = 0
    for number, row in rows:
        if not _filled(row):
            blank_after += 1
            continue
        if candidate is not None:
            for position, value in enumerate(candidate[1]):
                if is_number(value):
                    sums[position] = sums.get(position, 0.0) + value
        candidate, blank_before, blank_after = (number, row), blank_after, 0
    if candidate is None or not sums:
        return None
    number, footer = candidate
    labels = [(position, text) for position, value in _filled(footer) if (text := _label(value))]
    others = [(position, value) for position, value in _filled(footer) if position not in dict(labels)]
    if len(labels) != 1 or not others or not all(is_number(value) for _, value in others):
        return None
    if not all(position in sums and _close(sums[position], total) for position, total in others):
        return None
    reason = f"row {number} ({labels[0][1]!r}) holds the sums of the columns above it: a totals row, not data"
    return number, blank_before + 1 + blank_after, reason


def null_tokens(names: Sequence[str], columns: Sequence[Sequence[Any]]) -> tuple[list[str], list[str]]:
    """Placeholders that alone make a number or date column text, and the why for each column they break."""
    found: list[str] = []
    reasons: list[str] = []
    for name, values in zip(names, columns, strict=True):
        texts = [v.strip() for v in values if isinstance(v, str) and v.strip()]
        typed = [v for v in values if is_number(v) or isinstance(v, dt.date | dt.time)]
        if not texts or len(typed) < len(texts) or not set(texts) <= set(NULL_TOKENS):
            continue
        tokens = sorted(set(texts), key=NULL_TOKENS.index)
        found += [token for token in tokens if token not in found]
        reasons.append(f"{', '.join(map(repr, tokens))} among the {len(typed)} values of column {name!r}")
    return found, reasons


def largest_sheet(sizes: Sequence[tuple[int, int] | None], visible: Sequence[bool]) -> int:
    """The visible sheet with the most cells (rows x columns), the first on a tie; 0 when none is known."""
    best, best_cells = 0, -1
    for index, size in enumerate(sizes):
        if size is None or not visible[index]:
            continue
        cells = size[0] * size[1]
        if cells > best_cells:
            best, best_cells = index, cells
    return best
