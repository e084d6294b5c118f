"""How much of a JSON file a preview reads: a bounded number of bytes, and one record at most `record_limit`.

A preview read up to 50 records whatever their size: a 2nd record holding a 50 MB string was read whole (10-20 s
in the API) before DuckDB refused it. Now the reading stops once its bytes are spent, and a record past
`record_limit` fails as the import fails it (limit_exceeded) once that many of its bytes are read.

`record_limit` is the one rule both apply: the most bytes of one record DuckDB's reader takes when the import
gives it maximum_object_size=max_line_bytes. It reads an object of up to twice its buffer, which is at least
16 MiB: with the default 8 MiB that is 32 MiB. A preview that refused a record past max_line_bytes itself
refused a 12 MiB record the import then read.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from app.ingest.errors import LimitExceeded

#: The least buffer DuckDB's JSON reader sizes for maximum_object_size (it reads an object of up to twice it).
DUCKDB_MIN_JSON_BUFFER = 16 * 1024**2


def record_limit(max_line_bytes: int) -> int:
    """The most bytes of JSON one record may span, for a preview and an import alike (DuckDB's reader's limit)."""
    return 2 * max(max_line_bytes, DUCKDB_MIN_JSON_BUFFER)


class ReadBudget(NamedTuple):
    """How much of a JSON file a preview reads: `total` bytes and the end of the record it was in, and `record`
    bytes for one record (`record_limit`, the import's limit), so at most about `total + record` past the end of
    the first record, which ends within `record` bytes of the start (under a record path, with what precedes it).
    An import reads with a total of sys.maxsize: the same rule for one record, no total."""

    total: int
    record: int


class BudgetSpent(Exception):
    """A preview read its bytes and the record it was reading then."""


class Bounded:
    """Reads through `handle` within a ReadBudget: past `budget.total` bytes, once the record being read then ends,
    raises BudgetSpent; more than `budget.record` bytes since the last record ended raises the import's
    LimitExceeded for a record too large (`budget.record` is a `record_limit`). Each is checked before a read, so
    at most one read's bytes (json_reader.READ_BYTES) go past either."""

    def __init__(self, handle: Any, budget: ReadBudget, *, first_at_start: bool = True) -> None:
        self._handle = handle
        self._budget = budget
        #: Whether the preview's total counts from the start, where the first record starts (NDJSON, an array, a
        #: lone object), or (records under a path: a value may stand before them, which the import reads too)
        #: from the end of the first record. The bytes of one record count from the start either way: what stands
        #: before the first record under a path counts as its own (unbounded, a 1 GB first record or value
        #: before the records was read whole into the API process).
        self._first_at_start = first_at_start
        self._armed = first_at_start
        self._start = 0
        self._read = 0
        self._mark = 0  # bytes read when the last record was given: the next one starts no later
        self._records = 0
        self._spent_at: int | None = None  # records read when the total was passed: the one being read may finish

    def record_done(self) -> None:
        if not self._armed:
            self._armed, self._start = True, self._read
        self._mark = self._read
        self._records += 1

    def read(self, size: int = -1) -> bytes:
        if self._read - self._mark > self._budget.record:
            if self._records or self._first_at_start:
                raise record_too_large(self._budget.record)
            raise LimitExceeded(
                f"the first record under the record path ends more than {self._budget.record} bytes into the file "
                "(a record, with what stands before the first one, may span that much JSON: twice max_line_bytes, at "
                "least 32 MiB): split its long values, or put the records first"
            )
        if self._armed and self._read - self._start > self._budget.total:
            if self._spent_at is None:
                self._spent_at = self._records
            elif self._records > self._spent_at:
                raise BudgetSpent
        chunk = self._handle.read(size if size >= 0 else self._budget.record + 1)
        self._read += len(chunk)
        return bytes(chunk)


def record_too_large(limit: int) -> LimitExceeded:
    """The error for a JSON record past `limit` (a record_limit), whichever reader (DuckDB's, a preview's) met it."""
    return LimitExceeded(
        f"a record is larger than an import reads ({limit} bytes of JSON: twice max_line_bytes, at least 32 MiB): "
        "split its long values, or leave them out of the file"
    )
