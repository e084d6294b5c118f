"""The API's operations as transport-free flows (see http.py), shared by the sync and async clients.

Each function builds its calls and reads the replies; `Client` and `AsyncClient` bind them as methods.
"""

from __future__ import annotations

from typing import Any, cast

from app.client.http import Call, Flow, Sleep, request
from app.client.types import FINAL_STATUSES, Dataset, Deployment, Page, Rows, Run

API = "/api/v1"


def _idempotency(key: str | None) -> dict[str, str]:
    return {"Idempotency-Key": key} if key else {}


def _drop_none(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


# ---- account ---------------------------------------------------------------------------------------


def login(username: str, password: str) -> Flow[dict[str, Any]]:
    """Sign in: {"access_token", "refresh_token", "expires_in"}."""
    body = {"username": username, "password": password}
    return cast(dict[str, Any], (yield from request(Call("POST", f"{API}/auth/login", json=body))))


def logout() -> Flow[None]:
    """End this session on the server (its access and refresh tokens stop working)."""
    yield from request(Call("POST", f"{API}/auth/logout"))


def me() -> Flow[dict[str, Any]]:
    return cast(dict[str, Any], (yield from request(Call("GET", f"{API}/auth/me"))))


# ---- runs ------------------------------------------------------------------------------------------


def submit_run(
    pipeline: str,
    params: dict[str, Any] | None = None,
    *,
    namespace: str = "default",
    priority: int | None = None,
    idempotency_key: str | None = None,
) -> Flow[Run]:
    """Submit one run of a pipeline (name or id); with an Idempotency-Key a repeat returns the same run."""
    body = _drop_none({"pipeline": pipeline, "params": params or {}, "namespace": namespace, "priority": priority})
    call = Call("POST", f"{API}/runs", json=body, headers=_idempotency(idempotency_key))
    return cast(Run, (yield from request(call)))


def submit_batch(runs: list[dict[str, Any]], *, idempotency_key: str | None = None) -> Flow[list[Run]]:
    """Submit several runs in one transaction (at most the server's CONVEYOR_MAX_BATCH_RUNS)."""
    call = Call("POST", f"{API}/runs/batch", json={"runs": runs}, headers=_idempotency(idempotency_key))
    out = yield from request(call)
    return cast(list[Run], out["runs"])


def get_run(run_id: str) -> Flow[Run]:
    return cast(Run, (yield from request(Call("GET", f"{API}/runs/{run_id}"))))


def list_runs(*, limit: int = 100, cursor: str | None = None, **filters: Any) -> Flow[Page]:
    """One page of runs, newest first; filters: status, kind, pipeline, deployment_id, namespace, …"""
    params = _drop_none({"limit": limit, "cursor": cursor, **filters})
    return cast(Page, (yield from request(Call("GET", f"{API}/runs", params=params))))


def cancel_run(run_id: str) -> Flow[Run]:
    return cast(Run, (yield from request(Call("POST", f"{API}/runs/{run_id}/cancel"))))


def retry_run(run_id: str) -> Flow[Run]:
    return cast(Run, (yield from request(Call("POST", f"{API}/runs/{run_id}/retry"))))


def run_log(run_id: str, *, after: int = 0, limit: int = 500) -> Flow[dict[str, Any]]:
    """One page of a run's persisted log: {"items", "next_after", "run_status"}."""
    call = Call("GET", f"{API}/runs/{run_id}/logs", params={"after": after, "limit": limit})
    return cast(dict[str, Any], (yield from request(call)))


def wait_for_run(run_id: str, *, timeout: float | None = None, poll: float = 0.25, max_poll: float = 2.0) -> Flow[Run]:
    """Poll until the run is final; `timeout` counts the time slept (TimeoutError after it)."""
    slept = 0.0
    while True:
        run = yield from get_run(run_id)
        if run["status"] in FINAL_STATUSES:
            return run
        if timeout is not None and slept >= timeout:
            raise TimeoutError(f"run {run_id} is still {run['status']} after {timeout:g} s")
        yield Sleep(poll)
        slept += poll
        poll = min(poll * 1.5, max_poll)


# ---- datasets --------------------------------------------------------------------------------------


def get_dataset(dataset_id: str) -> Flow[Dataset]:
    return cast(Dataset, (yield from request(Call("GET", f"{API}/datasets/{dataset_id}"))))


def list_datasets(*, limit: int = 100, cursor: str | None = None, **filters: Any) -> Flow[Page]:
    params = _drop_none({"limit": limit, "cursor": cursor, **filters})
    return cast(Page, (yield from request(Call("GET", f"{API}/datasets", params=params))))


def preview_dataset(dataset_id: str, config: dict[str, Any] | None = None, *, rows: int = 20) -> Flow[dict[str, Any]]:
    """How the file reads with `config` (sheet, header_row, delimiter, …): columns, first rows, suggestions."""
    call = Call("POST", f"{API}/datasets/{dataset_id}/preview", params={"rows": rows}, json=config or {})
    return cast(dict[str, Any], (yield from request(call)))


def import_dataset(
    dataset_id: str, config: dict[str, Any] | None = None, *, idempotency_key: str | None = None
) -> Flow[Run]:
    """Start importing the uploaded file into a new version; returns the import run."""
    call = Call(
        "POST", f"{API}/datasets/{dataset_id}/imports", json=config or {}, headers=_idempotency(idempotency_key)
    )
    return cast(Run, (yield from request(call)))


def dataset_rows(
    dataset_id: str, *, offset: int = 0, limit: int = 100, version: int | None = None, **query: Any
) -> Flow[Rows]:
    params = _drop_none({"offset": offset, "limit": limit, "version": version, **query})
    return cast(Rows, (yield from request(Call("GET", f"{API}/datasets/{dataset_id}/rows", params=params))))


def wait_for_dataset(dataset_id: str, run_id: str, *, timeout: float | None = None) -> Flow[Dataset]:
    """Wait for an import run, then return the dataset (its status says ready or failed)."""
    yield from wait_for_run(run_id, timeout=timeout)
    return (yield from get_dataset(dataset_id))


# ---- deployments -----------------------------------------------------------------------------------


def list_deployments(*, limit: int = 100, cursor: str | None = None) -> Flow[Page]:
    params = _drop_none({"limit": limit, "cursor": cursor})
    return cast(Page, (yield from request(Call("GET", f"{API}/deployments", params=params))))


def get_deployment(deployment_id: str) -> Flow[Deployment]:
    return cast(Deployment, (yield from request(Call("GET", f"{API}/deployments/{deployment_id}"))))


def pause_deployment(deployment_id: str) -> Flow[Deployment]:
    return cast(Deployment, (yield from request(Call("POST", f"{API}/deployments/{deployment_id}/pause"))))


def resume_deployment(deployment_id: str) -> Flow[Deployment]:
    return cast(Deployment, (yield from request(Call("POST", f"{API}/deployments/{deployment_id}/resume"))))


def trigger_deployment(
    deployment_id: str, params: dict[str, Any] | None = None, *, idempotency_key: str | None = None
) -> Flow[Run]:
    """Start a run of the deployment now (outside its schedule)."""
    call = Call(
        "POST",
        f"{API}/deployments/{deployment_id}/trigger",
        json={"params": params or {}},
        headers=_idempotency(idempotency_key),
    )
    return cast(Run, (yield from request(call)))
