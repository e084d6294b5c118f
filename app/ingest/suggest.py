"""What a preview suggests to set, and why: the sheet, the header row, a totals row to skip, null placeholders.

The sheet and the header row are already what the preview shows (they are chosen the same way on import);
a totals row and null placeholders change which rows and types an import gives, so they are only suggested:
`suggested_config` is the configuration as sent with every suggestion applied, for the console or the CLI to
offer as "apply".
"""

from __future__ import annotations

import csv
import datetime as dt
from collections import deque
from collections.abc import Iterator
from itertools import islice
from typing import Any, NamedTuple

import msgspec

from app.ingest import excel_reader
from app.ingest.columns import Planned, transposed
from app.ingest.config import ColumnSpec, ImportConfig
from app.ingest.convert import CHINESE_BOOLEANS
from app.ingest.csv_reader import separator_hint
from app.ingest.date_forms import CHINESE_DATES, DIGIT_DATE, digit_date, mixed_date_formats
from app.ingest.models import SheetInfo, Suggestion
from app.ingest.money import plain_number
from app.ingest.notices import note
from app.ingest.notices.file import FooterKept
from app.ingest.notices.suggestions import (
    LargestSheet,
    NullPlaceholders,
    Placeholders,
    SheetSize,
    SummaryLines,
    TitleLines,
    TypedColumn,
    TypedColumns,
)
from app.ingest.number_separators import GROUPED, PLAIN, decimal_comma, thousands_separator
from app.ingest.shape import (
    FOOTER_TAIL_ROWS,
    amount,
    confirm_footer,
    footer_candidate,
    is_number,
    narrow,
    null_tokens,
    totals_label,
)
from app.ingest.utc_offsets import OFFSET_FORM, offset_time

#: Data rows whose sums a totals row is checked against, at most (a longer sheet gets no footer suggestion).
FOOTER_SCAN_ROWS = 100_000
#: A number written with ',' between groups of three digits, and one without.


def excel_suggestions(
    sheet: Any,
    plan: excel_reader.ExcelPlan,
    config: ImportConfig,
    sheets: list[SheetInfo],
    *,
    whole: bool,
) -> list[Suggestion]:
    """Suggestions for a loaded sheet; `whole` says the sheet was loaded to its end (not a preview's cut)."""
    found: list[Suggestion] = []
    if config.sheet is None and len(sheets) > 1:
        found.append(_sheet(sheets, plan.sheet_index))
    if config.header_row is None and plan.header_reason:
        found.append(Suggestion(field="header_row", value=plan.header_row, reason=plan.header_reason))
    footer = totals_row(sheet, plan) if whole and plan.last_row is None and not config.skip_footer else None
    if footer is not None:
        found.append(footer)
    end = (sheet.start or (0, 0))[0] + sheet.height - (footer.value if footer else 0)  # last data row
    sample = [row for number, row in _data_rows(sheet, plan, excel_reader.SAMPLE_ROWS) if number <= end]
    given = set(config.null_values or ())
    cells = transposed(sample, len(plan.positions))
    columns = [[None if v in given else v for v in cells[p.index]] for p in plan.columns]
    tokens, reasons = null_tokens([p.source for p in plan.columns], [[_as_value(v) for v in c] for c in columns])
    if tokens:
        found.append(_nulls(config, tokens, reasons))
    typed = {source for source, spec in (config.columns or {}).items() if spec.type}
    texts = [
        (p.source, values)
        for p, values in zip(plan.columns, columns, strict=True)
        if p.type == "string" and p.source not in typed
    ]
    grouped = thousands_separator(texts, config)
    digits = [
        (p.source, values)
        for p, values in zip(plan.columns, columns, strict=True)
        if p.type == "integer" and p.source not in typed
    ]
    money = column_types(texts, config, digits)  # amounts, 是/否 and dates written as text, as in a CSV
    return found + [s for s in (grouped, money) if s is not None]


def _data_rows(sheet: Any, plan: excel_reader.ExcelPlan, count: int) -> Iterator[tuple[int, list[Any]]]:
    """Up to `count` data rows as (row number, cells cut to the table's columns), streamed."""
    start_row, start_col = sheet.start or (0, 0)
    first, last = plan.positions[0], plan.positions[-1]
    rows = islice(sheet.iter_rows(), max(plan.first_data_row - start_row - 1, 0), None)
    for number, row in enumerate(islice(rows, count), start=max(plan.first_data_row, start_row + 1)):
        if plan.last_row is not None and number > plan.last_row:
            return
        yield number, excel_reader.cut_row(row, start_col, first, last)


def totals_row(sheet: Any, plan: excel_reader.ExcelPlan) -> Suggestion | None:
    """`skip_footer` for a totals row ending the sheet, or None.

    The sheet's last rows are taken at C speed; only a row shaped like a totals row has its numbers
    checked against the column sums, by a second pass over at most FOOTER_SCAN_ROWS data rows.
    """
    start_row, start_col = sheet.start or (0, 0)
    first, last = plan.positions[0], plan.positions[-1]
    skipped = max(plan.first_data_row - start_row - 1, 0)
    raw = deque(islice(sheet.iter_rows(), skipped, None), maxlen=FOOTER_TAIL_ROWS)
    end = start_row + sheet.height  # the sheet's last row, 1-based
    tail = [(end - len(raw) + 1 + i, excel_reader.cut_row(row, start_col, first, last)) for i, row in enumerate(raw)]
    footer = footer_candidate(tail)
    if footer is None or footer.number - plan.first_data_row > FOOTER_SCAN_ROWS:
        return None
    above = _data_rows(sheet, plan, footer.number - plan.first_data_row)
    reason = confirm_footer(footer, (row for _, row in above))
    return None if reason is None else Suggestion(field="skip_footer", value=footer.skip, reason=reason)


def kept_footer(footer: Suggestion) -> str:
    """What an import says about the footer it read as data (`skip_footer` unset): the preview suggests it."""
    return note(FooterKept(skip=footer.value, reason=footer.reason))


def _sheet(sheets: list[SheetInfo], chosen: int) -> Suggestion:
    def size(info: SheetInfo) -> SheetSize:
        return SheetSize(name=info.name, rows=info.rows, columns=info.columns, hidden=not info.visible)

    others = [size(info) for info in sheets if info.index != chosen]
    reason = note(LargestSheet(sheet=size(sheets[chosen]), others=others))
    return Suggestion(field="sheet", value=sheets[chosen].name, reason=reason)


def text_suggestions(
    planned: list[Planned], rows: list[tuple[Any, ...]], config: ImportConfig, delimiter: str | None = None
) -> list[Suggestion]:
    """Null placeholders that make a CSV column of numbers or dates text, from the rows a preview read; a decimal
    comma where the file's `delimiter` is ';' and text columns hold numbers written 1.234,50."""
    kept = [p for p in planned if p.include]
    typed = {source for source, spec in (config.columns or {}).items() if spec.type}
    texts = [(position, p.source) for position, p in enumerate(kept) if p.type == "string" and p.source not in typed]
    columns = [[_as_value(row[position]) for row in rows] for position, _ in texts]
    tokens, reasons = null_tokens([name for _, name in texts], columns)
    grouped = thousands_separator([(name, [row[position] for row in rows]) for position, name in texts], config)
    digits = [
        (p.source, [row[position] for row in rows])
        for position, p in enumerate(kept)
        if p.type == "integer" and p.source not in typed
    ]
    money = column_types([(name, [row[position] for row in rows]) for position, name in texts], config, digits)
    found = [_nulls(config, tokens, reasons)] if tokens else []
    commas = decimal_comma([(name, [row[position] for row in rows]) for position, name in texts], config, delimiter)
    return found + [s for s in (grouped, money) if s is not None] + commas


def column_types(
    columns: list[tuple[str, list[Any]]],
    config: ImportConfig,
    digits: list[tuple[str, list[Any]]],
) -> Suggestion | None:
    """`columns` with types for text columns that are amounts or Chinese dates, as bills write them: `decimal`
    where some values carry a currency sign (¥1,234.56, 20.00元), a % or accounting parentheses and the rest are
    plain numbers (app.ingest.money); `boolean` for 是/否; `date`/`datetime` with a format for 2026年12月4日 (each
    column its own, in a CSV too: app.ingest.csv_reader._formats); `date` with a list of formats for a column
    written several ways (2026年1月5日, 2026/01/06, 20260109). A workbook column's number cells count in a decimal's
    scale, so none is rounded. Of the integer columns `digits`, one whose every value is a date written 20240105
    (`digit_date`) is suggested `date` with DIGIT_DATE: it is read as integers unless the suggestion is applied."""
    nulls = set(config.null_values or ())
    specs = dict(config.columns or {})
    named = []
    for name, values in columns:
        texts = [t for v in values if isinstance(v, str) and v not in nulls and (t := v.strip())]
        amounts = _amounts(texts, config)
        marked = [t for t, a in zip(texts, amounts, strict=True) if a != t] if amounts is not None else []
        spec = specs.get(name, ColumnSpec())
        if amounts is not None and marked:
            numbers = [repr(float(v)) for v in values if is_number(v)]
            scale = max(len(a.partition(".")[2]) for a in [*amounts, *numbers] if "e" not in a)
            specs[name] = msgspec.structs.replace(spec, type="decimal", scale=scale)
            named.append(TypedColumn(column=name, type="decimal", example=marked[0]))
            continue
        if texts and all(t in CHINESE_BOOLEANS for t in texts):
            specs[name] = msgspec.structs.replace(spec, type="boolean")
            named.append(TypedColumn(column=name, type="boolean"))
            continue
        if texts and (forms := mixed_date_formats(texts)):
            specs[name] = msgspec.structs.replace(spec, type="date", format=forms)
            named.append(TypedColumn(column=name, type="date", format=", ".join(forms), example=texts[0]))
            continue
        if texts and all(offset_time(t) for t in texts):  # read as instants (app.ingest.utc_offsets)
            specs[name] = msgspec.structs.replace(spec, type="datetime")
            named.append(TypedColumn(column=name, type="datetime", format=OFFSET_FORM, example=texts[0]))
            continue
        for pattern, kind, form in CHINESE_DATES:
            if texts and all(pattern.match(t) for t in texts):
                specs[name] = msgspec.structs.replace(spec, type=kind, format=form)
                named.append(TypedColumn(column=name, type=kind, format=form, example=texts[0]))  # type: ignore[arg-type]
                break
    for name, values in digits:
        present = [v for v in values if v is not None]
        if present and all(digit_date(v) for v in present):
            specs[name] = msgspec.structs.replace(specs.get(name, ColumnSpec()), type="date", format=DIGIT_DATE)
            named.append(TypedColumn(column=name, type="date", format=DIGIT_DATE, example=str(int(present[0]))))
    if not named:
        return None
    return Suggestion(field="columns", value=specs, reason=note(TypedColumns(columns=named)))


def _amounts(texts: list[str], config: ImportConfig) -> list[str] | None:
    """Each of `texts` as the plain number `plain_number` reads (itself where it reads none), when every one is then
    a number (1,234.50 too: thousands_separator); else None, at the first that is not, so a column of words costs
    one value's reading, not one per value (a 1000 x 1000 sheet's preview spent 1.5 CPU-s here)."""
    amounts = []
    for text in texts:
        amount = plain_number(text, config) or text
        if not (PLAIN.match(amount) or GROUPED.match(amount)):
            return None
        amounts.append(amount)
    return amounts


def _as_value(text: Any) -> Any:
    """A text cell as the number or date it spells (an amount as a ledger writes it too: 1,000.00, ¥20.00, 12.5%,
    (300.00)), else as it is."""
    if not isinstance(text, str):
        return text
    if (number := amount(text)) is not None:
        return number
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        return text


def _nulls(config: ImportConfig, tokens: list[str], reasons: list[Placeholders]) -> Suggestion:
    return Suggestion(
        field="null_values",
        value=[*(config.null_values or []), *tokens],
        reason=note(NullPlaceholders(columns=reasons)),
    )


def suggested_config(config: ImportConfig, suggestions: list[Suggestion]) -> ImportConfig | None:
    """`config` with every suggestion applied, or None when there is none."""
    if not suggestions:
        return None
    return msgspec.structs.replace(config, **{s.field: s.value for s in suggestions}).validate()


#: Lines of a text file looked at for a title block above the table.
TITLE_SCAN_LINES = 30


class TitleBlock(NamedTuple):
    """Where a CSV's table starts below a title block: the header's 0-based line, its width, its delimiter."""

    start: int
    width: int
    delimiter: str
    reason: str


def csv_title_block(text: str, config: ImportConfig) -> TitleBlock | None:
    """The table below a title block (bank statements, Alipay and WeChat Pay bills start with 交易明细,
    账号,6222…, 起止日期: …, 收入:3笔 1,234.56元): see `_table_start`. Without it the title became the only
    header and every table row a "too many columns" error."""
    lines = text.splitlines()[:TITLE_SCAN_LINES]
    if lines and separator_hint(lines[0]) is not None:
        return None  # Excel's `sep=;` line: the header is already looked for below it
    found = []
    for delimiter in [config.delimiter] if config.delimiter else [",", "\t", ";", "|"]:
        counts = [_fields(line, delimiter, config.quote or '"') for line in lines]
        filled = [_fields(line, delimiter, config.quote or '"', filled=True) for line in lines]
        start = _table_start(counts, filled)
        if start is not None:
            found.append((counts[start], start, delimiter))
    # the widest table wins: a WeChat bill pads cells with a tab, and split at tabs its data rows made a
    # narrower table one row below the real header (header_row 9 for a header on line 8)
    width, start, delimiter = max(found, key=lambda item: item[0], default=(0, 0, ""))
    if not start:
        return None  # no table found, or one starting on line 1: no title block
    titles = [line.strip()[:30] for line in lines[:start] if line.strip()]
    return TitleBlock(start, width, delimiter, note(TitleLines(last=start, titles=titles, columns=width)))


def csv_title_rows(text: str, config: ImportConfig) -> Suggestion | None:
    """`header_row` for a CSV whose table starts below a title block (`csv_title_block`)."""
    block = csv_title_block(text, config)
    return None if block is None else Suggestion(field="header_row", value=block.start + 1, reason=block.reason)


def _table_start(counts: list[int], filled: list[int]) -> int | None:
    """The index of the first line after which the field count is stable: a line of at least two fields, most of
    them filled, followed by one as wide, no later line wider, and every line above it narrow in the fields it
    fills (a title block's lines hold one field, or two: 账号,6222…; Excel's "Save as CSV" pads them with commas to
    the table's width, `金蝶K/3 应收款明细表,,,,,`). None when no line is so."""
    for start, width in enumerate(counts):
        if width < 2 or narrow(filled[start], width) or not _title_lines(counts, filled, start):
            continue
        after = counts[start + 1 :]
        if after and after[0] == width and all(count <= width for count in after):
            return start
    return None


def _title_lines(counts: list[int], filled: list[int], start: int) -> bool:
    """Whether the lines above `start` can be a title block over its table: each narrow in the fields it fills;
    or, beside at least one such line holding text (交易明细), lines shorter than the table and less filled than
    its header (账号,6222… above a three-column statement: two of three fields is no narrow line)."""
    width, above = counts[start], range(start)
    if all(narrow(filled[i], width) for i in above):
        return True
    titled = any(filled[i] > 0 and narrow(filled[i], width) for i in above)
    return titled and all(narrow(filled[i], width) or (counts[i] < width and filled[i] < filled[start]) for i in above)


def csv_footer(tail: str, delimiter: str, quote: str, width: int) -> Suggestion | None:
    """`skip_footer` for the summary lines ending a CSV (共8笔记录, 已收入:8笔 1,234.56元, a `#-----` rule) and a
    totals row above them (合计,,5000.00,150.00: its first cell a totals label, as wide as the table or wider).

    Summary lines are the last records with fewer fields than the table, below at least one that is not. Fewer,
    not `narrow` as a title block's lines: 已支出:2笔 1,234.56元 splits at its comma into two fields, most of a
    three-column statement, and a line short of the table's fields is no row DuckDB reads anyway (it is a
    "missing columns" error). Without it a strict import failed on them and a lenient one rejected them. A
    totals row is read as a row, its label in a date or number column turning it to text; only its first cell
    counts, so a data row with 合计 in its 摘要 is data."""
    try:
        records = list(csv.reader(tail.splitlines(), delimiter=delimiter, quotechar=quote or None))
    except csv.Error:
        return None
    # fields as split, empty ones too: a sparse data row (x,,,) keeps the table's width, a summary line does not
    rows = [record for record in records if any(field.strip() for field in record)]
    summary = 0
    while summary < len(rows) and len(rows[-1 - summary]) < width:
        summary += 1
    label = totals_label(rows[-1 - summary][0]) if summary < len(rows) - 1 else None
    skip = summary + (label is not None)
    if not skip or summary == len(rows) or width < 2:
        return None
    lines = [line.strip() for line in tail.splitlines() if line.strip()][-skip:]
    shown = [line[:30] for line in lines[-summary:][:5]] if summary else []
    totals = lines[0][:40] if label is not None else None
    reason = note(SummaryLines(totals=totals, label=label, summary=summary, lines=shown, width=width))
    return Suggestion(field="skip_footer", value=skip, reason=reason)


def _fields(line: str, delimiter: str, quote: str, *, filled: bool = False) -> int:
    """How many fields `line` splits into (`filled`: that are not blank; 0 when blank; a line the csv module
    refuses counts as one field)."""
    if not line.strip():
        return 0
    try:
        fields = next(csv.reader([line], delimiter=delimiter, quotechar=quote))
    except csv.Error:  # a field past the module's 128 KiB limit
        return 1
    return sum(1 for field in fields if field.strip()) if filled else len(fields)
