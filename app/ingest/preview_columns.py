"""A text preview of a very wide file reads only its first columns: DuckDB's sniffer needs memory per column.

A 5,000-column CSV took the sniffer past the 256 MB a request's DuckDB work may use (422 query_too_expensive,
no preview at all); 2,000 columns fit, 3,000 did not. The preview's head (a few MB of text) is rewritten with
each row's first MAX_PREVIEW_COLUMNS fields, and the preview says so; the import reads every column.
"""

from __future__ import annotations

import csv
import io

from app.ingest.config import ImportConfig, parse_range
from app.ingest.errors import LimitExceeded
from app.ingest.notices import note
from app.ingest.notices.columns import ColumnsCut

#: Columns a text preview shows at most (the import has no such limit).
MAX_PREVIEW_COLUMNS = 1_000
#: Fields the first line of a text file may split into, in a preview and an import alike: DuckDB's sniffer took a
#: 4 MB line of `x,x,x,…` (two million columns) past a preview's memory limit, and the API 470 MB up; an import of
#: 100,000 columns was accepted and ran its worker out of memory (20,000 need about 1 GB; 12,000 fit in 500 MB).
MAX_FIELDS = 20_000
#: Delimiters tried on the first line when the configuration sets none (DuckDB's sniffer decides the real one).
CANDIDATE_DELIMITERS = (",", "\t", ";", "|")


def first_line_fields(text: str, config: ImportConfig) -> tuple[int, str]:
    """How many fields the first line splits into, and by which delimiter (the one splitting it most)."""
    first = text.split("\n", 1)[0].split("\r", 1)[0]
    delimiters = [config.delimiter] if config.delimiter else CANDIDATE_DELIMITERS
    delimiter = max(delimiters, key=first.count)
    return first.count(delimiter) + 1, delimiter


def check_field_count(first_line: str, config: ImportConfig) -> None:
    """Refuse a text file whose first line splits into more fields than any table has (MAX_FIELDS)."""
    fields, _ = first_line_fields(first_line, config)
    if fields > MAX_FIELDS:
        raise LimitExceeded(
            f"the first line splits into {fields} fields, over {MAX_FIELDS}: check the delimiter, or split the file"
        )


def first_columns(text: str, config: ImportConfig) -> tuple[str, str | None]:
    """`text` with each row cut to the columns a preview shows, and the warning saying so (None: nothing cut)."""
    fields, delimiter = first_line_fields(text, config)
    if fields <= MAX_PREVIEW_COLUMNS:
        return text, None
    quote = config.quote if config.quote is not None else '"'
    escape = config.escape if config.escape and config.escape != quote else None
    dialect = {
        "delimiter": delimiter,
        "quotechar": quote or None,
        "escapechar": escape,
        "doublequote": escape is None,
        "quoting": csv.QUOTE_MINIMAL if quote else csv.QUOTE_NONE,
    }
    rows = csv.reader(io.StringIO(text, newline=""), **dialect)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n", **dialect)
    keep = MAX_PREVIEW_COLUMNS
    if config.range:
        keep = max(keep, parse_range(config.range).last_col)
    try:
        for number, row in enumerate(rows):
            if number == 0 and config.columns:  # a column the configuration names is kept, wherever it is
                keep = max([keep, *(i + 1 for i, name in enumerate(row) if name.strip() in config.columns)])
            writer.writerow(row[:keep])
    except csv.Error as exc:  # a cell past the csv module's 128 KiB field limit
        raise LimitExceeded(
            f"the file has {fields} columns, more than the {MAX_PREVIEW_COLUMNS} a preview reads, and a cell in its "
            f"first rows could not be cut out ({exc}): import it as it is (every column is imported), or with a range"
        ) from exc
    warning = note(ColumnsCut(columns=fields, shown=keep, most=MAX_PREVIEW_COLUMNS))
    return out.getvalue(), warning
