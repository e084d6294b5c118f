"""Values the ingest library hands back: what a preview shows and what an import produced."""

from __future__ import annotations

from typing import Any

import msgspec

from app.ingest.config import ImportConfig
from app.ingest.notices import ImportNotice, notice_of, settled


class Column(msgspec.Struct, kw_only=True):
    """One output column: where it comes from, its name in the dataset, its type."""

    source: str
    name: str
    type: str
    include: bool = True


class SheetInfo(msgspec.Struct, kw_only=True):
    """A workbook sheet; `rows`/`columns` only when known without reading the sheet."""

    name: str
    index: int
    visible: bool = True
    rows: int | None = None
    columns: int | None = None


class Suggestion(msgspec.Struct, kw_only=True):
    """A configuration value the preview found from the file's shape, and why; `suggested_config` applies them."""

    field: str
    value: Any
    reason: str
    #: The reason as a code with typed parameters, for a client to word in its language (`reason` is its English).
    notice: ImportNotice | None = None


class Preview(msgspec.Struct, kw_only=True):
    """What a user sees before importing: detected format, columns, first rows, warnings, the effective config."""

    format: str
    #: The container/dialect actually found: csv, json, ndjson, xlsx, xlsm, xlsb, xls, ods.
    detected: str
    encoding: str | None
    sheets: list[SheetInfo]
    header_row: int
    columns: list[Column]
    rows: list[list[Any]]
    warnings: list[str]
    config: ImportConfig
    #: What the file's shape suggests (sheet, header row, totals row, null placeholders), each with its reason.
    suggestions: list[Suggestion] = msgspec.field(default_factory=list)
    #: The configuration as sent with every suggestion applied (None when there is none): preview or import it.
    suggested_config: ImportConfig | None = None
    #: The warnings as codes with typed parameters, in the same order (each one's `message` is its warning).
    notices: list[ImportNotice] = msgspec.field(default_factory=list)

    def settle(self) -> Preview:
        """Its warnings and reasons as plain text, their notices beside them (as the API answers)."""
        self.warnings, self.notices = settled(self.warnings)
        for suggestion in self.suggestions:
            suggestion.notice = notice_of(suggestion.reason)
            suggestion.reason = str(suggestion.reason)
        return self


class ColumnStats(msgspec.Struct, kw_only=True):
    """Per-column figures shown on a dataset version."""

    name: str
    type: str
    nulls: int
    min: str | None = None
    max: str | None = None

    def __post_init__(self) -> None:
        # A NUL in a text cell is kept in the data, but the figures go to Postgres, whose text and JSON cannot
        # hold one: the version was not recorded and the import ended in internal_error.
        self.name = self.name.replace("\x00", "\u2400")
        self.min, self.max = shown_bound(self.min), shown_bound(self.max)


#: Characters of a column's min or max kept in its figures (then "…"). They go with the dataset everywhere it is
#: shown, lists included: a 3 MB cell, the max of its text column, was in every dataset page that listed it.
BOUND_CHARS = 200


def shown_bound(text: str | None) -> str | None:
    """A min or max as the figures keep it: without NUL (see without_nul), at most BOUND_CHARS characters."""
    text = without_nul(text)
    return text[:BOUND_CHARS] + "…" if text is not None and len(text) > BOUND_CHARS else text


def without_nul(text: str | None) -> str | None:
    """`text` with each NUL character shown as U+2400 (the symbol for NUL): Postgres text cannot store NUL."""
    return text.replace("\x00", "\u2400") if text and "\x00" in text else text


class ImportResult(msgspec.Struct, kw_only=True):
    """What an import wrote: rows, columns with stats, rejects and warnings."""

    rows: int
    bytes_read: int
    columns: list[ColumnStats]
    rejected: int
    warnings: list[str]
    data_path: str
    rejects_path: str | None
    config: ImportConfig
    #: The warnings as codes with typed parameters, in the same order.
    notices: list[ImportNotice] = msgspec.field(default_factory=list)
