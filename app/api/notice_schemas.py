"""The notices a run's log lines carry, as the API states them: Conveyor's own lines (app.core.run_notices) and
an import's warnings (app.ingest.notices), one union tagged by `code`."""

from __future__ import annotations

from typing import Any, Union

import msgspec

from app.core.notices import Notice, Other
from app.core.run_notices import RUN_LOG_KINDS
from app.ingest.notices import KINDS as IMPORT_KINDS
from app.ingest.notices import ImportNotice

#: Every kind of notice a log line may carry (`other` last, from the import's list).
LOG_KINDS: tuple[type[Notice], ...] = (*RUN_LOG_KINDS, *IMPORT_KINDS)
#: Any of them, tagged by `code`.
RunLogNotice = Union[LOG_KINDS]  # type: ignore[valid-type]  # noqa: UP007


def log_notice(stored: dict[str, Any] | None) -> Any:
    """A stored line's notice as its Struct; one this version does not know (a newer writer's) is `other`."""
    if stored is None:
        return None
    try:
        return msgspec.convert(stored, RunLogNotice)
    except msgspec.ValidationError:
        return Other(message=str(stored.get("message", "")))


def import_notices(stored: list[dict[str, Any]] | None) -> list[Any] | None:
    """A dataset version's stored notices as their Structs (None for a version written before they were kept);
    one this version does not know is `other`, with its text."""
    if stored is None:
        return None
    notices = []
    for item in stored:
        try:
            notices.append(msgspec.convert(item, ImportNotice))
        except msgspec.ValidationError:
            notices.append(Other(message=str(item.get("message", ""))))
    return notices
