"""Ingest errors: domain errors with stable codes, so the API and the run log can say what went wrong."""

from __future__ import annotations

from typing import Any

from app.core.errors import DomainError, InvalidInput

#: How many problems a strict import lists before giving up.
MAX_PROBLEMS = 100


class UnsupportedMediaType(DomainError):
    """The content is not a format we import (415)."""

    status, code, title = 415, "unsupported_media_type", "Unsupported media type"


class ContentMismatch(UnsupportedMediaType):
    """The file's extension and its content disagree (415): e.g. a CSV named `.xlsx`."""

    code = "content_mismatch"


class EmptyFile(UnsupportedMediaType):
    """A 0-byte upload: nothing to import."""

    code = "empty_file"


class LimitExceeded(DomainError):
    """A configured limit is exceeded (413); the message names the limit and what to do instead."""

    status, code, title = 413, "limit_exceeded", "Limit exceeded"


class InvalidImportConfig(InvalidInput):
    """The import configuration is invalid (422); `errors` names each bad field."""

    code = "invalid_import_config"


class ImportFailed(DomainError):
    """The file could not be imported as configured (422); `errors` lists problems with row and column."""

    status, code, title = 422, "import_failed", "Import failed"


class ImportCancelled(DomainError):
    """The caller asked the import to stop; nothing was written."""

    status, code, title = 409, "import_cancelled", "Import cancelled"


def field_error(field: str, message: str) -> InvalidImportConfig:
    """An invalid-config error about one field, in the per-field shape problem+json uses."""
    return InvalidImportConfig(f"{field}: {message}", errors=[{"field": field, "message": message}])


def problem(row: int | None, column: str | None, message: str, value: Any = None) -> dict[str, Any]:
    """One row/column problem, as listed by a strict import and stored in a rejects file."""
    return {"row": row, "column": column, "message": message, "value": None if value is None else str(value)[:200]}


def failed(problems: list[dict[str, Any]], total: int | None = None) -> ImportFailed:
    """An ImportFailed listing the first problems; `total` counts all of them when known."""
    shown = problems[:MAX_PROBLEMS]
    first = shown[0] if shown else {"row": None, "column": None, "message": "unknown error"}
    where = ", ".join(f"{k} {first[k]}" for k in ("row", "column") if first.get(k) is not None)
    count = total if total is not None else len(problems)
    detail = f"{count} problem(s) found; first: {first['message']}" + (f" ({where})" if where else "")
    return ImportFailed(detail, errors=shown)


def damaged_if_panic(exc: BaseException) -> UnsupportedMediaType:
    """calamine panics on some damaged files (an xls sheet said to start past the end of its stream, an xlsb
    cell naming a shared string that is not there): PyO3 raises PanicException, a BaseException that no `except
    Exception` caught (a 500, or a dead worker thread). That is a corrupt_file; anything else is raised again."""
    if type(exc).__name__ != "PanicException":
        raise exc
    return UnsupportedMediaType(f"the workbook is damaged: {exc}", code="corrupt_file")
