"""The pipeline spec document: a list of typed steps, validated with msgspec.

Only the run engine's built-in steps exist so far; each is a Struct tagged by
its `type`, so an unknown type or a wrong field is a clear validation error.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

from app.domain.errors import InvalidInput

#: Longest a `sleep` step may ask for, in seconds (a run's timeout still applies).
MAX_SLEEP_SECONDS = 86_400.0


class LogStep(msgspec.Struct, tag_field="type", tag="log", kw_only=True, forbid_unknown_fields=True):
    """Write a message to the run's log."""

    message: Annotated[str, msgspec.Meta(max_length=10_000)]
    level: Annotated[str, msgspec.Meta(pattern="^(debug|info|warning|error)$")] = "info"


class SleepStep(msgspec.Struct, tag_field="type", tag="sleep", kw_only=True, forbid_unknown_fields=True):
    """Wait; cancel and timeout interrupt it at once."""

    seconds: Annotated[float, msgspec.Meta(ge=0, le=MAX_SLEEP_SECONDS)]


class FailStep(msgspec.Struct, tag_field="type", tag="fail", kw_only=True, forbid_unknown_fields=True):
    """Fail the attempt with a message (useful to test retry and alerting paths)."""

    message: Annotated[str, msgspec.Meta(max_length=10_000)] = "failed by a fail step"


Step = LogStep | SleepStep | FailStep


class PipelineSpec(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """What a pipeline does: its ordered steps."""

    steps: Annotated[list[Step], msgspec.Meta(max_length=1000)] = msgspec.field(default_factory=list)


# msgspec builds a type's decoding info on first use, and doing that in several threads at once has been seen
# to crash the interpreter (msgspec 0.22, a NULL read in `convert`). Build it here, once, at import.
msgspec.convert({"steps": [{"type": "log", "message": ""}]}, PipelineSpec)


def parse_spec(document: Any) -> PipelineSpec:
    """Validate a spec document (already decoded JSON), or raise InvalidInput naming the field."""
    try:
        return msgspec.convert(document, PipelineSpec)
    except msgspec.ValidationError as exc:
        raise InvalidInput(
            "the pipeline spec is not valid",
            code="invalid_pipeline_spec",
            errors=[validation_error(exc, prefix="spec")],
        ) from None


def validation_error(exc: msgspec.ValidationError, *, prefix: str = "") -> dict[str, str]:
    """msgspec's message and path as one per-field error entry."""
    text = str(exc)
    message, sep, path = text.rpartition(" - at `")
    if not sep:
        return {"field": prefix or "$", "message": text}
    path = path.rstrip("`").removeprefix("$")
    field = (prefix + path) if prefix else path.lstrip(".") or "$"
    return {"field": field.lstrip("."), "message": message}
