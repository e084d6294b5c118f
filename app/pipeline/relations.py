"""The relations of one pipeline on one DuckDB connection: inputs as views, steps as views or tables.

Shared by a run (inputs are views over Parquet files) and by validation (inputs are empty stand-in tables), so
both compile, bind and create every step the same way.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

import duckdb

from app.ingest.duck import column_stats, ident, literal, our_type, run
from app.ingest.errors import ImportCancelled
from app.ingest.models import ColumnStats
from app.pipeline.compile import Compiled, CompileError, StepContext, compile_step
from app.pipeline.errors import PipelineCancelled, SandboxViolation, step_error
from app.pipeline.models import ColumnInfo
from app.pipeline.plan import How, derived_rows
from app.pipeline.sandbox import QueryProblem, query_parameters, set_parameters, view_query
from app.pipeline.spec import FilterStep, InvalidPipelineSpec, ResolvedStep, SqlStep, StepCatalog

#: How the output is written: Parquet, straight to the one allowed path (no temporary file beside it).
COPY_OPTIONS = "(FORMAT parquet, USE_TMP_FILE false)"


def sql_field(resolved: ResolvedStep) -> str:
    """The spec path of the SQL text a step's error is about (`steps[2].sql`, `steps[3].where`, or the step)."""
    if isinstance(resolved.step, SqlStep):
        return f"{resolved.field}.sql"
    if isinstance(resolved.step, FilterStep):
        return f"{resolved.field}.where"
    return resolved.field


class Relations:
    """Creates and tracks the relations of one pipeline; every long statement can be interrupted."""

    def __init__(
        self,
        conn: duckdb.DuckDBPyConnection,
        *,
        params: Mapping[str, Any],
        catalog: StepCatalog,
        log: Callable[[str, str], None],
        should_stop: Callable[[], bool] | None = None,
    ) -> None:
        self.conn = conn
        self.params = dict(params)
        self._by_lower = {name.lower(): name for name in params}
        self.catalog = catalog
        self.log = log
        self.should_stop = should_stop
        #: Rows of each relation (exact: counted, derived, or from Parquet metadata).
        self.rows: dict[str, int | None] = {}
        #: The view steps each relation inlines (they run as part of whatever reads it).
        self._views: dict[str, tuple[str, ...]] = {}
        self._tables: set[str] = set()
        set_parameters(conn, self.params)

    # --- statements ---

    def execute(self, sql: str, params: dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
        """Run a statement on a helper thread, interrupted as soon as `should_stop()` says so."""
        try:
            return run(self.conn, sql, should_stop=self.should_stop, params=params or None)
        except ImportCancelled:
            raise PipelineCancelled("pipeline cancelled") from None

    def bind(self, sql: str) -> dict[str, Any]:
        """The values of the `$name` parameters `sql` uses; QueryProblem when it is not one query or names an
        unknown parameter (names match case-insensitively, as DuckDB does)."""
        bound = {}
        for name in query_parameters(sql):
            declared = self._by_lower.get(name.lower())
            if declared is None:
                hint = "positional parameters are not supported; " if name.isdigit() else ""
                raise QueryProblem(f"unknown parameter ${name}; {hint}declare it under `params`", "unknown_param")
            bound[name] = self.params[declared]
        return bound

    # --- inputs ---

    def add_parquet(self, name: str, path: str) -> int:
        """Expose a Parquet file as view `name`; its row count comes from the file's metadata."""
        source = f"read_parquet({literal(os.path.abspath(path))})"
        self.conn.execute(f"CREATE VIEW {ident(name)} AS SELECT * FROM {source}").fetchall()
        row = self.conn.execute(f"SELECT count(*) FROM {source}").fetchone()
        rows = int(row[0]) if row else 0
        self.note(name, rows, views=(), table=True)
        return rows

    def add_stand_in(self, name: str, schema: list[tuple[str, str]]) -> None:
        """An empty table `name` with the given (column, DuckDB type) schema, standing in for an input."""
        columns = ", ".join(f"{ident(column)} {self.conn.sqltype(kind)}" for column, kind in schema)
        self.conn.execute(f"CREATE TABLE {ident(name)} ({columns})").fetchall()
        self.note(name, 0, views=(), table=True)

    # --- steps ---

    def compile(self, resolved: ResolvedStep) -> Compiled:
        ctx = StepContext(
            conn=self.conn,
            step_id=resolved.id,
            source=resolved.input,
            other=resolved.other,
            params=self.params,
            log=self.log,
        )
        try:
            return compile_step(resolved.step, ctx, self.catalog.executors)
        except CompileError as exc:
            where = f"{resolved.field}.{exc.where}" if exc.where else resolved.field
            raise InvalidPipelineSpec(
                f"{where}: {exc}",
                code="invalid_pipeline_spec",
                errors=[{"field": where, "message": str(exc), "code": exc.code}],
            ) from None
        except duckdb.Error as exc:
            raise step_error(exc, field=resolved.field, step_id=resolved.id) from None

    def create(self, resolved: ResolvedStep, how: How) -> tuple[int | None, How]:
        """Create step `resolved` as a view or a table; its rows out and how it was created."""
        compiled = self.compile(resolved)
        params = self._bind_step(resolved, compiled)
        name = ident(resolved.id)
        with self.step_errors(resolved):
            if how in (How.VIEW, How.COUNTED_VIEW):
                self.conn.execute(f"CREATE VIEW {name} AS\n{self._view_sql(resolved, compiled, params)}").fetchall()
                if how is How.VIEW:
                    rows = derived_rows(resolved, self.rows.get(resolved.input or ""))
                else:
                    rows = int(self.execute(f"SELECT count(*) FROM {name}")[0][0])
                self.note(resolved.id, rows, views=(*self.upstream_views(resolved), resolved.id), table=False)
                return rows, how
            result = self.execute(f"CREATE TABLE {name} AS\n{compiled.sql}", params)
        rows = int(result[0][0]) if result else 0
        self.note(resolved.id, rows, views=(), table=True)
        return rows, How.TABLE

    def stand_in(self, resolved: ResolvedStep) -> None:
        """Bind step `resolved` without running it: an empty table with the columns a run would give the step, so
        validation reads no data however costly the query is (later steps bind against the empty table)."""
        compiled = self.compile(resolved)
        params = self._bind_step(resolved, compiled)
        name = ident(resolved.id)
        with self.step_errors(resolved):
            # A view names its columns as a table created from the query would (duplicates get a suffix).
            self.conn.execute(f"CREATE VIEW {name} AS\n{self._view_sql(resolved, compiled, params)}").fetchall()
            bound = self.conn.sql(f"SELECT * FROM {name}")  # bound, never run
            columns = ", ".join(f"{ident(c)} {kind}" for c, kind in zip(bound.columns, bound.types, strict=True))
            self.conn.execute(f"DROP VIEW {name}").fetchall()
            self.conn.execute(f"CREATE TABLE {name} ({columns})").fetchall()
        self.note(resolved.id, 0, views=(), table=True)

    def write(self, resolved: ResolvedStep, target: str) -> int:
        """Stream step `resolved` into the Parquet file `target` (the run's only writable path); rows written."""
        compiled = self.compile(resolved)
        params = self._bind_step(resolved, compiled)
        name = ident(resolved.id)
        with self.step_errors(resolved):
            self.conn.execute(f"CREATE VIEW {name} AS\n{self._view_sql(resolved, compiled, params)}").fetchall()
            result = self.execute(f"COPY (SELECT * FROM {name}) TO {literal(target)} {COPY_OPTIONS}")
        rows = int(result[0][0]) if result else 0
        self.note(resolved.id, rows, views=(), table=False)
        return rows

    def copy_relation(self, relation: str, target: str, *, resolved: ResolvedStep | None = None) -> int:
        """Write an existing relation to the Parquet file `target`; rows written."""
        try:
            result = self.execute(f"COPY (SELECT * FROM {ident(relation)}) TO {literal(target)} {COPY_OPTIONS}")
        except duckdb.Error as exc:
            field = resolved.field if resolved else "output"
            raise step_error(exc, field=field, step_id=resolved.id if resolved else "output") from None
        return int(result[0][0]) if result else 0

    def is_table(self, relation: str) -> bool:
        return relation in self._tables

    def columns(self, relation: str) -> list[ColumnInfo]:
        rows = self.conn.execute(f"DESCRIBE SELECT * FROM {ident(relation)}").fetchall()
        return [ColumnInfo(name=row[0], type=our_type(row[1]), duckdb_type=row[1]) for row in rows]

    def file_stats(self, path: str) -> tuple[int, list[ColumnStats]]:
        return column_stats(self.conn, path)

    # --- helpers ---

    def _bind_step(self, resolved: ResolvedStep, compiled: Compiled) -> dict[str, Any]:
        try:
            return self.bind(compiled.sql)
        except QueryProblem as exc:
            field = sql_field(resolved)
            error = {"field": field, "message": str(exc), "code": exc.code}
            if exc.code == "sandbox_violation":
                raise SandboxViolation(f"step {resolved.id!r}: {exc}", errors=[error]) from None
            raise InvalidPipelineSpec(f"{field}: {exc}", code="invalid_pipeline_spec", errors=[error]) from None

    def _view_sql(self, resolved: ResolvedStep, compiled: Compiled, params: dict[str, Any]) -> str:
        """The step's query as a view body: `$name` placeholders read the run's parameter variables."""
        if not params:
            return compiled.sql
        try:
            return view_query(compiled.sql)
        except QueryProblem as exc:
            field = sql_field(resolved)
            raise InvalidPipelineSpec(
                f"{field}: {exc}",
                code="invalid_pipeline_spec",
                errors=[{"field": field, "message": str(exc), "code": exc.code}],
            ) from None

    def upstream_views(self, resolved: ResolvedStep) -> tuple[str, ...]:
        views: tuple[str, ...] = ()
        for relation in (resolved.input, resolved.other):
            if relation is not None:
                views += self._views.get(relation, ())
        return views

    def note(self, name: str, rows: int | None, *, views: tuple[str, ...], table: bool) -> None:
        self.rows[name] = rows
        self._views[name] = views
        if table:
            self._tables.add(name)

    def step_errors(self, resolved: ResolvedStep) -> _StepErrors:
        """A context that turns a DuckDB error of this step into the step's domain error."""
        return _StepErrors(self, resolved)


class _StepErrors:
    """Turns a DuckDB error raised by a step's statement into the step's domain error."""

    def __init__(self, relations: Relations, resolved: ResolvedStep) -> None:
        self.relations = relations
        self.resolved = resolved

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type | None, exc: BaseException | None, tb: Any) -> bool:
        if exc is None or not isinstance(exc, duckdb.Error):
            return False
        views = self.relations.upstream_views(self.resolved)
        note = f" (this step also runs the steps it reads as views: {', '.join(views)})" if views else ""
        raise step_error(exc, field=sql_field(self.resolved), step_id=self.resolved.id, note=note) from None
