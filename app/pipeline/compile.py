"""Each built-in relational step as one SELECT over its input relation (a registry by step type, no `eval`).

Column names are always quoted identifiers; constants of the spec (fill values, rule bounds, salts) are SQL
literals; run parameters stay `$name` placeholders and are bound when the statement runs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import duckdb

from app.ingest.duck import duckdb_type, ident, literal
from app.pipeline.spec import (
    AggregateStep,
    CastStep,
    DedupeStep,
    FillNullStep,
    FilterStep,
    JoinStep,
    KeepLast,
    LimitStep,
    MaskStep,
    OrderBy,
    Redact,
    RenameStep,
    SaltedHash,
    SelectStep,
    SortKey,
    SortStep,
    SqlStep,
    ValidateStep,
    aggregate_name,
)


@dataclass(frozen=True)
class Compiled:
    """A step's query. `raw` marks SQL written as a whole statement by a user or a plugin (it may end with `;` or a
    comment), which must never be wrapped in parentheses."""

    sql: str
    raw: bool = False


class CompileError(Exception):
    """A step that cannot become SQL as written (e.g. a join whose right column names clash)."""

    def __init__(self, message: str, code: str, where: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.where = where


class StepContext:
    """What a step's compiler (built-in or plugin) may use: its input relation, columns, parameters, the log."""

    ident = staticmethod(ident)
    literal = staticmethod(literal)

    def __init__(
        self,
        *,
        conn: duckdb.DuckDBPyConnection | None,
        step_id: str,
        source: str | None,
        other: str | None,
        params: Mapping[str, Any],
        log: Callable[[str, str], None],
    ) -> None:
        self._conn = conn
        self.step_id = step_id
        #: The name of the relation the step reads (unquoted), and the join's right-hand one.
        self.input = source
        self.other = other
        #: Parameter values (for information: SQL should bind them as `$name`).
        self.params = params
        self._log = log

    @property
    def source(self) -> str:
        """The input relation as a quoted identifier, ready to put after FROM."""
        if self.input is None:
            raise CompileError("this step has no input relation", "input_required")
        return ident(self.input)

    def relation(self, name: str) -> str:
        """Another relation (an input or an earlier step) as a quoted identifier."""
        return ident(name)

    def columns(self, relation: str | None = None) -> list[tuple[str, str]]:
        """(name, DuckDB type) of each column of the input relation, or of `relation`."""
        target = relation or self.input
        if target is None or self._conn is None:
            raise CompileError("this step has no input relation", "input_required")
        rows = self._conn.execute(f"DESCRIBE SELECT * FROM {ident(target)}").fetchall()
        return [(row[0], row[1]) for row in rows]

    def log(self, message: str, level: str = "info") -> None:
        self._log(message, level)


Compiler = Callable[[Any, StepContext], "Compiled | str"]

#: The compiler of each built-in relational step type.
COMPILERS: dict[type, Compiler] = {}


def compiler(kind: type) -> Callable[[Compiler], Compiler]:
    """Register the function that turns steps of spec type `kind` into a SELECT."""

    def register(function: Compiler) -> Compiler:
        COMPILERS[kind] = function
        return function

    return register


def compile_step(step: Any, ctx: StepContext, plugins: Mapping[type, Callable[..., Any]]) -> Compiled:
    """The query of one relational step, from the built-in registry or the step's plugin."""
    function = COMPILERS.get(type(step))
    if function is not None:
        result = function(step, ctx)
        return result if isinstance(result, Compiled) else Compiled(result)
    plugin = plugins.get(type(step))
    if plugin is None:
        raise CompileError(f"no executor for step type {type(step).__name__}", "unknown_step")
    sql = plugin(step, ctx)
    if not isinstance(sql, str) or not sql.strip():
        raise CompileError("the step's plugin did not return a SELECT query", "plugin_error")
    return Compiled(sql, raw=True)


@compiler(SqlStep)
def _sql(step: SqlStep, ctx: StepContext) -> Compiled:
    return Compiled(step.sql, raw=True)


@compiler(SelectStep)
def _select(step: SelectStep, ctx: StepContext) -> str:
    return f"SELECT {', '.join(ident(column) for column in step.columns)} FROM {ctx.source}"


@compiler(RenameStep)
def _rename(step: RenameStep, ctx: StepContext) -> str:
    pairs = ", ".join(f"{ident(old)} AS {ident(new)}" for old, new in step.columns.items())
    return f"SELECT * RENAME ({pairs}) FROM {ctx.source}"


@compiler(CastStep)
def _cast(step: CastStep, ctx: StepContext) -> str:
    function = "TRY_CAST" if step.safe else "CAST"
    parts = ", ".join(
        f"{function}({ident(column)} AS {duckdb_type(kind)}) AS {ident(column)}"
        for column, kind in step.columns.items()
    )
    return f"SELECT * REPLACE ({parts}) FROM {ctx.source}"


@compiler(FilterStep)
def _filter(step: FilterStep, ctx: StepContext) -> str:
    # The predicate sits on lines of its own so a trailing `--` comment cannot swallow the closing parenthesis.
    return f"SELECT * FROM {ctx.source} WHERE (\n{step.where}\n)"


def order_clause(keys: list[OrderBy], *, reverse: bool = False) -> str:
    """`"a" ASC NULLS LAST, ...` for sort keys. `reverse` flips each direction but not where nulls go, so dedupe's
    `keep: last` prefers rows with a value, as `keep: first` does (and DuckDB keeps its fast path)."""
    parts = []
    for key in keys:
        spec = key if isinstance(key, SortKey) else SortKey(column=key)
        descending = spec.descending != reverse
        parts.append(
            f"{ident(spec.column)} {'DESC' if descending else 'ASC'} NULLS {'FIRST' if spec.nulls_first else 'LAST'}"
        )
    return ", ".join(parts)


@compiler(DedupeStep)
def _dedupe(step: DedupeStep, ctx: StepContext) -> str:
    if not step.keys:
        return f"SELECT DISTINCT * FROM {ctx.source}"
    keys = ", ".join(ident(key) for key in step.keys)
    order = f" ORDER BY {order_clause(step.order_by, reverse=step.keep == 'last')}" if step.order_by else ""
    return f"SELECT * FROM {ctx.source} QUALIFY row_number() OVER (PARTITION BY {keys}{order}) = 1"


@compiler(FillNullStep)
def _fill_null(step: FillNullStep, ctx: StepContext) -> str:
    parts = ", ".join(
        f"coalesce({ident(column)}, {literal(value)}) AS {ident(column)}" for column, value in step.values.items()
    )
    return f"SELECT * REPLACE ({parts}) FROM {ctx.source}"


def mask_expression(column: str, method: SaltedHash | Redact | KeepLast) -> str:
    """The SQL expression that masks one column (nulls stay null)."""
    text = f"CAST({ident(column)} AS VARCHAR)"
    if isinstance(method, SaltedHash):
        salt = literal(method.salt) if method.salt is not None else f"CAST(${method.salt_param} AS VARCHAR)"
        return f"sha256({salt} || {text})"
    if isinstance(method, Redact):
        return f"CASE WHEN {ident(column)} IS NULL THEN NULL ELSE {literal(method.replacement)} END"
    keep = f"right({text}, {method.n})" if method.n else "''"
    masked = f"repeat({literal(method.mask_char)}, greatest(length({text}) - {method.n}, 0)) || {keep}"
    return f"CASE WHEN {ident(column)} IS NULL THEN NULL ELSE {masked} END"


@compiler(MaskStep)
def _mask(step: MaskStep, ctx: StepContext) -> str:
    parts = ", ".join(f"{mask_expression(column, step.method)} AS {ident(column)}" for column in step.columns)
    return f"SELECT * REPLACE ({parts}) FROM {ctx.source}"


@compiler(ValidateStep)
def _validate(step: ValidateStep, ctx: StepContext) -> str:
    return f"SELECT * FROM {ctx.source}"


#: SQL of each aggregate function (`{}` is the quoted column).
AGGREGATES = {
    "count": "count({})",
    "count_distinct": "count(DISTINCT {})",
    "sum": "sum({})",
    "avg": "avg({})",
    "min": "min({})",
    "max": "max({})",
    "median": "median({})",
    "stddev": "stddev_samp({})",
    "variance": "var_samp({})",
    "any_value": "any_value({})",
}


@compiler(AggregateStep)
def _aggregate(step: AggregateStep, ctx: StepContext) -> str:
    groups = [ident(column) for column in step.group_by]
    values = []
    for aggregate in step.aggregates:
        argument = "*" if aggregate.column is None else ident(aggregate.column)
        values.append(f"{AGGREGATES[aggregate.function].format(argument)} AS {ident(aggregate_name(aggregate))}")
    select = ", ".join([*groups, *values])
    group_by = f" GROUP BY {', '.join(groups)}" if groups else ""
    return f"SELECT {select} FROM {ctx.source}{group_by}"


_JOINS = {"inner": "INNER JOIN", "left": "LEFT JOIN", "right": "RIGHT JOIN", "full": "FULL OUTER JOIN"}


@compiler(JoinStep)
def _join(step: JoinStep, ctx: StepContext) -> str:
    left, right = ctx.columns(), ctx.columns(step.with_)
    keys = [(key, key) if isinstance(key, str) else (key.left, key.right) for key in step.on]
    shared = {a.lower() for a, b in keys if a.lower() == b.lower()}
    select = []
    for name, _ in left:
        if name.lower() in shared and step.how in ("right", "full"):
            select.append(f"coalesce(l.{ident(name)}, r.{ident(name)}) AS {ident(name)}")
        else:
            select.append(f"l.{ident(name)}")
    taken = {name.lower() for name, _ in left}
    for name, _ in right:
        if name.lower() in shared:
            continue
        out = name + step.suffix if name.lower() in taken else name
        if out.lower() in taken:
            raise CompileError(
                f"right column {name!r} would be named {out!r}, which is taken; change `suffix`",
                "duplicate_column",
                "suffix",
            )
        taken.add(out.lower())
        select.append(f"r.{ident(name)}" + (f" AS {ident(out)}" if out != name else ""))
    on = " AND ".join(f"l.{ident(a)} = r.{ident(b)}" for a, b in keys)
    return (
        f"SELECT {', '.join(select)} FROM {ctx.source} AS l {_JOINS[step.how]} {ctx.relation(step.with_)} AS r ON {on}"
    )


@compiler(SortStep)
def _sort(step: SortStep, ctx: StepContext) -> str:
    return f"SELECT * FROM {ctx.source} ORDER BY {order_clause(step.by)}"


@compiler(LimitStep)
def _limit(step: LimitStep, ctx: StepContext) -> str:
    return f"SELECT * FROM {ctx.source} LIMIT {step.rows} OFFSET {step.offset}"
