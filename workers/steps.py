"""The step registry: one function per step type, looked up by the spec's Struct type."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from app.domain.pipeline_spec import FailStep, LogStep, SleepStep
from workers.context import RunContext, StepFailed

StepFunction = Callable[[Any, RunContext], None]

REGISTRY: dict[type, StepFunction] = {}


def step(kind: type) -> Callable[[StepFunction], StepFunction]:
    """Register the function that executes steps of spec type `kind`."""

    def register(function: StepFunction) -> StepFunction:
        REGISTRY[kind] = function
        return function

    return register


@step(LogStep)
def run_log(spec: LogStep, ctx: RunContext) -> None:
    ctx.log(spec.message, level=spec.level)


@step(SleepStep)
def run_sleep(spec: SleepStep, ctx: RunContext) -> None:
    ctx.log(f"sleeping {spec.seconds:g} s")
    ctx.wait(spec.seconds)


@step(FailStep)
def run_fail(spec: FailStep, ctx: RunContext) -> None:
    raise StepFailed(spec.message)
