"""Cut the list, struct, map and binary cells of a page of rows inside the query, as text cells are cut.

A row whose LIST cell held millions of items was fetched whole into the API process and encoded whole (one row
is always sent), whatever the page's byte limit; serialising the cells in DuckDB first (`to_json`, then cut) ran
DuckDB out of memory instead. Here each such cell is cut in SQL to a byte budget before it leaves DuckDB: a list
(or array, or map) keeps its first items, each item shares what is left of the budget, a struct's fields share
it, and text and binary values inside are cut as text cells are. What reaches Python is bounded by the budget,
whatever the file holds; DuckDB itself only reads the cell (as any query of it does) and computes lengths.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from duckdb.sqltypes import DuckDBPyType

from app.ingest.duck import ident

#: Bytes of JSON a list, struct, map or binary cell of a page holds about at most.
CELL_BYTES = 64 << 10
#: Bytes such cells of one row hold together: a page of more of them than this over CELL_BYTES cuts each at this
#: share of it (never below MIN_CELL_BYTES).
ROW_NESTED_BYTES = 1 << 20
#: The fewest bytes such a cell is cut at, however many of them a page selects.
MIN_CELL_BYTES = 256
#: Bytes a number, date or other scalar takes at most in a page's JSON, about (a timestamp with its zone).
SCALAR_BYTES = 32
#: The fewest characters (or bytes) a text (or binary) value inside such a cell is cut at.
MIN_TEXT = 64
#: The kinds of DuckDB type cut here (text cells are cut by the reader itself).
NESTED = frozenset({"list", "array", "struct", "map", "blob", "union"})
_TEXT = frozenset({"varchar", "json"})
#: The kind of DuckDB type Python receives only through pytz, which Conveyor does not install: a page reads it as
#: its UTC time (every connection's zone is UTC), as an import stores an instant with an offset.
ZONED = "timestamp with time zone"


@dataclass(frozen=True, slots=True)
class Cut:
    """One cell's SQL: `shown` the cell as the page holds it; `size` the whole cell's size when it was cut, else
    NULL, in `unit` (`items` of a list, array or map, `bytes` of a binary value, `chars` of a union shown as text;
    a struct cut inside has none: its size is 0)."""

    shown: str
    size: str
    unit: Literal["items", "bytes", "chars"] | None


def nested_budget(nested: int) -> int:
    """The bytes each list, struct, map or binary cell of a page with `nested` such columns is cut at."""
    return max(MIN_CELL_BYTES, min(CELL_BYTES, ROW_NESTED_BYTES // max(nested, 1)))


def is_nested(kind: DuckDBPyType) -> bool:
    return kind.id in NESTED


def cut_cell(column: str, kind: DuckDBPyType, budget: int) -> Cut:
    """The SQL that cuts the cell of `column` (of DuckDB type `kind`, one of NESTED) to about `budget` bytes."""
    value = ident(column)
    shown, needs = _cut(value, kind, budget, 0)
    whole, unit = _size(value, kind)
    return Cut(shown, f"CASE WHEN coalesce({needs or 'false'}, false) THEN {whole} END", unit)


def fetchable(value: str, kind: DuckDBPyType) -> str:
    """`value` (SQL of type `kind`) as Python can fetch it: an instant with a zone as its UTC timestamp."""
    return f"CAST({value} AS TIMESTAMP)" if kind.id == ZONED else value


def _size(value: str, kind: DuckDBPyType) -> tuple[str, Literal["items", "bytes", "chars"] | None]:
    if kind.id == "map":
        return f"cardinality({value})", "items"
    if kind.id in ("list", "array"):
        return f"len({value})", "items"
    if kind.id == "blob":
        return f"octet_length({value})", "bytes"
    if kind.id == "union":
        return f"length(CAST({value} AS VARCHAR))", "chars"
    return "0", None


def _floor(kind: DuckDBPyType) -> int:
    """The fewest bytes a value of `kind` is cut to (a list keeps at least one item)."""
    if kind.id in _TEXT or kind.id in ("blob", "union"):
        return MIN_TEXT
    if kind.id in ("list", "array"):
        return _floor(_child(kind)) + 2
    if kind.id in ("struct", "map"):
        return sum(_floor(child) for _, child in _fields(kind)) + 2
    return SCALAR_BYTES


def _child(kind: DuckDBPyType) -> DuckDBPyType:
    return kind.children[0][1]


def _fields(kind: DuckDBPyType) -> list[tuple[str, DuckDBPyType]]:
    return [(name, child) for name, child in kind.children]


def _cut(value: str, kind: DuckDBPyType, budget: int, depth: int) -> tuple[str, str | None]:
    """`value` (SQL of type `kind`) cut to about `budget` bytes, and the SQL that says whether it was cut (None:
    it never is)."""
    if kind.id in _TEXT or kind.id == "union":
        text, n = (value if kind.id in _TEXT else f"CAST({value} AS VARCHAR)"), max(MIN_TEXT, budget)
        return f"left({text}, {n})", f"length({text}) > {n}"
    if kind.id == "blob":
        n = max(MIN_TEXT, budget)
        return f"({value})[1:{n}]", f"octet_length({value}) > {n}"
    if kind.id in ("list", "array"):
        return _cut_list(value, _child(kind), budget, depth)
    if kind.id == "struct":
        return _cut_struct(value, _fields(kind), budget, depth)
    if kind.id == "map":
        return _cut_map(value, kind, budget, depth)
    return fetchable(value, kind), None


def _items(child_floor: int, budget: int) -> int:
    return max(1, budget // max(child_floor, 1))


def _cut_list(value: str, child: DuckDBPyType, budget: int, depth: int) -> tuple[str, str | None]:
    """The first items of a list that fit `budget`, each cut to its share of it."""
    keep = _items(_floor(child), budget)
    item = f"__cut{depth}"
    head = f"list_slice({value}, 1, {keep})"
    shown, needs = _cut(item, child, budget // keep, depth + 1)
    longer = f"len({value}) > {keep}"
    if needs is None:
        return (head if shown == item else f"list_transform({head}, lambda {item}: {shown})"), longer
    inner = f"coalesce(list_bool_or(list_transform({head}, lambda {item}: {needs})), false)"
    return f"list_transform({head}, lambda {item}: {shown})", f"({longer} OR {inner})"


def _cut_struct(value: str, fields: list[tuple[str, DuckDBPyType]], budget: int, depth: int) -> tuple[str, str | None]:
    """Each field cut to its share of `budget` (in proportion to the least it can be cut to)."""
    floors = [_floor(kind) for _, kind in fields]
    total = max(sum(floors), 1)
    shown, needs, changed = [], [], False
    for (name, kind), floor in zip(fields, floors, strict=True):
        field = f"({value}).{ident(name)}"
        cut, cut_needs = _cut(field, kind, max(floor, budget * floor // total), depth)
        shown.append(f"{ident(name)} := {cut}")
        changed |= cut != field
        if cut_needs is not None:
            needs.append(f"coalesce({cut_needs}, false)")
    packed = f"CASE WHEN {value} IS NOT NULL THEN struct_pack({', '.join(shown)}) END"
    if not needs:
        return (packed if changed else value), None
    return packed, f"({' OR '.join(needs)})"


def _cut_map(value: str, kind: DuckDBPyType, budget: int, depth: int) -> tuple[str, str | None]:
    """A map's first entries that fit `budget`, each key and value cut to its share. Keys cut alike would make
    two equal keys (which a map refuses): such a cut map is shown as NULL, still listed as cut."""
    entry = f"__cut{depth}"
    (_, key), (_, item) = _fields(kind)
    keep = _items(_floor(key) + _floor(item) + 2, budget)
    share = budget // keep
    key_floor, item_floor = _floor(key), _floor(item)
    key_shown, key_needs = _cut(f"{entry}.key", key, share * key_floor // (key_floor + item_floor), depth + 1)
    item_shown, item_needs = _cut(f"{entry}.value", item, share * item_floor // (key_floor + item_floor), depth + 1)
    head = f"list_slice(map_entries({value}), 1, {keep})"
    entries = f"list_transform({head}, lambda {entry}: {{'key': {key_shown}, 'value': {item_shown}}})"
    shown = f"map_from_entries({entries})"
    if key_needs is not None:
        keys = f"list_transform({entries}, lambda {entry}: {entry}.key)"
        shown = f"CASE WHEN len(list_distinct({keys})) = len({keys}) THEN {shown} END"
    inner = " OR ".join(f"coalesce({n}, false)" for n in (key_needs, item_needs) if n is not None)
    longer = f"cardinality({value}) > {keep}"
    if not inner:
        return shown, longer
    return shown, f"({longer} OR coalesce(list_bool_or(list_transform({head}, lambda {entry}: {inner})), false))"
