"""What a call can fail with: the server's problem document, or no answer at all."""

from __future__ import annotations

from typing import Any


class ConveyorError(Exception):
    """Every error this client raises."""


class ApiError(ConveyorError):
    """The server answered with an error status; `code` is the problem document's stable code."""

    def __init__(self, status: int, problem: dict[str, Any]) -> None:
        self.status = status
        self.problem = problem
        self.code: str = str(problem.get("code") or f"http_{status}")
        self.detail: str = str(problem.get("detail") or problem.get("title") or f"HTTP {status}")
        super().__init__(f"{status} {self.code}: {self.detail}")


class NetworkError(ConveyorError):
    """No answer (connection refused, reset, timed out) after the retries."""


class RunFailed(ConveyorError):
    """A waited-for run ended in a status other than SUCCEEDED."""

    def __init__(self, run: dict[str, Any]) -> None:
        self.run = run
        super().__init__(f"run {run.get('id')} ended {run.get('status')}")
