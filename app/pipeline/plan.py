"""How each step runs: inlined as a view, materialised as a table, streamed into the output, or an action.

A view costs nothing until something reads it, so steps that keep the row count (or change it predictably:
`limit`) are views, and their row counts are derived exactly from their input's. A `filter` is a view too, and
its rows are counted by a `count(*)` that reads only the predicate's columns (cheap; materialising every column
of a large filtered relation is not). Steps whose row count only a full evaluation can tell (dedupe, aggregate,
join, sql, plugins) are tables, so each step's rows are known without evaluating it twice. `validate` needs a
table to run its rules on. The last relational step of a spec with an output is streamed into the output file.
(DuckDB does not prepare CREATE VIEW: a view reads its `$name` parameters from DuckDB variables, see
`sandbox.view_query`; a table binds them as a prepared statement.)
"""

from __future__ import annotations

from enum import StrEnum

from app.pipeline.spec import (
    CastStep,
    FillNullStep,
    FilterStep,
    LimitStep,
    MaskStep,
    RenameStep,
    ResolvedStep,
    SelectStep,
    SortStep,
    ValidateStep,
)


class How(StrEnum):
    """How one step runs."""

    ACTION = "action"
    VIEW = "view"
    COUNTED_VIEW = "counted_view"
    TABLE = "table"
    OUTPUT = "output"
    VALIDATE = "validate"


#: Steps whose rows out can be derived from their rows in without reading data.
DERIVED_ROWS = (SelectStep, RenameStep, CastStep, FillNullStep, MaskStep, SortStep, LimitStep)


def plan(steps: list[ResolvedStep], *, has_output: bool) -> list[How]:
    """How each of `steps` runs."""
    last = max((step.index for step in steps if step.relational), default=None)
    hows = []
    for step in steps:
        if not step.relational:
            hows.append(How.ACTION)
        elif isinstance(step.step, ValidateStep):
            hows.append(How.VALIDATE)
        elif has_output and step.index == last:
            hows.append(How.OUTPUT)
        elif isinstance(step.step, DERIVED_ROWS):
            hows.append(How.VIEW)
        elif isinstance(step.step, FilterStep):
            hows.append(How.COUNTED_VIEW)
        else:
            hows.append(How.TABLE)
    return hows


def derived_rows(step: ResolvedStep, rows_in: int | None) -> int | None:
    """Rows out of a view step, from its rows in (None when they cannot be known without reading)."""
    if rows_in is None or not isinstance(step.step, DERIVED_ROWS):
        return None
    if isinstance(step.step, LimitStep):
        return max(0, min(step.step.rows, rows_in - step.step.offset))
    return rows_in
