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
import multiprocessing
import os
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
from app.settings import Settings

#: Resident memory a child may add to what it holds when first measured, as a multiple of the connection's memory
#: limit (DuckDB's buffers, plus what binding allocates outside them).
MEMORY_FACTOR = 4
#: How often the parent looks at the child's memory (seconds).
POLL_SECONDS = 0.02

_CONTEXT = multiprocessing.get_context("forkserver")
_CONTEXT.set_forkserver_preload([__name__])


def validate_in_child(
    spec: PipelineSpec, *, input_schemas: Mapping[str, Schema], params: Mapping[str, Any], settings: Settings
) -> ValidationReport:
    """`validate_spec` in a child process bounded by CONVEYOR_REQUEST_QUERY_SECONDS and _MEMORY_MB."""
    receiver, sender = _CONTEXT.Pipe(duplex=False)
    child = _CONTEXT.Process(
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
    budget = MEMORY_FACTOR * settings.request_query_memory_mb * 1024 * 1024
    deadline = time.monotonic() + settings.request_query_seconds
    baseline: int | None = None
    while True:
        try:
            if receiver.poll(max(0.0, min(POLL_SECONDS, deadline - time.monotonic()))):
                return receiver.recv()
        except EOFError:
            return "error", f"the child process ended with exit code {child.exitcode}"
        if time.monotonic() >= deadline:
            return "time", None
        resident = _resident_bytes(child.pid)
        if resident is not None:
            baseline = resident if baseline is None else baseline
            if resident - baseline > budget:
                return "memory", None


def _resident_bytes(pid: int) -> int | None:
    """Resident memory of process `pid` (Linux; None elsewhere, or once it is gone)."""
    try:
        with open(f"/proc/{pid}/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, IndexError, ValueError):
        return None


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
