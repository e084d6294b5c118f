"""Notices about the file as a whole: its name and encoding, its lines, what a preview shows of it, rejected rows."""

from __future__ import annotations

from typing import Literal

from app.core.notices import Notice, listed


class WorkbookNamed(Notice, tag="workbook_named"):
    """The file's extension names another workbook kind than its content."""

    file: str
    extension: str
    kind: str

    def text(self) -> str:
        return f"{self.file} is named {self.extension} but is a {self.kind} workbook"


class TextNamed(Notice, tag="text_named"):
    """A file named .csv/.tsv holds JSON (or NDJSON), and is read as such."""

    file: str
    extension: str
    kind: str

    def text(self) -> str:
        return f"{self.file} is named {self.extension} but holds {self.kind}; reading it as {self.kind}"


class EncodingGuessed(Notice, tag="encoding_guessed"):
    encoding: str

    def text(self) -> str:
        return f"encoding guessed as {self.encoding}"


class InvalidBytes(Notice, tag="invalid_bytes"):
    """Byte sequences not valid in the encoding; an import wrote each as U+FFFD."""

    count: int
    encoding: str
    replaced: bool

    def text(self) -> str:
        if self.replaced:
            return f"{self.count} byte sequence(s) were not valid {self.encoding} and became U+FFFD"
        return f"{self.count} byte sequence(s) are not valid {self.encoding}"


class LineEnds(Notice, tag="line_ends"):
    ends: Literal["lf_cr", "cr", "mixed"]

    def text(self) -> str:
        said = {"lf_cr": "LF then CR", "cr": "a lone CR (classic Mac OS)", "mixed": "CRLF and LF, mixed"}[self.ends]
        return f"the lines end in {said}: read as one line end each"


class FooterLeftOut(Notice, tag="footer_left_out"):
    """The lines `skip_footer` leaves out (the first few, each cut to 40 characters)."""

    count: int
    lines: list[str]

    def text(self) -> str:
        shown = listed([repr(x) for x in self.lines], self.count)
        return f"the last {self.count} line(s) are left out (skip_footer): {shown}"


class FooterKept(Notice, tag="footer_kept"):
    """An import read a totals row or summary lines as data (`skip_footer` unset); `reason` is the suggestion's."""

    skip: int
    reason: str

    def text(self) -> str:
        return f"{self.reason}; imported as data: set skip_footer={self.skip} to leave it out"


class RecordsPath(Notice, tag="records_path"):
    path: str

    def text(self) -> str:
        return f"records read from {self.path!r} (set record_path to choose another)"


class PreviewRows(Notice, tag="preview_rows"):
    rows: int

    def text(self) -> str:
        return f"showing {self.rows} rows, the max_preview_rows limit"


class CellsCut(Notice, tag="cells_cut"):
    count: int
    chars: int

    def text(self) -> str:
        return (
            f"{self.count} cell(s) longer than {self.chars} characters are cut short here (the import keeps them whole)"
        )


class RowProblem(Notice, tag="row_problem"):
    """A row the preview could not read as typed; `problem` is the reader's own words."""

    row: int
    column: str | None
    problem: str

    def text(self) -> str:
        where = f"row {self.row}" + (f", column {self.column}" if self.column else "")
        return f"{where}: {self.problem}"


class Rejected(Notice, tag="rejected"):
    count: int
    unit: Literal["row", "record"]
    file: str

    def text(self) -> str:
        return f"{self.count} {self.unit}(s) rejected; see {self.file}"


class OneRecord(Notice, tag="one_record"):
    """A JSON document with no array of records is imported as one row."""

    def text(self) -> str:
        return "the document holds no array of records; it is imported as one row"
