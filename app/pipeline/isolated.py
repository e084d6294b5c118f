"""Validate a draft for an API request in a child process that the API can stop.

Validation runs no query, but DuckDB evaluates constant expressions while it binds (`repeat('x', 10^9)` in a
select list or a table function's argument): that work neither sees an interrupt nor counts against the
connection's memory limit. So the draft is bound in a child (forked from a server that has already imported the
engine), which the API kills when the request's time limit passes or when the child's resident memory grows past
its budget. Either is 422 `query_too_expensive`, as for the rest of a request's DuckDB work
(`app.ingest.bounded`).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Mapping
from multiprocessing.connection import Connection
from typing import Any

import duckdb

from app.ingest.bounded import QueryTooExpensive, request_limits
from app.ingest.config import DuckDBSettings
from app.pipeline.models import ValidationReport
from app.pipeline.spec import PipelineSpec
from app.pipeline.validate import Schema, validate_spec
from app.pipeline.watched import CONTEXT, POLL_SECONDS, MemoryWatch, memory_budget, preload
from app.settings import Settings

preload(__name__)


def validate_in_child(
    spec: PipelineSpec, *, input_schemas: Mapping[str, Schema], params: Mapping[str, Any], settings: Settings
) -> ValidationReport:
    """`validate_spec` in a child process bounded by CONVEYOR_REQUEST_QUERY_SECONDS and _MEMORY_MB."""
    receiver, sender = CONTEXT.Pipe(duplex=False)
    child = CONTEXT.Process(
        target=_child, args=(sender, spec, dict(input_schemas), dict(params), request_limits(settings)), daemon=True
    )
    child.start()
    sender.close()
    try:
        kind, value = _outcome(child, receiver, settings)
    finally:
        if child.is_alive():
            child.kill()
        child.join()
        receiver.close()
    if kind == "time":
        raise QueryTooExpensive(
            f"validating this draft took longer than the {settings.request_query_seconds:g} s limit "
            "(CONVEYOR_REQUEST_QUERY_SECONDS)"
        )
    if kind == "memory":
        raise QueryTooExpensive(
            f"validating this draft needed more than its memory limit ({settings.request_query_memory_mb} MB, "
            "CONVEYOR_REQUEST_QUERY_MEMORY_MB)"
        )
    if kind == "error":
        raise RuntimeError(f"validation failed in its child process: {value}")
    assert isinstance(value, ValidationReport)
    return value


def _outcome(child: Any, receiver: Connection, settings: Settings) -> tuple[str, Any]:
    """What the child sent, or `time`/`memory` when it passed a limit first (the caller then kills it)."""
    memory = MemoryWatch(child.pid, memory_budget(settings.request_query_memory_mb))
    deadline = time.monotonic() + settings.request_query_seconds
    while True:
        try:
            if receiver.poll(max(0.0, min(POLL_SECONDS, deadline - time.monotonic()))):
                return receiver.recv()
        except EOFError:
            return "error", f"the child process ended with exit code {child.exitcode}"
        if time.monotonic() >= deadline:
            return "time", None
        if memory.exceeded():
            return "memory", None


def _child(
    sender: Connection,
    spec: PipelineSpec,
    schemas: dict[str, Schema],
    params: dict[str, Any],
    limits: DuckDBSettings,
) -> None:
    try:
        report = validate_spec(spec, input_schemas=schemas, params=params, duckdb_settings=limits)
        short = any(error.code == "out_of_memory" for error in report.errors)
        outcome: tuple[str, Any] = ("memory", None) if short else ("report", report)
    except (MemoryError, duckdb.OutOfMemoryException):
        outcome = ("memory", None)
    except Exception as exc:  # reported to the parent, which raises it there
        outcome = ("error", f"{type(exc).__name__}: {exc}")
    with contextlib.suppress(OSError):
        sender.send(outcome)
    sender.close()
