"""Formula error cells of an xls/xlsb sheet read as the text Excel shows (#DIV/0!, #N/A, …), as xlsx and ods
sheets read them (app.ingest.xlsx_errors), instead of the empty cells calamine gives.

The positions come from the sheet's records (app.ingest.biff_errors); the sheet is then read through
`ErrorsAsText`, which puts each error's text into calamine's rows. Only a sheet that has error cells is
wrapped, and only rows holding one are touched, so the rest still come from calamine as they are.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from app.ingest.biff_errors import Errors, error_cells
from app.ingest.notices import note
from app.ingest.notices.columns import ErrorCells


def errors_warning(count: int) -> str:
    """What an import says about the error cells it read as text (every workbook format)."""
    return note(ErrorCells(count=count))


def with_error_texts(sheet: Any, path: str, kind: str, index: int) -> tuple[Any, int]:
    """`sheet` (loaded from `path`), read with its error cells as text when it is an xls/xlsb sheet that has
    some, and how many it has."""
    errors = error_cells(path, kind, index) if kind in ("xls", "xlsb") else {}
    return (ErrorsAsText(sheet, errors), len(errors)) if errors else (sheet, 0)


class ErrorsAsText:
    """A calamine sheet whose rows carry the given error texts (the range grows to hold an error cell
    calamine left out: it skips an xlsb formula whose result is an error)."""

    def __init__(self, sheet: Any, errors: Errors) -> None:
        self._sheet = sheet
        self.name: str = sheet.name
        self.merged_cell_ranges = sheet.merged_cell_ranges
        rows = [r for r, _ in errors]
        cols = [c for _, c in errors]
        if sheet.start is None:
            top, left, bottom, right = min(rows), min(cols), max(rows), max(cols)
        else:
            (top, left), height, width = sheet.start, sheet.height, sheet.width
            bottom, right = top + height - 1, left + width - 1
            top, left, bottom, right = min(top, *rows), min(left, *cols), max(bottom, *rows), max(right, *cols)
        self.start: tuple[int, int] | None = (top, left)
        self.height, self.width = bottom - top + 1, right - left + 1
        self.end = (bottom, right)
        self._by_row: dict[int, list[tuple[int, str]]] = {}
        for (row, col), text in errors.items():
            self._by_row.setdefault(row - top, []).append((col - left, text))

    def iter_rows(self) -> Iterator[list[Any]]:
        """The rows from `start`, each `width` cells wide, error cells holding their text."""
        by_row = self._by_row
        rows = self._rows()
        for offset, row in enumerate(rows):
            found = by_row.get(offset)
            if found:
                for col, text in found:
                    row[col] = text
            yield row

    def _rows(self) -> Iterator[list[Any]]:
        """calamine's rows, padded out to this range where it is larger."""
        sheet, (top, left) = self._sheet, self.start or (0, 0)
        if (
            sheet.start is not None
            and sheet.start == (top, left)
            and (sheet.height, sheet.width)
            == (
                self.height,
                self.width,
            )
        ):
            yield from sheet.iter_rows()
            return
        first, before = (sheet.start[0] - top, sheet.start[1] - left) if sheet.start else (self.height, 0)
        after = self.width - before - (sheet.width if sheet.start else 0)
        source = sheet.iter_rows() if sheet.start else iter(())
        for offset in range(self.height):
            inner = next(source, None) if offset >= first else None
            if inner is None:
                yield [""] * self.width
            else:
                yield [""] * before + list(inner) + [""] * after
