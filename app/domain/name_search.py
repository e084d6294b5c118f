"""The one rule by which a list's `?search=` finds things: part of a name, in any case, `%` and `_` as typed.

Every list that takes a search (datasets, deployments, pipelines, users, webhooks, runs, tokens, uploads) filters
with `holds`, so a person gets the same answer for the same typing wherever the console offers a search box.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, or_

#: The character that makes the next one literal in the LIKE patterns below.
_ESCAPE = "\\"


def literal_pattern(text: str) -> str:
    """`text` as a LIKE pattern matching exactly those characters: `\\`, `%` and `_` lose their wildcard meaning."""
    return text.replace(_ESCAPE, _ESCAPE * 2).replace("%", _ESCAPE + "%").replace("_", _ESCAPE + "_")


def holds(text: str, *columns: ColumnElement[str]) -> ColumnElement[bool]:
    """True where one of `columns` contains `text`, in any case (ILIKE: Postgres folds the case of every script that
    has one; Chinese has none and matches as typed)."""
    pattern = f"%{literal_pattern(text)}%"
    return or_(*(column.ilike(pattern, escape=_ESCAPE) for column in columns))
