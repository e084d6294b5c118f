"""SQL literals for the transition writer (workers/transitions.py), which sends each batch as one text query.

The batch's arrays go to Postgres as array literals in one text parameter each (the queries CAST them to
uuid[], int[], text[], bytea[]): psycopg's list dumper adapts every element in Python, and for a batch of
a few runs that was a fifth of the writer's CPU; a literal is a few C-level joins and replaces. Every value
then goes into the `EXECUTE` as a SQL string literal (`literal`), for a connection whose
standard_conforming_strings is on and whose client encoding is UTF8 (the writer sets both).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from app.db.queries import PARAM


def uuids(values: Sequence[uuid.UUID]) -> str:
    """A uuid[] literal of the ids' 32 hex digits (a form uuid's input takes): `str(UUID)` is Python code."""
    return "{" + ",".join(["%032x" % v.int for v in values]) + "}"  # noqa: UP031 (twice as fast as a format spec)


def ints(values: Sequence[int | None]) -> str:
    if None in values:
        return "{" + ",".join("NULL" if v is None else str(v) for v in values) + "}"
    return "{" + ",".join(map(str, values)) + "}"


def texts(values: Sequence[str | None]) -> str:
    """A text[] literal: every element quoted (so "NULL" or "" stay strings), its `\\` and `"` escaped.

    The usual batch (ASCII, no NUL, no NULL) is escaped as one string, its elements joined by NULs (which
    none of them holds) that become the `","` between them: a few C-level passes instead of calls per element.
    """
    if not values:
        return "{}"
    if None in values:
        if values.count(None) == len(values):
            return "{" + ",".join(["NULL"] * len(values)) + "}"
        return "{" + ",".join("NULL" if v is None else quoted(v) for v in values) + "}"
    joined = "\x00".join(values)  # type: ignore[arg-type]  # no None, as checked
    if joined.count("\x00") != len(values) - 1 or not joined.isascii():
        return "{" + ",".join(quoted(v) for v in values) + "}"  # type: ignore[arg-type]
    if "\\" in joined or '"' in joined:
        joined = joined.replace("\\", "\\\\").replace('"', '\\"')
    return '{"' + joined.replace("\x00", '","') + '"}'


def quoted(value: str) -> str:
    value = storable(value)
    if "\\" in value or '"' in value:
        value = value.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + value + '"'


def storable(value: str) -> str:
    """`value` as Postgres text can hold it: a NUL or a lone surrogate (a messy file's cell quoted in an error
    message) becomes U+FFFD, so an attempt's outcome is written rather than its whole batch refused."""
    if "\x00" in value:
        value = value.replace("\x00", "\ufffd")
    if not value.isascii():
        try:
            value.encode()
        except UnicodeEncodeError:
            value = "".join("\ufffd" if "\ud800" <= c <= "\udfff" else c for c in value)
    return value


def byteas(values: list[bytes]) -> str:
    """A bytea[] literal, each element in bytea's hex form (its backslash escaped for the array)."""
    return "{" + ",".join('"\\\\x' + v.hex() + '"' for v in values) + "}"


def literal(value: str) -> str:
    """`value` as a SQL string literal, for a connection whose standard_conforming_strings is on (`_connect`
    makes sure): there only `'` is special, and it is doubled. Cheaper than psycopg's mogrify, which adapts
    every parameter through its dumpers; every value of a batch goes through here, so none can end the literal.
    """
    if "\x00" in value:
        raise ValueError("a query cannot hold a NUL character")  # the texts of a batch are `storable` already
    return "'" + value.replace("'", "''") + "'"


class Prepared:
    """A named query as `PREPARE name AS sql` (its `:params` as $n), and the `EXECUTE` of one batch's values.

    The batch goes as one simple-protocol query, which cannot carry a prepared statement of the extended
    protocol; SQL's own PREPARE keeps the statement parsed and planned once per connection all the same.
    """

    __slots__ = ("_execute", "names", "prepare")

    def __init__(self, name: str, sql: str) -> None:
        names: list[str] = []
        for found in PARAM.findall(sql):
            if found not in names:
                names.append(found)
        #: The parameters, in $n order.
        self.names = tuple(names)
        self.prepare = f"PREPARE {name} AS " + PARAM.sub(lambda m: f"${names.index(m.group(1)) + 1}", sql)
        self._execute = f"EXECUTE {name}("

    def execute(self, params: dict[str, str]) -> str:
        """The EXECUTE of `params` (every parameter by name, each a text the query casts), quoted as literals."""
        return self._execute + ", ".join([literal(params[n]) for n in self.names]) + ")"
