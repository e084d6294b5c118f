"""Times written with a UTC offset (`2024-01-02T03:04:05+08:00`, `+0800`, `+08`, ` +08`, `Z`), one rule for every
reader: a datetime column whose values carry offsets is imported as each value's instant in UTC (a notice says so:
UtcOffset), and a value in it without one (or, in a column of times without offsets, a value with one) is a
value that does not read as its column's type: a rejected row in a lenient import, listed by a strict one.

DuckDB read such a column two ways: sniffed as TIMESTAMPTZ, a later value without an offset was taken as UTC; read
as TIMESTAMP (a column of several offset forms the sniffer left as text, typed datetime by the user, or a JSON
string cast), every offset was dropped, 03:04:05+08:00 kept as 03:04:05 beside 19:04:05Z: the same instant twice
apart by eight hours, silently. A workbook's text cells went through `datetime.fromisoformat`, mixed likewise.
"""

from __future__ import annotations

import datetime as dt
import re

from app.ingest.duck import literal

#: A time's UTC offset at its end, after its minutes or seconds: Z, +08, +0800, +08:00 (a space before it is
#: allowed, as some exports write it); not a date's day (2024-01-02).
OFFSET = r"[0-9]:[0-9]{2}(:[0-9]{2}([.,][0-9]+)?)?\s*(Z|[+-][0-9]{2}(:?[0-9]{2})?)$"
_OFFSET = re.compile(r"(?<=[0-9]:[0-9]{2})(?::[0-9]{2}(?:[.,][0-9]+)?)?(\s*)(Z|[+-][0-9]{2}(?::?[0-9]{2})?)$")
#: A space before the offset, which DuckDB's and Python's parsers refuse: dropped before parsing.
_SPACED = r"\s+([+-][0-9]{2}(:?[0-9]{2})?)$"
#: What a problem says of a value without an offset in a column of times with one, and the other way round.
NO_OFFSET = "has no UTC offset, where the column's other times have one (+08:00, Z): its instant is unknown"
AN_OFFSET = "has a UTC offset, where the column's other times have none: its local time is unknown"


def has_offset_sql(text: str) -> str:
    """SQL: whether the VARCHAR `text` ends with a UTC offset."""
    return f"regexp_matches(trim({text}), {literal(OFFSET)})"


def instant_sql(text: str, *, safe: bool) -> str:
    """SQL for the VARCHAR `text` of a time with a UTC offset as its instant in UTC (a TIMESTAMP); a time without
    one is NULL when `safe`, else fails (as a value that does not convert does); so is one that does not read."""
    bare = f"regexp_replace(trim({text}), {literal(_SPACED)}, '\\1')"
    cast = "TRY_CAST" if safe else "CAST"
    missing = "NULL" if safe else f"error({literal('a time ' + NO_OFFSET)})"
    return f"CASE WHEN {has_offset_sql(text)} THEN timezone('UTC', {cast}({bare} AS TIMESTAMPTZ)) ELSE {missing} END"


def local_time_sql(text: str, *, safe: bool) -> str:
    """SQL for the VARCHAR `text` of a time without a UTC offset as a TIMESTAMP; one with an offset is NULL when
    `safe`, else fails, as a value that does not convert does; so is one that does not read. For a CSV column of
    local times DuckDB would read with its ISO cast, which drops an offset (03:04:05+08:00 read as 03:04:05): a
    column whose offsets start past the sampled rows. The regex runs only on the values with a `+`, a `Z` or a
    `-` after the date (plain character scans for the rest)."""
    cast = "TRY_CAST" if safe else "CAST"
    maybe = f"(contains({text}, '+') OR contains({text}, 'Z') OR contains(substr({text}, 11), '-'))"
    refused = "NULL" if safe else f"error({literal('a time ' + AN_OFFSET)})"
    return f"CASE WHEN {maybe} AND {has_offset_sql(text)} THEN {refused} ELSE {cast}({text} AS TIMESTAMP) END"


def local_problem_sql(cannot_read: str) -> str:
    """SQL of what a problem of a column of local times says about its `value`: that it has an offset, or else
    `cannot_read` (SQL over `value`)."""
    said = f"'cannot read ''' || left(value, 100) || ''' as datetime: ' || {literal(AN_OFFSET)}"
    return f"CASE WHEN {has_offset_sql('value')} THEN {said} ELSE {cannot_read} END"


def problem_sql(kind: str, cannot_read: str) -> str:
    """SQL of what a problem of a column of times with offsets says about its `value`: that it has none, or else
    `cannot_read` (SQL over `value`)."""
    said = f"'cannot read ''' || left(value, 100) || ''' as {kind}: ' || {literal(NO_OFFSET)}"
    return f"CASE WHEN NOT {has_offset_sql('value')} THEN {said} ELSE {cannot_read} END"


def written_offset(text: str) -> bool:
    """Whether the text of a time ends with a UTC offset."""
    return _OFFSET.search(text.strip()) is not None


def parsed(text: str) -> dt.datetime:
    """An ISO time, with or without a UTC offset (a space before it allowed); one with an offset is aware."""
    text = text.strip()
    found = _OFFSET.search(text)
    if found is not None and found.group(1):
        text = text[: found.start(1)] + found.group(2)
    return dt.datetime.fromisoformat(text)


#: How a suggestion names the form of a column of such times (it sets no format: each value is read as written).
OFFSET_FORM = "ISO 8601 with a UTC offset"


def offset_time(text: str) -> bool:
    """Whether `text` is a time with a UTC offset that every reader reads (`parsed`)."""
    if not written_offset(text) or ":" not in text:
        return False
    try:
        parsed(text)
    except ValueError:
        return False
    return True


def in_utc(value: dt.datetime) -> dt.datetime:
    """An aware time as its instant in UTC, without a zone (how every reader stores it)."""
    return value.astimezone(dt.UTC).replace(tzinfo=None)
