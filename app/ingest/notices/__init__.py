"""What a preview or an import tells a person (its warnings, and why it suggests a setting), as stable codes.

Each kind of notice is one Struct in this package: its tag is the code, its fields the typed parameters a console
words it with, and `text()` the English the API has always said (`message`, what a client that does not know the
code shows). `KINDS` is the one list of them: the API's schema is their union (`ImportNotice`), and the console's
words are checked against it (tests/unit/test_console_codes.py).

A warning still travels through the readers as text (lists of str, stored with a dataset version as such): `note`
gives that text with its notice attached (`Noted`), and `notice_of` takes the notice back at the API.
"""

from __future__ import annotations

from typing import Union

from app.core.notices import Noted, Notice, Other, listed, note, notice_of
from app.ingest.notices import columns, file, suggestions

#: Every kind of notice, `other` (a text no code describes yet) last.
KINDS: tuple[type[Notice], ...] = (
    *(
        kind
        for module in (columns, file, suggestions)
        for kind in vars(module).values()
        if isinstance(kind, type)
        and issubclass(kind, Notice)
        and kind is not Notice
        and kind.__module__ == module.__name__
    ),
    Other,
)
#: The codes, in KINDS' order.
CODES: tuple[str, ...] = tuple(kind.__struct_config__.tag for kind in KINDS)  # type: ignore[misc]
#: Any notice, as the API's schema states it (a union tagged by `code`).
ImportNotice = Union[KINDS]  # type: ignore[valid-type]  # noqa: UP007


def settled(texts: list[str]) -> tuple[list[str], list[Notice]]:
    """Warnings as plain text (what msgspec encodes: not a `Noted`) and, in the same order, their notices."""
    return [str(text) for text in texts], [notice_of(text) for text in texts]


__all__ = ["CODES", "KINDS", "ImportNotice", "Noted", "Notice", "Other", "listed", "note", "notice_of", "settled"]
