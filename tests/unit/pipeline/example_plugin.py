"""An example third-party step plugin, as a package would ship it.

A real package declares it in its pyproject.toml:

    [project.entry-points."conveyor.steps"]
    uppercase = "tests.unit.pipeline.example_plugin:UPPERCASE"
    shout = "tests.unit.pipeline.example_plugin:Shout"
"""

from __future__ import annotations

from typing import Annotated

import msgspec

from app.pipeline.spec import ColumnName, RelationalStep, StepBase


class UppercaseStep(RelationalStep, tag="uppercase", kw_only=True):
    """Upper-case text columns."""

    columns: Annotated[list[ColumnName], msgspec.Meta(min_length=1)]


def uppercase(step: UppercaseStep, ctx) -> str:
    """A relational plugin returns one SELECT over `ctx.source`; `$name` parameters are bound by the engine."""
    parts = ", ".join(f"upper({ctx.ident(column)}) AS {ctx.ident(column)}" for column in step.columns)
    return f"SELECT * REPLACE ({parts}) FROM {ctx.source}"


#: The (Struct type, executor) pair form.
UPPERCASE = (UppercaseStep, uppercase)


class ShoutStep(StepBase, tag="shout", kw_only=True):
    """Log a message in capitals (an action step: it produces no rows)."""

    message: str


class Shout:
    """The "object exposing both" form."""

    step_type = ShoutStep

    @staticmethod
    def execute(step: ShoutStep, ctx) -> None:
        ctx.log(step.message.upper(), "warning")


#: Not a plugin: an entry point naming this is refused (see test_bad_plugins_are_refused).
MODULE_DOC = "not a plugin"
