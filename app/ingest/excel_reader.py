"""Workbooks (xlsx, xlsm, xlsb, xls, ods) through python-calamine: sheet choice, header, range, typed batches.

calamine loads the chosen sheet's cells (that is why workbooks have size and cell limits, checked from the
zip directory and the sheet's `<dimension>` before loading); rows are then walked with `iter_rows()` and cut
into Arrow record batches, so Python never holds more than one batch of converted values.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Callable, Iterator
from itertools import islice
from typing import TYPE_CHECKING, Any

import msgspec
import pyarrow as pa
import python_calamine as calamine

from app.ingest.columns import Planned, clean_names, long_number_warnings, plan_columns, sample_types
from app.ingest.config import CellRange, ImportConfig, ImportLimits, column_letters, parse_range
from app.ingest.convert import Converter, arrow_type
from app.ingest.date_system import EXCEL_1900, DateOrigin
from app.ingest.errors import ImportFailed, LimitExceeded, UnsupportedMediaType, damaged_if_panic, field_error
from app.ingest.header_rows import JOINER, dates_named, filled_across, header_depth, joined_names
from app.ingest.models import SheetInfo
from app.ingest.notices import note
from app.ingest.notices.columns import HeaderRowsJoined, MergedHeader, MixedTypes, UtcOffset
from app.ingest.shape import find_header, largest_sheet
from app.ingest.whole_workbook import check_whole
from app.ingest.xlsb_extent import xlsb_extent, xlsb_sheet_member
from app.ingest.xlsx_extent import declared_extent, sheet_extent
from app.ingest.xlsx_parts import sheet_members, xlsx_dimensions, xlsx_sheet_members

if TYPE_CHECKING:
    from app.ingest.sheet_range import Literals
    from app.ingest.xlsx_padded import PaddedCells

#: Data rows sampled to infer column types.
SAMPLE_ROWS = 1000
#: Rows per Arrow record batch (and per progress report).
BATCH_ROWS = 65_536
#: A sheet whose size its file does not declare is loaded to measure it (to choose the largest table) only when
#: calamine would parse at most this many bytes for it: a preview runs in the API process, and a 500 MB sheet
#: part (13 million cells, 65 MB zipped) took it from 250 MB to 1.1 GB just to be measured and passed over.
MEASURE_MAX_BYTES = 32 * 1024 * 1024


class ExcelPlan(msgspec.Struct, kw_only=True):
    """Where the data is in the sheet (1-based, absolute) and what each column becomes."""

    sheet_index: int
    sheet_name: str
    header_row: int
    first_data_row: int
    last_row: int | None
    #: Rows the header spans from `header_row` (their names joined per column: app.ingest.header_rows).
    header_rows: int = 1
    #: Absolute 1-based sheet column of each planned column.
    positions: list[int]
    columns: list[Planned]
    limit: int | None
    warnings: list[str] = msgspec.field(default_factory=list)
    #: Why the header is below the top of the table (title rows passed over), when it was found, not given.
    header_reason: str | None = None


def open_workbook(path: str, limits: ImportLimits) -> calamine.CalamineWorkbook:
    """Open a workbook, turning calamine's errors into clear 415/422 errors. An ods or an xls is read whole as it
    opens, so its sheets' cells are counted first (app.ingest.ods_extent, app.ingest.xls_extent) and refused
    together past max_workbook_cells."""
    check_whole(path, limits)
    try:
        return calamine.CalamineWorkbook.from_path(path)
    except calamine.PasswordError as exc:
        raise ImportFailed("the workbook is password-protected; save it without a password", code="encrypted") from exc
    except (calamine.CalamineError, OSError, ValueError) as exc:
        raise UnsupportedMediaType(f"the workbook is damaged or unreadable: {exc}", code="corrupt_file") from exc
    except BaseException as exc:
        raise damaged_if_panic(exc) from exc


def sheet_infos(
    path: str, kind: str, workbook: calamine.CalamineWorkbook, limits: ImportLimits | None = None
) -> list[SheetInfo]:
    """Sheet names and visibility, with sizes: declared by the file (xlsx/xlsm `<dimension>`), else measured.

    Measuring loads each sheet (only when `limits` is given and the workbook has several sheets, to choose
    one, and only a sheet of at most MEASURE_MAX_BYTES to parse); a sheet over max_workbook_cells or unreadable
    keeps an unknown size.
    """
    dims = xlsx_dimensions(path) if kind in ("xlsx", "xlsm") else []
    metadata = workbook.sheets_metadata
    sizes = _part_sizes(path, kind, len(metadata))
    infos = []
    for index, meta in enumerate(metadata):
        rows, cols = dims[index] if index < len(dims) and dims[index] else (None, None)
        if rows is None and limits is not None and len(metadata) > 1 and sizes[index] <= MEASURE_MAX_BYTES:
            rows, cols = _measure(path, kind, workbook, index, limits)
        visible = meta.visible == calamine.SheetVisibleEnum.Visible
        infos.append(SheetInfo(name=meta.name, index=index, visible=visible, rows=rows, columns=cols))
    return infos


def _part_sizes(path: str, kind: str, count: int) -> list[int]:
    """The bytes calamine parses to load each sheet: the sheet's XML for xlsx/xlsm, else the whole file (an
    xls keeps every sheet in one stream, an ods in one content.xml; unknown counts as too big)."""
    if kind in ("xlsx", "xlsm"):
        try:
            with zipfile.ZipFile(path) as archive:
                members = sheet_members(archive)
                found = [archive.getinfo(m).file_size if m else MEASURE_MAX_BYTES + 1 for m in members]
        except (KeyError, zipfile.BadZipFile, OSError):
            found = []
        return (found + [MEASURE_MAX_BYTES + 1] * count)[:count]
    try:
        return [os.path.getsize(path)] * count
    except OSError:
        return [MEASURE_MAX_BYTES + 1] * count


def _measure(
    path: str, kind: str, workbook: calamine.CalamineWorkbook, index: int, limits: ImportLimits
) -> tuple[int | None, int | None]:
    try:
        _check_extent(path, kind, index, limits)
        sheet = workbook.get_sheet_by_index(index)
    except (LimitExceeded, UnsupportedMediaType, calamine.CalamineError):
        return None, None
    except BaseException as exc:
        damaged_if_panic(exc)
        return None, None
    if sheet.start is None:
        return 0, 0
    if sheet.height * sheet.width > limits.max_workbook_cells:
        return None, None
    return sheet.start[0] + sheet.height, sheet.start[1] + sheet.width


def choose_sheet(
    workbook: calamine.CalamineWorkbook | list[str], config: ImportConfig, infos: list[SheetInfo] | None = None
) -> tuple[int, str]:
    """The sheet asked for (by name, else by 0-based index), or the one holding the largest table.

    `workbook` may be the sheet names alone (a preview that remembered them need not open the workbook)."""
    names = workbook if isinstance(workbook, list) else workbook.sheet_names
    if not names:
        raise ImportFailed("the workbook has no sheets: there is nothing to import", code="empty_workbook")
    if config.sheet is None:
        if not infos:
            return 0, names[0]
        sizes = [(i.rows, i.columns) if i.rows is not None and i.columns is not None else None for i in infos]
        index = largest_sheet(sizes, [i.visible for i in infos])
        return index, names[index]
    if isinstance(config.sheet, str):
        if config.sheet in names:
            return names.index(config.sheet), config.sheet
        raise field_error("sheet", f"no sheet named {config.sheet!r}; the sheets are: {', '.join(names)}")
    if config.sheet >= len(names):
        raise field_error("sheet", f"index {config.sheet} is out of range: the workbook has {len(names)} sheet(s)")
    return config.sheet, names[config.sheet]


def load_sheet(
    path: str, kind: str, workbook: calamine.CalamineWorkbook, index: int, limits: ImportLimits
) -> calamine.CalamineSheet:
    """Load one sheet after checking its declared size, then check its real size, against max_workbook_cells."""
    declared = xlsx_dimensions(path) if kind in ("xlsx", "xlsm") else []
    if index < len(declared) and declared[index]:
        _check_cells(*declared[index], limits, declared=True)  # type: ignore[misc]
    meta = workbook.sheets_metadata[index]
    if meta.typ == calamine.SheetTypeEnum.ChartSheet:
        raise ImportFailed(f"sheet {meta.name!r} is a chart sheet: it holds no cells to import", code="empty_sheet")
    _check_extent(path, kind, index, limits)
    try:
        sheet = workbook.get_sheet_by_index(index)
    except calamine.CalamineError as exc:
        raise UnsupportedMediaType(f"the sheet could not be read: {exc}", code="corrupt_file") from exc
    except BaseException as exc:
        raise damaged_if_panic(exc) from exc
    _check_cells(sheet.height, sheet.width, limits)
    if sheet.start is None:
        raise ImportFailed(f"sheet {sheet.name!r} is empty", code="empty_sheet")
    return sheet


def _check_extent(path: str, kind: str, index: int, limits: ImportLimits) -> None:
    """Refuse an xlsx/xlsm/xlsb sheet whose cells span more than max_workbook_cells, whatever its declared size,
    before calamine allocates that grid (app.ingest.xlsx_extent, app.ingest.xlsb_extent; an ods or an xls is
    counted as it opens)."""
    if kind == "xlsb":
        member = xlsb_sheet_member(path, index)
        extent = xlsb_extent(path, member, limits.max_workbook_cells) if member else None
    else:
        members = xlsx_sheet_members(path) if kind in ("xlsx", "xlsm") else []
        member = members[index] if index < len(members) else None
        # Cells inside the declared box (checked in one search) need no scan of where each one lies.
        cells = limits.max_workbook_cells  # the cell records are counted too: calamine keeps each one
        extent = (declared_extent(path, member, cells) or sheet_extent(path, member, cells)) if member else None
    if extent is not None:
        _check_cells(extent.rows, extent.columns, limits)


def _check_cells(rows: int, columns: int, limits: ImportLimits, *, declared: bool = False) -> None:
    """Refuse a sheet over max_workbook_cells. calamine loads a sheet's whole rectangle whatever `range` says,
    so `range` is no way around it (the message said it was, and the same import failed again with it)."""
    if rows * columns > limits.max_workbook_cells:
        said = " (as the file's <dimension> declares)" if declared else ""
        raise LimitExceeded(
            f"the sheet has {rows} rows x {columns} columns{said}, over max_workbook_cells="
            f"{limits.max_workbook_cells}; save the sheet as CSV (no cell limit) and import that, or split it"
        )


def detect(
    sheet: calamine.CalamineSheet, index: int, config: ImportConfig, padded: PaddedCells | None = None
) -> ExcelPlan:
    """Header row, columns and types of a sheet from its first rows, honouring `config`; `padded`: its numbers
    shown zero-padded (app.ingest.xlsx_padded), sampled as the text shown."""
    start_row, start_col = sheet.start or (0, 0)
    cell_range: CellRange | None = parse_range(config.range) if config.range else None
    first_col = cell_range.first_col if cell_range else start_col + 1
    last_col = cell_range.last_col if cell_range else start_col + max(sheet.width, 1)
    top = cell_range.first_row if cell_range else start_row + 1
    head = rows_from(sheet, top, SAMPLE_ROWS + config.skip_rows + 2)
    cut = [cut_row(row, start_col, first_col, last_col) for _, row in head]

    header_row, header_reason = config.header_row, None
    if header_row is None:
        numbered = [(number, row) for (number, _), row in zip(head, cut, strict=True)]
        header_row, header_reason = find_header(
            numbered, sheet.merged_cell_ranges or [], first_col, len(cut[0]) if cut else 0
        )
    warnings: list[str] = []
    depth = 1
    if header_row:
        cut_rows = {number: row for (number, _), row in zip(head, cut, strict=True)}

        def row_at(number: int) -> list[Any]:
            found = cut_rows.get(number)
            return found if found is not None else cut_row(_row_at(sheet, number), start_col, first_col, last_col)

        merged = sheet.merged_cell_ranges or []
        depth = config.header_rows or header_depth(row_at, merged, header_row, first_col)
        if depth > 1:
            raw = joined_names([row_at(header_row + i) for i in range(depth)], merged, header_row, first_col)
            example = next((name for name in raw if name and JOINER in name), None)
            warnings.append(note(HeaderRowsJoined(first=header_row, last=header_row + depth - 1, example=example)))
        else:
            raw = _fill_merged(dates_named(row_at(header_row)), sheet, header_row, first_col, warnings)
        names, name_warnings = clean_names(raw)
        warnings += name_warnings
    else:
        names = [column_letters(c) for c in range(first_col, last_col + 1)]
    first_data = (header_row + depth if header_row else top) + config.skip_rows
    last_row = cell_range.last_row if cell_range else None
    if config.skip_footer:
        sheet_end = start_row + sheet.height
        last_row = min(last_row or sheet_end, sheet_end) - config.skip_footer
    numbered = [
        (number, row)
        for (number, _), row in zip(head, cut, strict=True)
        if number >= first_data and (last_row is None or number <= last_row)
    ][:SAMPLE_ROWS]
    sample = padded.rows(numbered, first_col) if padded else [row for _, row in numbered]
    given = {source for source, spec in (config.columns or {}).items() if spec.type}
    types = []
    for name, (kind, mixed) in zip(names, sample_types(sample, len(names), config), strict=True):
        if mixed and name not in given:
            warnings.append(note(MixedTypes(column=name)))
        types.append(kind)
    types = padded.text_types(types, first_col) if padded else types
    warnings += long_number_warnings(names, sample)
    planned = plan_columns(names, types, config)
    warnings += padded.warnings(planned, range(first_col, last_col + 1)) if padded else []
    limit = config.limit
    if last_row is not None:
        span = max(last_row - first_data + 1, 0)
        limit = min(limit, span) if limit else span
    return ExcelPlan(
        sheet_index=index,
        sheet_name=sheet.name,
        header_row=header_row,
        header_rows=depth,
        first_data_row=first_data,
        last_row=last_row,
        positions=list(range(first_col, last_col + 1)),
        columns=planned,
        limit=limit,
        warnings=warnings,
        header_reason=header_reason,
    )


def excel_header(plan: ExcelPlan) -> dict[str, int]:
    """The header as the effective configuration states it: its row, and its depth when over one row."""
    return {"header_row": plan.header_row} | ({"header_rows": plan.header_rows} if plan.header_rows > 1 else {})


def cut_row(row: list[Any], start_col: int, first_col: int, last_col: int) -> list[Any]:
    """The cells of absolute columns first_col..last_col (1-based) from a calamine row starting at start_col."""
    lo, hi = first_col - 1 - start_col, last_col - start_col
    cells = row[lo:hi] if lo >= 0 else [None] * -lo + row[: max(hi, 0)]
    return cells + [None] * (last_col - first_col + 1 - len(cells))


def rows_from(sheet: calamine.CalamineSheet, first: int, count: int) -> list[tuple[int, list[Any]]]:
    """Up to `count` rows as (absolute 1-based row number, cells), from row `first` on."""
    start_row = (sheet.start or (0, 0))[0]
    found = []
    for number, row in enumerate(sheet.iter_rows(), start=start_row + 1):
        if number >= first:
            found.append((number, row))
            if len(found) >= count:
                break
    return found


def _row_at(sheet: calamine.CalamineSheet, number: int) -> list[Any]:
    rows = rows_from(sheet, number, 1)
    return rows[0][1] if rows and rows[0][0] == number else []


def _fill_merged(raw: list[Any], sheet: calamine.CalamineSheet, header_row: int, first_col: int, warnings: list[str]):
    """Give every cell of a merged header its merged name (deduplicated later as `name_2`...) and say so."""
    merged = sheet.merged_cell_ranges or []
    filled = filled_across(list(raw), merged, header_row, first_col)
    for (r0, c0), (r1, c1) in merged:
        if r0 + 1 <= header_row <= r1 + 1 and c1 > c0:
            value = filled[c0 + 1 - first_col] if 0 <= c0 + 1 - first_col < len(filled) else None
            cells = f"{column_letters(c0 + 1)}{r0 + 1}:{column_letters(c1 + 1)}{r1 + 1}"
            warnings.append(note(MergedHeader(cells=cells, name=None if value is None else str(value))))
    return filled


def batches(
    sheet: calamine.CalamineSheet,
    plan: ExcelPlan,
    config: ImportConfig,
    on_problems: Callable[[list[dict[str, Any]]], None],
    *,
    batch_rows: int = BATCH_ROWS,
    origin: DateOrigin = EXCEL_1900,
    padded: PaddedCells | None = None,
    literals: Literals | None = None,
    notices: list[str] | None = None,
) -> Iterator[pa.RecordBatch]:
    """The sheet's data rows as typed record batches; bad rows are reported and left out. `origin`: how the
    workbook counts serial dates (app.ingest.date_system), as its plain numbers typed as dates do;
    `padded`: its numbers shown zero-padded, which text columns take as shown (app.ingest.xlsx_padded); `notices`:
    given, a UtcOffset per column of times with a UTC offset stored in UTC, once all are read (as a CSV's import)."""
    start_row, start_col = sheet.start or (0, 0)
    kept = [(p, plan.positions[p.index]) for p in plan.columns if p.include]
    converters = [Converter(p, config, origin=origin) for p, _ in kept]
    schema = pa.schema([pa.field(p.name, arrow_type(p)) for p, _ in kept])
    lo, hi = plan.positions[0] - 1 - start_col, plan.positions[-1] - start_col
    rows_iter: Iterator[list[Any]] = islice(sheet.iter_rows(), max(plan.first_data_row - start_row - 1, 0), None)
    if plan.limit is not None:
        rows_iter = islice(rows_iter, plan.limit)
    number = max(plan.first_data_row, start_row + 1)
    while rows := list(islice(rows_iter, batch_rows)):  # whole blocks at C speed: no per-row Python work
        if lo < 0:
            rows = [cut_row(row, start_col, plan.positions[0], plan.positions[-1]) for row in rows]
        elif lo > 0 or hi < len(rows[0]):
            rows = [row[lo:hi] for row in rows]
        yield _batch(rows, number, kept, converters, schema, plan, on_problems, padded, literals)
        number += len(rows)
    if notices is not None:
        zoned = [(p, c) for (p, _), c in zip(kept, converters, strict=True) if c.zoned]
        notices += [note(UtcOffset(column=p.name, example=c.offset_example)) for p, c in zoned]


def _batch(
    rows, first_number, kept, converters, schema, plan, on_problems, padded=None, literals=None
) -> pa.RecordBatch:
    """Convert one block of rows column by column; rows with a bad cell are dropped and reported."""
    width = plan.positions[-1] - plan.positions[0] + 1
    columns = list(zip(*rows, strict=False)) if rows else []
    if columns and len(columns) < width:
        columns += [(None,) * len(rows)] * (width - len(columns))
    arrays, bad_rows, found = [], set(), []
    for (p, position), converter in zip(kept, converters, strict=True):
        values = columns[position - plan.positions[0]] if columns else ()
        if padded and p.type == "string":
            values = padded.apply(position, values, first_number)
        if literals and p.type == "string":
            values = literals.apply(position, values, first_number)
        array, problems = converter.array(values)
        arrays.append(array)
        for offset, message, value in problems:
            bad_rows.add(offset)
            found.append(
                {"row": first_number + offset, "column": p.source, "message": message, "value": str(value)[:200]}
            )
    batch = pa.RecordBatch.from_arrays(arrays, schema=schema)
    if found:
        on_problems(sorted(found, key=lambda item: item["row"]))
        mask = pa.array([offset not in bad_rows for offset in range(len(rows))])
        batch = batch.filter(mask)
    return batch
