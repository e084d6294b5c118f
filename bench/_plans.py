"""What a benchmark needs to show the plan of the statement it timed: the statement, caught as it ran."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, event


class StatementCapture:
    """Remembers the last statement an engine ran that `wanted` accepts (never an EXPLAIN), with its parameters."""

    def __init__(self, engine: Engine, wanted: Callable[[str], bool]) -> None:
        self.statement: str | None = None
        self.parameters: Any = None
        self._engine = engine
        self._wanted = wanted
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        if self._wanted(statement) and not statement.lstrip().upper().startswith("EXPLAIN"):
            self.statement, self.parameters = statement, parameters

    def close(self) -> None:
        """Stop listening."""
        event.remove(self._engine, "before_cursor_execute", self._seen)

    def explained(self) -> dict[str, Any]:
        """The EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) of the statement caught last: its top object."""
        assert self.statement is not None, "no statement caught"
        with self._engine.connect() as connection:
            return connection.exec_driver_sql(
                "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + self.statement, self.parameters
            ).scalar_one()[0]
