"""What a workbook preview suggests to set, and why: the sheet, the header row, a totals row to skip, null tokens.

The sheet and the header row are already what the preview shows (they are chosen the same way on import);
a totals row and null placeholders change which rows and types an import gives, so they are only suggested:
`suggested_config` is the configuration as sent with every suggestion applied, for the console or the CLI to
offer as "apply".
"""

from __future__ import annotations

from typing import Any

import msgspec

from workers.ingest import excel_reader
from workers.ingest.config import ImportConfig
from workers.ingest.models import SheetInfo, Suggestion
from workers.ingest.shape import find_footer, null_tokens

#: Data rows a preview reads to look for a totals row at the end (a longer sheet gets no footer suggestion).
FOOTER_SCAN_ROWS = 100_000


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
    start_col = (sheet.start or (0, 0))[1]
    first, last = plan.positions[0], plan.positions[-1]
    scanned = excel_reader.rows_from(sheet, plan.first_data_row, FOOTER_SCAN_ROWS + 1)
    rows = [(number, excel_reader.cut_row(row, start_col, first, last)) for number, row in scanned]
    if plan.last_row is not None:
        rows = [(number, row) for number, row in rows if number <= plan.last_row]
    elif whole and len(rows) <= FOOTER_SCAN_ROWS and not config.skip_footer:
        footer = find_footer(rows)
        if footer is not None:
            number, skip, reason = footer
            found.append(Suggestion(field="skip_footer", value=skip, reason=reason))
            rows = [(n, row) for n, row in rows if n < number]
    sample = [row for _, row in rows[: excel_reader.SAMPLE_ROWS]]
    given = set(config.null_values or ())
    names = [p.source for p in plan.columns]
    columns = [[row[p.index] for row in sample if not (isinstance(row[p.index], str) and row[p.index] in given)]
               for p in plan.columns]  # fmt: skip
    tokens, reasons = null_tokens(names, columns)
    if tokens:
        found.append(
            Suggestion(
                field="null_values",
                value=[*(config.null_values or []), *tokens],
                reason=f"{'; '.join(reasons)}: read as empty, the column keeps its type",
            )
        )
    return found


def _sheet(sheets: list[SheetInfo], chosen: int) -> Suggestion:
    def size(info: SheetInfo) -> str:
        return "size unknown" if info.rows is None else f"{info.rows} rows x {info.columns} columns"

    others = ", ".join(f"{info.name!r} ({size(info)})" for info in sheets if info.index != chosen)
    name = sheets[chosen].name
    reason = f"sheet {name!r} holds the largest table ({size(sheets[chosen])}); the others: {others}"
    return Suggestion(field="sheet", value=name, reason=reason)


def suggested_config(config: ImportConfig, suggestions: list[Suggestion]) -> ImportConfig | None:
    """`config` with every suggestion applied, or None when there is none."""
    if not suggestions:
        return None
    return msgspec.structs.replace(config, **{s.field: s.value for s in suggestions}).validate()
