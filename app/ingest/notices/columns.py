"""Notices about columns, headers, types and values (see app.ingest.notices)."""

from __future__ import annotations

from typing import Literal

from app.core.notices import Notice, listed

# --- columns and headers ---------------------------------------------------------------------------------------


class EmptyHeader(Notice, tag="empty_header"):
    column: int
    name: str

    def text(self) -> str:
        return f"column {self.column} has an empty header; named it {self.name}"


class HeaderCleaned(Notice, tag="header_cleaned"):
    column: int
    name: str
    characters: str

    def text(self) -> str:
        return (
            f"column {self.column}'s header held characters that make a name show unlike what it is "
            f"({self.characters}); left them out: named it {self.name!r}"
        )


class DuplicateColumn(Notice, tag="duplicate_column"):
    name: str
    column: int
    renamed: str

    def text(self) -> str:
        return f"duplicate column name {self.name!r} (column {self.column}); renamed it {self.renamed!r}"


class HeaderWidth(Notice, tag="header_width"):
    header: int
    data: int

    def text(self) -> str:
        return f"the header has {self.header} columns but the data rows have {self.data}"


class DelimiterHint(Notice, tag="delimiter_hint"):
    hint: str
    delimiter: str

    def text(self) -> str:
        used = (
            f"{self.hint!r} is the delimiter"
            if self.delimiter == self.hint
            else (f"the delimiter set, {self.delimiter!r}, is used")
        )
        return f"line 1 is Excel's delimiter hint {'sep=' + self.hint!r}: skipped; {used}"


class HeaderRowsJoined(Notice, tag="header_rows_joined"):
    first: int
    last: int
    example: str | None

    def text(self) -> str:
        example = f", e.g. {self.example!r}" if self.example else ""
        return f"rows {self.first}-{self.last} are the header: each column's names are joined{example}"


class MergedHeader(Notice, tag="merged_header"):
    cells: str
    name: str | None

    def text(self) -> str:
        return f"merged header cells {self.cells}: each column takes the merged name {self.name!r}"


class ColumnsCut(Notice, tag="columns_cut"):
    columns: int
    shown: int
    most: int

    def text(self) -> str:
        return (
            f"the file has {self.columns} columns: this preview shows the first {self.shown} "
            f"(a preview reads at most {self.most}); the import reads them all"
        )


class RepeatedHeaderRows(Notice, tag="repeated_header_rows"):
    """Data rows of the sample that are the header line again."""

    count: int
    rows: list[int]
    sample_rows: int

    def text(self) -> str:
        shown = listed([str(n) for n in self.rows], self.count)
        return (
            f"{self.count} data row(s) repeat the header line (data rows {shown} of the first {self.sample_rows}): "
            "the file looks like several exports joined together; those rows are read as data and make their "
            f"columns text, so {REPEAT_REMEDY}"
        )


#: What to do about repeated header lines, in every message.
REPEAT_REMEDY = "remove the repeated header lines and import again"


class RepeatedHeaderLines(Notice, tag="repeated_header_lines"):
    """Lines past the sample that are the header line again: rejected, or read as data."""

    count: int
    lines: list[int]
    outcome: Literal["rejected", "read_as_data"]
    rejects_file: str | None = None

    def text(self) -> str:
        shown = listed([str(n) for n in self.lines], self.count)
        outcome = f"rejected (see {self.rejects_file})" if self.outcome == "rejected" else "read as data"
        return (
            f"{self.count} line(s) repeat the header line (lines {shown}): the file looks like several exports "
            f"joined together; those lines are {outcome}, so {REPEAT_REMEDY}"
        )


# --- types and values --------------------------------------------------------------------------------------------


class MixedTypes(Notice, tag="mixed_types"):
    column: str

    def text(self) -> str:
        return f"column {self.column!r} mixes types in its first rows; read as text"


class MostlyNumbers(Notice, tag="mostly_numbers"):
    column: str
    example: str

    def text(self) -> str:
        return f"column {self.column!r} is mostly numbers but holds text such as {self.example!r}; read as text"


class LongNumbers(Notice, tag="long_numbers"):
    column: str
    example: str

    def text(self) -> str:
        return (
            f"column {self.column!r} holds numbers of 16 or more digits (such as {self.example}) stored as numbers: "
            "a workbook keeps 15 significant digits, so ID and card numbers stored this way lost their last "
            "digits in the file itself; format the column as text in the workbook, enter them again and export"
        )


class ExactNumbers(Notice, tag="exact_numbers"):
    column: str
    read_as: Literal["decimal", "text"]
    scale: int | None
    digits: int

    def text(self) -> str:
        read = f"DECIMAL(38, {self.scale})" if self.read_as == "decimal" else "text"
        return (
            f"column {self.column!r} has numbers a double would round (integers past 64 bits or more than "
            f"{self.digits} significant digits): read as {read}, every digit kept"
        )


class NonFiniteNull(Notice, tag="non_finite_as_null"):
    count: int
    first_line: int | None

    def text(self) -> str:
        read = f"{self.count} value(s) read, the first on line {self.first_line}"
        return f"NaN or Infinity (not JSON numbers) imported as NULL: {read}"


class TabPadded(Notice, tag="tab_padded"):
    columns: list[str]
    count: int

    def text(self) -> str:
        names = listed([repr(c) for c in self.columns], self.count)
        return (
            f"column(s) {names} have cells ending in a tab (WeChat Pay pads cells so that Excel keeps them text): "
            "read without trailing tabs"
        )


class FormulaText(Notice, tag="formula_text"):
    """Text columns holding cells written `="…"`, Excel's text formula, read as the text inside."""

    columns: list[str]
    count: int

    def text(self) -> str:
        names = listed([repr(c) for c in self.columns], self.count)
        return (
            f'column(s) {names} have cells written ="…" (a formula export scripts write so that Excel keeps an id '
            "text): read as the text Excel shows"
        )


class SubtotalRows(Notice, tag="subtotal_rows"):
    """Rows labelled as subtotals (小计) in a text column, read as data (app.ingest.subtotals)."""

    column: str
    label: str
    count: int

    def text(self) -> str:
        return (
            f"{self.count} row(s) are subtotals (column {self.column!r} reads {self.label!r}): they are read as data, "
            f"so a sum over the rows counts each group twice; leave them out with a filter on {self.column!r}"
        )


class ReadAsNull(Notice, tag="read_as_null"):
    """Values a lenient CSV import read as text and could not convert (an amount that is no number, a date none of
    its column's formats reads): imported as NULL, in `rows` rows."""

    columns: list[str]
    rows: int

    def text(self) -> str:
        names = listed([repr(c) for c in self.columns], len(self.columns))
        rows = f"values in {self.rows} row(s)"
        return f"column(s) {names}: {rows} do not read as the column's type and are imported empty"


class UtcOffset(Notice, tag="utc_offset"):
    column: str
    example: str | None

    def text(self) -> str:
        example = f" (such as {self.example!r})" if self.example else ""
        return f"column {self.column!r} holds times with a UTC offset{example}: imported in UTC"


class ErrorCells(Notice, tag="error_cells"):
    count: int

    def text(self) -> str:
        return (
            f"{self.count} formula error cell(s) (#N/A, #DIV/0!, #VALUE!, …) are imported as the text Excel shows; "
            "set null_values to import them as empty"
        )


class KeptAsText(Notice, tag="kept_as_text"):
    """A column of codes read as text because a value past the sampled rows would change as a number."""

    column: str
    row: int
    value: str

    def text(self) -> str:
        return (
            f"column {self.column!r} reads as a code past the sampled rows (row {self.row}: {self.value!r} would "
            "change as a number): imported as text, every value as written"
        )


class OutOfRangeAsText(Notice, tag="out_of_range_as_text"):
    """A CSV float column read as text because a value is a number no float holds (1e400 read as infinity)."""

    column: str
    row: int
    value: str

    def text(self) -> str:
        return (
            f"column {self.column!r} holds a number no float holds (row {self.row}: {self.value!r}, which would "
            "change as a float): imported as text, every value as written"
        )


class CodesCheckedAtImport(Notice, tag="codes_checked_at_import"):
    """A preview shows a column of codes written as digits as a number (`kind`); the rows past the sample decide."""

    column: str
    kind: str
    lenient: bool

    def text(self) -> str:
        then = (
            "a lenient import reads the column as text, every value as written"
            if self.lenient
            else ("a strict import fails naming it")
        )
        return (
            f"column {self.column!r} holds codes written as digits in the sampled rows: previewed as {self.kind}; the "
            "import checks the rows past them, and a value there written with a leading zero (such as 000001) would "
            f"change as a number, so {then}; type the column string to keep every code as written"
        )


class ZeroPadded(Notice, tag="zero_padded"):
    """A workbook column of numbers shown zero-padded (number format `000000`), read as the text shown."""

    column: str
    format: str

    def text(self) -> str:
        return (
            f"column {self.column!r} holds numbers shown zero-padded (number format {self.format}): read as text, "
            "as the sheet shows them"
        )


class BlankColumnsLeftOut(Notice, tag="blank_columns_left_out"):
    """Trailing columns with no header and no value in any row, left out (app.ingest.blank_columns)."""

    count: int
    #: 1-based position of the first of them.
    first: int

    def text(self) -> str:
        return f"left out {self.count} empty column(s) at the end, from column {self.first}: no header and no value"


class UnitClash(Notice, tag="unit_clash"):
    """A header naming 万元 over cells that carry 万 themselves (app.ingest.unit_header)."""

    column: str
    #: The unit the header names: 万元 or 亿元.
    unit: str
    #: A cell with its own unit, read as the whole amount (1.25万 as 12500).
    example: str
    #: A cell without one, read as written, when the column has one.
    plain: str | None = None

    def text(self) -> str:
        beside = f", beside plain numbers such as {self.plain!r} read as written" if self.plain else ""
        return (
            f"column {self.column!r} is headed in {self.unit} but cells such as {self.example!r} carry the unit "
            f"themselves and read as whole amounts{beside}: check which unit each cell is in"
        )
