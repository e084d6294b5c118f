"""Workbook headers over several rows: how many rows a header spans, and the column names they make together.

Reports exported from finance and ERP systems (and many a hand-made sheet) group columns under a merged cell:

    地区 | 2023年 (merged over 2) | 2024年 (merged over 2)
         | 收入 | 成本           | 收入 | 成本

Read as a one-row header, every column under 2023年 was named 2023年, 2023年_2, ... and the row of 收入 | 成本
became the first data row (so every amount column read as text). Here the rows are joined per column, top to
bottom, with `_`: 地区, 2023年_收入, 2023年_成本, 2024年_收入, 2024年_成本. A merged cell names every column
under it; a cell merged down over the header rows names its column once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

#: Most rows a header may span (`header_rows`); deeper groupings are rare and their names unreadable.
MAX_HEADER_ROWS = 3
#: Joins one column's names from the header rows, top to bottom.
JOINER = "_"

#: calamine's merged ranges: ((first row, first column), (last row, last column)), 0-based and inclusive.
Merged = Sequence[tuple[tuple[int, int], tuple[int, int]]]


def header_depth(row_at: Callable[[int], list[Any]], merged: Merged, header_row: int, first_col: int) -> int:
    """Rows the header starting at `header_row` spans: 1, or more while a row's merged cells stand over a row of
    names (every cell under each merged cell filled, and that row holding text only), or while a cell merged down
    from `header_row` reaches a row of text (地区 merged over 3 rows beside 2023年 / 收入 / 万元: a units row was
    read as the first data row, and every amount column as text)."""
    depth = 1
    while depth < MAX_HEADER_ROWS:
        row = header_row + depth - 1
        below = row_at(row + 1)  # its cells from column `first_col` on
        filled = [value for value in below if not _blank(value)]
        if not filled or not all(isinstance(value, str) for value in filled):
            break
        down = any(r0 + 1 == header_row and r1 + 1 > row for (r0, _), (r1, _) in merged)
        spans = [(c0, c1) for (r0, c0), (r1, c1) in merged if r0 + 1 == row == r1 + 1 and c1 > c0]
        under = [_at(below, c + 1 - first_col) for c0, c1 in spans for c in range(c0, c1 + 1)]
        grouped = bool(spans) and len(filled) >= 2 and not any(_blank(value) for value in under)
        if not (grouped or down):
            break
        depth += 1
    return depth


def joined_names(rows: Sequence[list[Any]], merged: Merged, header_row: int, first_col: int) -> list[Any]:
    """One name per column from the header rows `rows` (the first is `header_row`): each row's dates named
    (`dates_named`) and merged cells filled across, then each column's texts joined top to bottom, a repeat (a
    cell merged down) left out."""
    width = max((len(row) for row in rows), default=0)
    levels = [
        filled_across(dates_named(row) + [None] * (width - len(row)), merged, header_row + i, first_col)
        for i, row in enumerate(rows)
    ]
    names: list[Any] = []
    for column in range(width):
        parts: list[str] = []
        for level in levels:
            text = _text(level[column])
            if text and (not parts or parts[-1] != text):
                parts.append(text)
        names.append(JOINER.join(parts) or None)
    return names


def filled_across(row: list[Any], merged: Merged, number: int, first_col: int) -> list[Any]:
    """Row `number`'s cells (from column `first_col` on; changed in place) with each merged cell's value in every
    column it covers on that row: a row a merged cell reaches from above gets blanks there."""
    for (r0, c0), (r1, c1) in merged:
        if r0 + 1 <= number <= r1 + 1 and c1 > c0:
            value = _at(row, c0 + 1 - first_col) if r0 + 1 == number else None
            for column in range(c0 + 1, c1 + 2):
                if 0 <= column - first_col < len(row):
                    row[column - first_col] = value
    return row


def dates_named(row: Sequence[Any]) -> list[Any]:
    """A header row's date cells as names (a monthly report's months as dates): the year and month (2024-01) when
    they are two or more and all firsts of a month, else the ISO date (2024-01-15; with its time of day, when it
    has one). Written out as calamine gives them they read 2024-01-01 00:00:00, or made the row no header."""
    dates = [value for value in row if isinstance(value, dt.date)]
    monthly = len(dates) > 1 and all(value.day == 1 and not _time_of_day(value) for value in dates)

    def name(value: Any) -> Any:
        if not isinstance(value, dt.date):
            return value
        if monthly:
            return f"{value.year:04d}-{value.month:02d}"
        if isinstance(value, dt.datetime):
            return value.isoformat(sep=" ") if _time_of_day(value) else value.date().isoformat()
        return value.isoformat()

    return [name(value) for value in row]


def _time_of_day(value: dt.date) -> bool:
    return isinstance(value, dt.datetime) and value.time() != dt.time()


def _at(row: Sequence[Any], index: int) -> Any:
    return row[index] if 0 <= index < len(row) else None


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _text(value: Any) -> str:
    """A header cell as text: a year typed as a number (2023.0) reads 2023."""
    if _blank(value):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()
