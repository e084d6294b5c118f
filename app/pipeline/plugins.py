"""Third-party pipeline step types, found through the `conveyor.steps` entry point group.

A package adds a step type without touching the core by declaring, in its `pyproject.toml`::

    [project.entry-points."conveyor.steps"]
    uppercase = "my_package.steps:PLUGIN"

where `PLUGIN` is either a `(StepType, execute)` pair or an object with `step_type` and `execute` attributes
(a module works). `StepType` subclasses `app.pipeline.spec.StepBase` (an action such as `log`) or
`RelationalStep` (a transformation with an `input`), with its own `tag`, and `kw_only=True``::

    class UppercaseStep(RelationalStep, tag="uppercase", kw_only=True):
        columns: list[ColumnName]

    def execute(step: UppercaseStep, ctx) -> str:      # a relational step returns one SELECT over ctx.source
        return f"SELECT * REPLACE ({...}) FROM {ctx.source}"

An action step's `execute(step, ctx)` returns None and may use `ctx.log(message, level)`. The same package must
be installed where the API runs (to parse specs) and where workers run (to execute them). The core builds the
step union from the built-in steps and these plugins when `app.pipeline.spec` is imported.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from typing import Any

#: The entry point group third-party step types register under.
ENTRY_POINT_GROUP = "conveyor.steps"


class PluginError(RuntimeError):
    """A `conveyor.steps` entry point that cannot be loaded or does not give a step type and an executor."""


@dataclass(frozen=True)
class StepPlugin:
    """One step type added from outside the core: its spec Struct and the function that executes it."""

    name: str
    step_type: type
    execute: Callable[..., Any]


def load_step_plugins(points: Iterable[EntryPoint] | None = None) -> list[StepPlugin]:
    """Load every entry point of the `conveyor.steps` group (or the given ones, e.g. in a test)."""
    found = entry_points(group=ENTRY_POINT_GROUP) if points is None else points
    return [_load(point) for point in sorted(found, key=lambda point: point.name)]


def _load(point: EntryPoint) -> StepPlugin:
    try:
        target = point.load()
    except Exception as exc:
        raise PluginError(f"step plugin {point.name!r} ({point.value}) cannot be loaded: {exc}") from exc
    if isinstance(target, tuple) and len(target) == 2:
        step_type, execute = target
    elif hasattr(target, "step_type") and hasattr(target, "execute"):
        step_type, execute = target.step_type, target.execute
    else:
        raise PluginError(
            f"step plugin {point.name!r} ({point.value}) must give a (StepType, execute) pair "
            "or an object with `step_type` and `execute`"
        )
    if not isinstance(step_type, type) or not callable(execute):
        raise PluginError(f"step plugin {point.name!r}: `step_type` must be a class and `execute` a function")
    return StepPlugin(name=point.name, step_type=step_type, execute=execute)
