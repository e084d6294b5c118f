"""Why the preview suggests a setting (a suggestion's `reason`): the sheet, the header row, a footer to skip, null
placeholders, column types, a thousands separator, a decimal comma."""

from __future__ import annotations

from typing import Literal

import msgspec

from app.core.notices import Notice, listed


class SheetSize(msgspec.Struct, kw_only=True):
    name: str
    rows: int | None
    columns: int | None
    #: Hidden in the workbook: never chosen by itself, whatever its size (app.ingest.shape.largest_sheet).
    hidden: bool = False

    def said(self) -> str:
        size = "size unknown" if self.rows is None else f"{self.rows} rows x {self.columns} columns"
        return f"hidden, {size}" if self.hidden else size


class LargestSheet(Notice, tag="largest_sheet"):
    """The sheet chosen for holding the largest table; with a hidden sheet beside it, the largest of the visible
    ones (a hidden sheet, however large, is read only when asked for: saying "the largest" was then false)."""

    sheet: SheetSize
    others: list[SheetSize]

    def text(self) -> str:
        others = ", ".join(f"{o.name!r} ({o.said()})" for o in self.others)
        largest = "the largest table of the visible sheets" if self.among_visible() else "the largest table"
        return f"sheet {self.sheet.name!r} holds {largest} ({self.sheet.said()}); the others: {others}"

    def among_visible(self) -> bool:
        """Whether the choice passed over hidden sheets (they are chosen only by name)."""
        return any(o.hidden for o in self.others)


class TitleRow(msgspec.Struct, kw_only=True):
    """A row above a workbook's header: a title (one text cell, or merged across the table) or a note."""

    row: int
    kind: Literal["merged", "cell", "note"]
    #: The cell (A1) or merged range (A1:F1) of a title.
    cells: str | None = None
    #: A title's text (its first 40 characters).
    title: str | None = None
    #: A note's filled cells, of the table's width.
    filled: int | None = None
    width: int | None = None

    def said(self) -> str:
        if self.kind == "merged":
            return f"row {self.row} is a title merged across {self.cells} ({self.title!r})"
        if self.kind == "cell":
            return f"row {self.row} is a title: one text cell {self.cells} ({self.title!r})"
        return f"row {self.row} is a note ({self.filled} of {self.width} cells)"


class HeaderBelowTitles(Notice, tag="header_below_titles"):
    row: int
    titles: list[TitleRow]

    def text(self) -> str:
        said = "; ".join(t.said() for t in self.titles)
        return f"{said}; row {self.row} is the first row of column names below"


class TitleLines(Notice, tag="title_block"):
    """A CSV's title lines above its table (the first few, each cut to 30 characters)."""

    last: int
    titles: list[str]
    columns: int

    def text(self) -> str:
        titles = ", ".join(repr(t) for t in self.titles)
        reason = f"rows 1-{self.last} are a title block ({titles}), not the table: its header is row {self.last + 1}"
        return f"{reason} ({self.columns} columns)"


class TotalsRow(Notice, tag="totals_row"):
    row: int
    label: str

    def text(self) -> str:
        return f"row {self.row} ({self.label!r}) holds the sums of the columns above it: a totals row, not data"


class SummaryLines(Notice, tag="summary_lines"):
    """A CSV's last lines: a totals row (`totals`, its first 40 characters, labelled `label`) and/or summary lines."""

    totals: str | None
    label: str | None
    summary: int
    lines: list[str]
    width: int

    def text(self) -> str:
        reasons = [f"the line {self.totals!r} is a totals row ({self.label!r}), not data"] if self.totals else []
        if self.summary:
            shown = listed([repr(x) for x in self.lines], self.summary)
            reasons.append(
                f"the last {self.summary} line(s) ({shown}) are a summary, not rows of the {self.width}-column table"
            )
        return "; ".join(reasons)


class Placeholders(msgspec.Struct, kw_only=True):
    column: str
    tokens: list[str]
    values: int


class NullPlaceholders(Notice, tag="null_placeholders"):
    columns: list[Placeholders]

    def text(self) -> str:
        said = "; ".join(
            f"{', '.join(map(repr, c.tokens))} among the {c.values} values of column {c.column!r}" for c in self.columns
        )
        return f"{said}: read as empty, the column keeps its type"


class TypedColumn(msgspec.Struct, kw_only=True):
    column: str
    type: Literal["decimal", "boolean", "date", "datetime"]
    format: str | None = None
    example: str | None = None

    def said(self) -> str:
        if self.type == "boolean":
            return f"{self.column!r} as boolean (是/否)"
        if self.type == "decimal":
            return f"{self.column!r} as decimal (such as {self.example!r})"
        return f"{self.column!r} as {self.type} {self.format!r} (such as {self.example!r})"


class TypedColumns(Notice, tag="typed_columns"):
    columns: list[TypedColumn]

    def text(self) -> str:
        named = ", ".join(c.said() for c in self.columns)
        # not "text columns": a column of integers written 20240105 is suggested a date too
        return f"typed {named}: these columns import as the numbers, dates and flags they hold"


class Example(msgspec.Struct, kw_only=True):
    column: str
    example: str


class ThousandsSeparator(Notice, tag="thousands_separator"):
    columns: list[Example]

    def text(self) -> str:
        named = ", ".join(f"{c.column!r} (such as {c.example!r})" for c in self.columns)
        return f"column(s) {named} hold numbers written with ',' between thousands: they import as numbers"


class DecimalComma(Notice, tag="decimal_comma"):
    """Text columns of a semicolon CSV that hold numbers written the European way (1.234,50)."""

    columns: list[Example]

    def text(self) -> str:
        named = ", ".join(f"{c.column!r} (such as {c.example!r})" for c in self.columns)
        return f"column(s) {named} hold numbers written with ',' before the decimals: they import as numbers"
