"""The head of a CSV a preview reads: whole lines, and a data line whenever the file has one the import can read.

The preview decodes the first few MB of a text file, cut at the last line break (`read_text_prefix`). A first data
line longer than that left the head with the header alone: the preview answered no rows and a warning that the
data rows have one column, and the import then failed on the line (max_line_bytes). So when the head holds no line
past its header, the line after it is measured (at most max_line_bytes of it read): longer than the import reads,
the preview fails as the import does; otherwise the head takes it in (a head of at most PREVIEW_BYTES +
max_line_bytes).
"""

from __future__ import annotations

import os

from app.ingest.config import ImportConfig, ImportLimits
from app.ingest.csv_problems import line_too_long
from app.ingest.textio import TextPrefix, line_length_at, read_text_prefix


def read_head(
    path: str | os.PathLike[str], encoding: str, config: ImportConfig, limits: ImportLimits, max_bytes: int
) -> TextPrefix:
    """The first `max_bytes` of `path` as whole lines, taking in the first data line when it lies past them."""
    head = read_text_prefix(path, encoding, max_bytes)
    lines = head.text.count("\n") or head.text.count("\r")
    if head.complete or not lines or lines > _lines_before_data(config):  # no line break at all: no table of lines
        return head
    length = line_length_at(path, head.size, limits.max_line_bytes)
    if length is None:
        raise line_too_long(limits, f"line {lines + 1} has more than {limits.max_line_bytes} bytes")
    return read_text_prefix(path, encoding, head.size + length)


def _lines_before_data(config: ImportConfig) -> int:
    """Lines before the first data line: the rows skipped and the header's (one unless the config says)."""
    header = 1 if config.header_row is None else config.header_row + max(config.header_rows or 1, 1) - 1
    return config.skip_rows + header
