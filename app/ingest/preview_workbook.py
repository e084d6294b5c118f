"""The workbook copies an xlsx/xlsm preview reads instead of the upload: the sheet cut after the rows it needs
(kept beside the upload and reused), texts capped and error cells as text, and the sheet list remembered.

calamine loads a whole sheet and all shared strings before giving back a row; a preview needs a few hundred
rows, and the preview form asks again on every configuration change.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path
from typing import Any

import msgspec

from app.ingest import excel_reader
from app.ingest.config import ImportConfig, ImportLimits, parse_range
from app.ingest.errors import LimitExceeded
from app.ingest.header_rows import MAX_HEADER_ROWS
from app.ingest.models import SheetInfo
from app.ingest.whole_workbook import check_whole
from app.ingest.xlsx_head import preview_copy, sheet_head
from app.ingest.xlsx_parts import xlsx_sheet_members
from app.ingest.xlsx_strings import shared_strings_member


def all_rows(sheet: Any, original: SheetInfo) -> bool:
    """Whether a preview copy of the sheet kept every row of the original (it was only edited, not cut)."""
    return original.rows is not None and sheet.start is not None and sheet.start[0] + sheet.height >= original.rows


#: Rows kept past what a sheet starting on its first row needs: a few empty rows on top still fit.
HEAD_SPARE_ROWS = 50
#: The rows a cut copy keeps are rounded up to this, so nearby configurations share one cached copy.
HEAD_ROW_BLOCK = 1000


def _last_row_needed(config: ImportConfig, rows: int, top: int) -> int:
    """The last sheet row a preview reads when the data starts on row `top`: the type sample and the rows shown."""
    header = config.header_row or top
    depth = config.header_rows or MAX_HEADER_ROWS  # room for a header found to span rows
    return max(top + excel_reader.SAMPLE_ROWS + config.skip_rows + 2, header + depth + config.skip_rows + rows)


def _top(config: ImportConfig, sheet_top: int) -> int:
    return parse_range(config.range).first_row if config.range else sheet_top


def excel_head(
    path: str, kind: str, index: int, config: ImportConfig, rows: int, work: Path, cache: Path | None = None
) -> Path | None:
    """A workbook cut after the rows a preview needs (xlsx/xlsm only), or None to read the sheet whole.

    With `cache` (the upload's own folder, removed with it), the cut copy is kept there and reused by
    the next preview that needs no more rows: cutting streams the whole sheet XML (seconds for a
    million rows), and the preview form asks again on every configuration change.
    """
    if kind not in ("xlsx", "xlsm"):
        return None
    last_row = _head_last_row(config, rows)
    kept = _cached_head(path, index, last_row, cache)
    if kept is not None and kept.is_file():
        return kept
    as_is = kept.with_name(kept.name + ".as-is") if kept is not None else None
    if as_is is not None and as_is.is_file():
        return None  # found before: nothing to cut or edit, the sheet is read as it is
    members = xlsx_sheet_members(path)
    member = members[index] if index < len(members) else None
    if member is None:
        return None
    if kept is not None and as_is is not None:
        partial = kept.with_name(f".{kept.name}.{os.getpid()}.part")
        try:
            made = sheet_head(path, member, last_row, partial)
            if made is not None:
                os.replace(partial, kept)  # atomic: a concurrent preview sees the whole file or none
                return kept
            # Remembered too: finding it streams the whole sheet, again on every configuration change.
            as_is.touch()
            return None
        except OSError:
            pass  # an unwritable cache: cut into the work folder as without one
        finally:
            partial.unlink(missing_ok=True)
    return sheet_head(path, member, last_row, work / "head.xlsx")


def _cached_head(path: str, index: int, last_row: int, cache: Path | None) -> Path | None:
    """Where the cut copy of sheet `index` up to `last_row` is kept; its name holds the source's size and mtime."""
    if cache is None:
        return None
    try:
        source = os.stat(path)
    except OSError:
        return None
    return cache / f"preview-head-{index}-{last_row}-{source.st_size}-{source.st_mtime_ns}.xlsx"


def capped_copy(path: str, kind: str, index: int, dest: Path) -> Path | None:
    """The xlsx/xlsm workbook with the long texts of sheet `index` and of its shared strings cut short and its
    error cells as text, or None when it has neither: read whole, one 50 MB cell was held several times over."""
    if kind not in ("xlsx", "xlsm"):
        return None
    members = xlsx_sheet_members(path)
    return preview_copy(path, members[index] if index < len(members) else None, _strings_member(path), dest)


def _strings_member(path: str) -> str | None:
    try:
        with zipfile.ZipFile(path) as archive:
            return shared_strings_member(archive)
    except (KeyError, OSError, zipfile.BadZipFile):
        return None


def sheet_list(path: str, kind: str, limits: ImportLimits, cache: Path | None, work: Path) -> list[SheetInfo]:
    """The workbook's sheets, remembered in `cache` beside the cut copies: opening a big workbook reads all
    its shared strings (seconds), which a preview of a cut copy otherwise never needs. A table with a
    huge string is opened from a copy whose strings are cut short (app.ingest.xml_text_cap)."""
    kept = None
    if cache is not None and kind in ("xlsx", "xlsm"):
        try:
            source = os.stat(path)
            kept = cache / f"preview-sheets-{limits.max_workbook_cells}-{source.st_size}-{source.st_mtime_ns}.json"
            if kept.is_file():
                return msgspec.json.decode(kept.read_bytes(), type=list[SheetInfo])
        except (OSError, msgspec.DecodeError):
            kept = None
    xlsx = kind in ("xlsx", "xlsm")
    strings = preview_copy(path, None, _strings_member(path), work / "strings.xlsx") if xlsx else None
    workbook = _open_for_preview(str(strings or path), kind, limits)
    with workbook:
        sheets = excel_reader.sheet_infos(path, kind, workbook, limits)
    if kept is not None:
        partial = kept.with_name(f".{kept.name}.{os.getpid()}.part")
        try:
            partial.write_bytes(msgspec.json.encode(sheets))
            os.replace(partial, kept)
        except OSError:
            partial.unlink(missing_ok=True)
    return sheets


def _head_last_row(config: ImportConfig, rows: int) -> int:
    """Rounded up to a whole HEAD_ROW_BLOCK, so small changes (skip rows, a header row) reuse one cached cut."""
    needed = _last_row_needed(config, rows, _top(config, 1)) + HEAD_SPARE_ROWS
    return -(-needed // HEAD_ROW_BLOCK) * HEAD_ROW_BLOCK


#: Cells of a sheet a preview may have calamine load into the API process (it holds each one, and the preview
#: converts a thousand rows of every column): a range 900,000 rows down had it load 9 million cells, 15 CPU-s and
#: 870 MB per preview. The cut keeps about 2,000 rows, so a sheet of up to about 1,000 columns previews.
PREVIEW_MAX_CELLS = 2_000_000
#: The same bound for an ods or xls, which calamine reads whole as it opens (nothing is cut): an .xls holds at most
#: 65,536 rows, and exports that fill them with a few dozen columns are common, so 64 columns of them preview.
WHOLE_SHEET_PREVIEW_MAX_CELLS = 65_536 * 64


def _preview_max_cells(kind: str) -> int:
    return PREVIEW_MAX_CELLS if kind in ("xlsx", "xlsm") else WHOLE_SHEET_PREVIEW_MAX_CELLS


def preview_limits(limits: ImportLimits, kind: str) -> ImportLimits:
    """The limits a preview loads a sheet of `kind` under: max_workbook_cells at most its preview bound."""
    bound = min(limits.max_workbook_cells, _preview_max_cells(kind))
    return msgspec.structs.replace(limits, max_workbook_cells=bound)


def check_preview_cells(info: SheetInfo, kind: str, config: ImportConfig, rows: int) -> None:
    """Refuse, before anything is cut or loaded, a preview that would load more cells than its bound of a sheet of
    known size: an xlsx/xlsm's rows up to its cut, any other workbook's whole sheet."""
    if info.rows is None or info.columns is None:
        return
    cut = kind in ("xlsx", "xlsm")
    kept = min(info.rows, _head_last_row(config, rows)) if cut else info.rows
    if kept * info.columns > _preview_max_cells(kind):
        raise too_big_to_preview(kept, info.columns, kind)


def _open_for_preview(path: str, kind: str, limits: ImportLimits) -> Any:
    """An xlsx as an import opens it; an ods or xls, read whole as it opens (its cells counted first), within
    WHOLE_SHEET_PREVIEW_MAX_CELLS, the refusal saying whether an import could still read it."""
    if kind in ("xlsx", "xlsm"):
        return excel_reader.open_workbook(path, limits)
    try:
        return excel_reader.open_workbook(path, preview_limits(limits, kind))
    except LimitExceeded:
        check_whole(path, limits)  # past the import's own limit too: its error says so
        raise too_big_to_preview(None, None, kind) from None


def too_big_to_preview(rows: int | None, columns: int | None, kind: str) -> LimitExceeded:
    """`rows` x `columns`: the sheet's part a preview would load; None when an ods/xls's sheets together are."""
    bound = _preview_max_cells(kind)
    if kind in ("xlsx", "xlsm"):
        advice = "preview a range nearer the top or fewer columns, or import it as it is"
    else:  # read whole whatever the range: only another format previews it
        advice = f"save the sheet as xlsx or CSV to preview it, or import this {kind} as it is"
    size = f"{rows} rows x {columns} columns of the sheet" if rows is not None else f"the whole {kind}'s cells"
    return LimitExceeded(
        f"this preview would load {size}, over the {bound} cells a preview reads: {advice} "
        "(an import reads the whole sheet, in a worker)",
        errors=[{"field": "range", "message": f"a preview reads at most {bound} cells"}],
    )


def head_suffices(sheet: Any, config: ImportConfig, rows: int) -> bool:
    """Whether the cut sheet holds every row the preview reads (data may start further down than assumed)."""
    if sheet.start is None:
        return False
    return _last_row_needed(config, rows, _top(config, sheet.start[0] + 1)) <= _head_last_row(config, rows)
