"""The run engine's step registry still executes log, sleep and fail steps of the extended spec."""

from __future__ import annotations

import pytest

from app.domain.pipeline_spec import parse_spec
from workers.context import StepFailed
from workers.steps import REGISTRY


class FakeContext:
    def __init__(self) -> None:
        self.lines: list[tuple[str, str]] = []
        self.waited: list[float] = []

    def log(self, message: str, *, level: str = "info") -> None:
        self.lines.append((level, message))

    def wait(self, seconds: float) -> None:
        self.waited.append(seconds)


def test_registry_runs_the_action_steps() -> None:
    spec = parse_spec(
        {"steps": [{"type": "log", "message": "hi", "level": "warning"}, {"type": "sleep", "seconds": 1}]}
    )
    ctx = FakeContext()
    for step in spec.steps:
        REGISTRY[type(step)](step, ctx)
    assert ctx.lines[0] == ("warning", "hi")
    assert ctx.waited == [1]
    step = parse_spec({"steps": [{"type": "fail", "message": "boom"}]}).steps[0]
    with pytest.raises(StepFailed, match="boom"):
        REGISTRY[type(step)](step, ctx)
