"""The keys of JSON records: an object with a key twice is refused (which value counts is undefined), and a
record's empty key, which DuckDB cannot name a column, is written under a placeholder that stands for it."""

from __future__ import annotations

from typing import Any

from app.ingest.errors import ImportFailed

#: What DuckDB's JSON reader says of an object with a key twice.
DUCKDB_DUPLICATE_KEY = "has duplicate key"


class DuplicateKey(ImportFailed):
    """A JSON object names a key twice (422): which value counts is undefined, so nothing is guessed."""

    code = "duplicate_key"


def key_checking_dict(twice: list[tuple[dict[str, Any], str]]) -> type[dict[str, Any]]:
    """The mapping ijson builds objects as: notes each object given a key it already holds, in `twice`.

    It cannot raise: yajl (ijson's C backend) does not pass an exception from a mapping on, and goes on parsing.
    """

    class UniqueKeys(dict[str, Any]):
        __slots__ = ()

        def __setitem__(self, key: str, value: Any, _set: Any = dict.__setitem__) -> None:
            if key in self:
                twice.append((self, key))
            _set(self, key, value)

    return UniqueKeys


def key_twice_in(record: Any, twice: list[tuple[dict[str, Any], str]]) -> str | None:
    """The key an object of `record` got twice, if one did (ijson may build the next records before it gives one)."""
    noted = {id(obj): key for obj, key in twice}
    stack = [record]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if id(node) in noted:
                return noted[id(node)]
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return None


def duplicate_key(record: int, key: str) -> DuplicateKey:
    """The error for a record holding `key` twice (at any depth), the same whichever reader met it."""
    return DuplicateKey(
        f"record {record} has the key {key!r} twice in one object; JSON leaves which value counts undefined, so "
        "the file is refused: export it with each key once"
    )


#: An empty key as `extract_records` writes it (DuckDB reads records with an empty key as one MAP column, `json`: a
#: struct field cannot be named ""); `_leaves` names it "" again, column_N with a warning, as a blank key is, when
#: the extract wrote one (`Extracted.empty_key`): a file's own key of that name keeps it.
EMPTY_KEY = "__conveyor_empty_key__"


class EmptyKey(Exception):
    """The records DuckDB read have an empty key (it read them as one MAP column): read them from an extract."""


def empty_key_named(record: Any, number: int, seen: set[str]) -> Any:
    """`record` with its empty key (not a nested one) as EMPTY_KEY. A file whose records hold both (`seen` so far)
    is refused: the two would be one column, or in one record one value would overwrite the other."""
    if not isinstance(record, dict):
        return record
    seen.update(key for key in ("", EMPTY_KEY) if key in record)
    if len(seen) == 2:
        raise DuplicateKey(
            f'by record {number} the file has both an empty key ("") and {EMPTY_KEY!r}, which stands for an empty '
            "key here, so their columns could not be told apart: export it with one of them renamed"
        )
    if "" in record:
        return {EMPTY_KEY if key == "" else key: value for key, value in record.items()}  # pyright: ignore[reportUnknownVariableType]
    return record
