"""Typed views of the API's JSON documents (plain dicts at run time, so unknown fields pass through).

Only the fields the client and the CLI rely on are listed; the OpenAPI document has them all.
"""

from __future__ import annotations

from typing import Any, Literal, TypedDict

# The one definition of run states (app.core imports nothing above it, so the client stays HTTP-only).
from app.core.states import FINAL, RunStatus

#: Statuses after which a run no longer changes.
FINAL_STATUSES: frozenset[str] = frozenset(s.value for s in FINAL)


class Run(TypedDict, total=False):
    id: str
    status: RunStatus
    kind: str
    attempt: int
    pipeline_id: str | None
    params: dict[str, Any]
    error: dict[str, Any] | None
    created_at: str
    finished_at: str | None
    output_dataset_id: str | None


class Page(TypedDict):
    items: list[dict[str, Any]]
    next_cursor: str | None


class LogLine(TypedDict, total=False):
    n: int
    message: str
    level: str
    at: str


class Upload(TypedDict, total=False):
    id: str
    filename: str
    size: int
    received: int
    missing: list[list[int]]
    status: Literal["open", "complete", "expired"]


class Dataset(TypedDict, total=False):
    id: str
    name: str
    status: Literal["uploaded", "importing", "ready", "failed"]
    row_count: int | None
    current_version: int | None
    last_error: str | None
    last_import: dict[str, Any] | None


class Deployment(TypedDict, total=False):
    id: str
    name: str
    enabled: bool
    next_run_at: str | None
    pipeline_id: str


class Rows(TypedDict, total=False):
    columns: list[dict[str, str]]
    rows: list[list[Any]]
    total: int
    offset: int
    limit: int
    version: int
