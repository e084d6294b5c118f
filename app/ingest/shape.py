"""Where the table is in a messy sheet, read from the shape of its rows: title rows, header, totals row, null tokens.

Pure functions over cell values (what calamine gives: str, float, int, bool, date, ...), so they are tested
without files. Each answer comes with the reason a user is shown beside the suggestion.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

from app.ingest.config import ImportConfig, column_letters
from app.ingest.money import plain_number
from app.ingest.notices import note
from app.ingest.notices.suggestions import HeaderBelowTitles, Placeholders, TitleRow, TotalsRow

#: Rows looked at from the top for title rows above the header.
HEADER_SCAN_ROWS = 30
#: Labels of a totals row, compared without case, spaces and a trailing colon.
FOOTER_LABELS = frozenset(
    {"合计", "总计", "小计", "合計", "總計", "小計", "total", "totals", "grandtotal", "subtotal", "sum"}
)
#: Of those, the labels of a group's subtotal row (app.ingest.subtotals).
SUBTOTAL_LABELS = frozenset({"小计", "小計", "subtotal"})
#: What a label is compared without: spaces and colons of either width (RE2 and Python alike), then in lower case.
LABEL_NOISE = "[\\s:\uff1a]+"
#: Rows at the end of a table searched for its totals row (blank rows around it included).
FOOTER_TAIL_ROWS = 50
#: Excel's formula errors as a workbook shows them (app.ingest.xlsx_errors) and "Save as CSV" writes them.
FORMULA_ERRORS = ("#N/A", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#NULL!", "#SPILL!", "#CALC!")
#: Formula errors in the words of a German, French or Spanish Excel or LibreOffice (#NV for #N/A, #WERT! for
#: #VALUE!, …), as their ods files and CSV exports hold them; and LibreOffice's own codes (Err:502).
LOCALIZED_ERRORS = ("#NV", "#WERT!", "#BEZUG!", "#ZAHL!", "#N/D", "#VALEUR!", "#NOM?", "#NOMBRE!")
LIBREOFFICE_ERROR = re.compile(r"^Err:\d{3}$")
#: Placeholders exports put in number and date cells for "no value", and formula errors (no value either).
NULL_TOKENS = (
    "N/A", "n/a", "NULL", "null", *FORMULA_ERRORS, *LOCALIZED_ERRORS, "NA", "-", "--", "—", "\u2013", "无", "空"
)  # fmt: skip

#: A note's `label: value` text, its colon full-width or not (编制单位, 币种, 打印日期 and what follows).
_LABELLED = re.compile("\\S[:\uff1a]")
Rows = Sequence[tuple[int, Sequence[Any]]]
Merged = Sequence[tuple[tuple[int, int], tuple[int, int]]]


def is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def narrow(fields: int, width: int) -> bool:
    """Whether a line of `fields` fields is too narrow to be a row of a `width`-column table (at most half as
    wide): the lines of a CSV's title block above the table (账号,6222… above a six-column statement)."""
    return fields <= max(1, width // 2)


def _filled(row: Sequence[Any]) -> list[tuple[int, Any]]:
    return [(position, value) for position, value in enumerate(row) if not is_empty(value)]


def _title(number: int, row: Sequence[Any], merged: Merged, first_col: int, width: int) -> TitleRow | None:
    """Why row `number` is a title (one text cell alone, or a merged cell across the width), or None."""
    filled = _filled(row)
    if len(filled) != 1 or not isinstance(filled[0][1], str) or width < 2:
        return None
    cell = f"{column_letters(first_col + filled[0][0])}{number}"
    for (r0, c0), (r1, c1) in merged:
        if r0 + 1 <= number <= r1 + 1 and c1 - c0 + 1 >= max(2, width // 2):
            span = f"{column_letters(c0 + 1)}{r0 + 1}:{column_letters(c1 + 1)}{r1 + 1}"
            return TitleRow(row=number, kind="merged", cells=span, title=filled[0][1].strip()[:40])
    return TitleRow(row=number, kind="cell", cells=cell, title=filled[0][1].strip()[:40])


def find_header(rows: Rows, merged: Merged, first_col: int, width: int) -> tuple[int, str | None]:
    """The header row (0: none) of rows from the table's top, and why when title rows were passed over.

    Title rows (a lone text cell, a merged cell spanning the width), notes (a few cells on a wide table) and
    blank rows above the first row of several text cells are skipped; a table whose first full row holds
    numbers has no header (or its first row, if that is text: the rule before titles were looked for).
    """
    titles: list[TitleRow] = []
    scanned = list(rows)[:HEADER_SCAN_ROWS]
    for at, (number, row) in enumerate(scanned):
        filled = _filled(row)
        if not filled:
            continue
        title = _title(number, row, merged, first_col, width)
        if title is not None:
            titles.append(title)
            continue
        if _texts_above_header(filled, scanned[at + 1 :], width):  # a report's 编制单位 and 币种 line above the header
            titles.append(TitleRow(row=number, kind="note", filled=len(filled), width=width))
            continue
        if not all(isinstance(value, str) for _, value in filled) and not _dates_over_data(filled, scanned[at + 1 :]):
            if len(filled) * 2 < width:  # a note such as 制表日期 | 2024-03-31 on a wide table
                titles.append(TitleRow(row=number, kind="note", filled=len(filled), width=width))
                continue
            break  # data before any header row: no header below titles
        if not titles:
            return number, None
        return number, note(HeaderBelowTitles(row=number, titles=titles))
    top = rows[0] if rows else None
    if top is not None:
        filled = _filled(top[1])
        if filled and all(isinstance(value, str) for _, value in filled):
            return top[0], None
    return 0, None


def _dates_over_data(filled: list[tuple[int, Any]], below: Rows) -> bool:
    """Whether a row of text and date cells (two dates at least) stands over a row of numbers: a monthly report's
    header of months as dates (2024-01, 2024-02 ... or 一月, 二月 shown from dates), not its first data row, which
    holds no date where the header has one and a number in one of those places at least."""
    dates = [position for position, value in filled if _is_date(value)]
    if len(dates) < 2 or not all(isinstance(value, str) or _is_date(value) for _, value in filled):
        return False
    following = next((row for _, row in below if _filled(row)), [])
    under = [following[position] if position < len(following) else None for position in dates]
    return not any(_is_date(value) for value in under) and any(is_number(value) for value in under)


def _is_date(value: Any) -> bool:
    """A date cell (with or without a time of day), as calamine gives one."""
    return isinstance(value, dt.date)


def _texts_above_header(filled: list[tuple[int, Any]], below: Rows, width: int) -> bool:
    """Whether a row of a few `label: value` text cells on a wide table (`narrow`) sits above a row of more text
    cells that is not narrow: a report's 编制单位 / 币种 line above its header, not the header. (A group row such as
    订单 | | 客户 over the names has no colons: it stays a header, which `header_rows` may join.)"""
    labelled = all(isinstance(value, str) and _LABELLED.search(value) for _, value in filled)
    if not narrow(len(filled), width) or not labelled:
        return False
    following = next((cells for _, row in below if (cells := _filled(row))), [])
    texts = all(isinstance(value, str) for _, value in following)
    return texts and len(following) > len(filled) and not narrow(len(following), width)


def totals_label(value: Any) -> str | None:
    """`value` stripped when it labels a totals row (合计, 合 计, 合计 and a colon, TOTAL: ...), else None."""
    if not isinstance(value, str):
        return None
    return value.strip() if label_key(value) in FOOTER_LABELS else None


def label_key(text: str) -> str:
    """A label as labels are compared (`合 计:` as 合计, `TOTAL:` as total)."""
    return re.sub(LABEL_NOISE, "", text).lower()


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-6 * max(1.0, abs(a), abs(b))


#: The configuration a cell's amount is read with (',' groups thousands, '.' is the point), as a preview suggests.
_DEFAULTS = ImportConfig()
#: A number written as text without a sign or unit (800.00, 1,000.00), which `plain_number` leaves alone.
_GROUPED = re.compile(r"^[+-]?([0-9]{1,3}(,[0-9]{3})+|[0-9]+)(\.[0-9]+)?$")


class Footer(NamedTuple):
    """A row shaped like a totals row, before its numbers are checked against the column sums."""

    number: int
    #: Rows to leave out from the end: blank rows after it, it, and blank rows between it and the data.
    skip: int
    label: str
    #: Its numbers by position in the row.
    totals: dict[int, float]


def footer_candidate(tail: Rows) -> Footer | None:
    """The last non-empty row of a table's last rows when it holds one label (合计, Total...) and numbers only."""
    filled_rows = [index for index, (_, row) in enumerate(tail) if _filled(row)]
    if not filled_rows:
        return None
    last = filled_rows[-1]
    number, row = tail[last]
    labels = [text for _, value in _filled(row) if (text := totals_label(value))]
    others = [(position, amount(value)) for position, value in _filled(row) if not totals_label(value)]
    if len(labels) != 1 or not others or any(value is None for _, value in others):
        return None
    previous = filled_rows[-2] if len(filled_rows) > 1 else -1
    return Footer(number, len(tail) - previous - 1, labels[0], {p: v for p, v in others if v is not None})


def amount(value: Any) -> float | None:
    """A cell's number: a number cell's, or an amount a ledger wrote as text (1,000.00, ¥1,000.00, 12.5万,
    (300.00)), as a text column of them reads (app.ingest.money); else None."""
    if is_number(value):
        return float(value)
    if not isinstance(value, str):
        return None
    text = value.strip()
    plain = plain_number(text, _DEFAULTS) or (text.replace(",", "") if _GROUPED.match(text) else None)
    try:
        number = float(plain) if plain is not None else math.nan
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def confirm_footer(footer: Footer, rows_above: Iterable[Sequence[Any]]) -> str | None:
    """Why `footer` is a totals row (each of its numbers is the sum of its column above it, or of the rows above it
    but its subtotal rows: an ERP report's 小计 after each group, whose 合计 adds the groups up once), or None."""
    every: dict[int, list[float]] = {position: [] for position in footer.totals}
    detail: dict[int, list[float]] = {position: [] for position in footer.totals}
    for row in rows_above:
        subtotal = any(totals_label(value) for value in row)
        for position in footer.totals:
            if position < len(row) and (value := amount(row[position])) is not None:
                every[position].append(value)
                detail[position] += [] if subtotal else [value]
    for columns in (every, detail):
        if all(columns[p] and _close(math.fsum(columns[p]), total) for p, total in footer.totals.items()):
            return note(TotalsRow(row=footer.number, label=footer.label))
    return None


def find_footer(rows: Rows) -> tuple[int, int, str] | None:
    """A totals row ending `rows` (a whole table's data rows): (its row number, rows to skip, why), or None."""
    footer = footer_candidate(rows[-FOOTER_TAIL_ROWS:])
    if footer is None:
        return None
    reason = confirm_footer(footer, (row for number, row in rows if number < footer.number))
    return None if reason is None else (footer.number, footer.skip, reason)


def null_tokens(names: Sequence[str], columns: Sequence[Sequence[Any]]) -> tuple[list[str], list[Placeholders]]:
    """Placeholders that alone make a number or date column text, and the why for each column they break."""
    found: list[str] = []
    reasons: list[Placeholders] = []
    for name, values in zip(names, columns, strict=True):
        texts = _placeholders(values)
        if not texts:
            continue
        typed = [v for v in values if is_number(v) or isinstance(v, dt.date | dt.time)]
        if len(typed) < len(texts):
            continue
        tokens = sorted(set(texts), key=lambda t: (NULL_TOKENS.index(t) if t in NULL_TOKENS else len(NULL_TOKENS), t))
        found += [token for token in tokens if token not in found]
        reasons.append(Placeholders(column=name, tokens=tokens, values=len(typed)))
    return found, reasons


def _placeholders(values: Sequence[Any]) -> list[str]:
    """The column's texts (stripped, blanks left out) when every one is a placeholder, else none: it stops at the
    first text that is not (a column of words, most of them, costs one look, not one per cell)."""
    texts = []
    for value in values:
        if isinstance(value, str) and (text := value.strip()):
            if not _placeholder(text):
                return []
            texts.append(text)
    return texts


def _placeholder(text: str) -> bool:
    return text in NULL_TOKENS or LIBREOFFICE_ERROR.match(text) is not None


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
