"""The synchronous client: `Client(url, token).submit_run("hello", {"day": "2026-11-22"})`."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

import httpx

from app.client import flows, uploads
from app.client.errors import NetworkError
from app.client.http import Call, Flow, Reply, RetryPolicy, Sleep, check, decode
from app.client.sse import SseDecoder
from app.client.types import Page

P = ParamSpec("P")
T = TypeVar("T")

#: Called with the new {"access_token", "refresh_token"} after a refresh (the CLI saves them).
TokenSaver = Callable[[dict[str, Any]], None]


def _bind(flow: Callable[P, Flow[T]]) -> Callable[Concatenate[Client, P], T]:
    def method(self: Client, *args: P.args, **kwargs: P.kwargs) -> T:
        return self.run(flow(*args, **kwargs))

    method.__doc__ = flow.__doc__
    method.__name__ = flow.__name__
    return method


class Client:
    """A signed-in connection to one Conveyor API; retries 429/503 and lost connections by itself."""

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        *,
        refresh_token: str | None = None,
        on_tokens: TokenSaver | None = None,
        retry: RetryPolicy | None = None,
        timeout: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
        http: httpx.Client | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.refresh_token = refresh_token
        self.on_tokens = on_tokens
        self.retry = retry or RetryPolicy()
        self.sleep = sleep
        self.http = http or httpx.Client(base_url=self.base_url, timeout=timeout)

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.http.close()

    # ---- the driver --------------------------------------------------------------------------------

    def run(self, flow: Flow[T]) -> T:
        """Drive a flow (flows.py) to its result, sending its calls and sleeping its sleeps."""
        try:
            step = next(flow)
            while True:
                if isinstance(step, Sleep):
                    self.sleep(step.seconds)
                    step = flow.send(None)
                else:
                    step = flow.send(self.send(step))
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]

    def send(self, call: Call) -> Reply:
        """One call with retries (429/503 honouring Retry-After, lost connections) and one token refresh."""
        attempt, refreshed = 0, False
        while True:
            attempt += 1
            try:
                response = self.http.request(
                    call.method,
                    call.path,
                    params=call.params,
                    json=call.json if call.content is None else None,
                    content=call.content,
                    headers={**self._auth(), **call.headers},
                )
            except httpx.TransportError as exc:
                delay = self.retry.delay(attempt, None) if _may_resend(call, exc) else None
                if delay is None:
                    raise NetworkError(f"{call.method} {call.path}: {exc or type(exc).__name__}") from exc
                self.sleep(delay)
                continue
            headers = dict(response.headers)
            if response.status_code == 401 and self.refresh_token and not refreshed and "/auth/" not in call.path:
                refreshed = True
                self._refresh()
                continue
            delay = self.retry.delay(attempt, response.status_code, headers)
            if delay is not None:
                self.sleep(delay)
                continue
            return check(
                call, Reply(response.status_code, headers, decode(response.status_code, headers, response.content))
            )

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def _refresh(self) -> None:
        reply = self.send(Call("POST", f"{flows.API}/auth/refresh", json={"refresh_token": self.refresh_token}))
        self.token, self.refresh_token = reply.body["access_token"], reply.body.get("refresh_token")
        if self.on_tokens:
            self.on_tokens(reply.body)

    # ---- operations (flows.py) -----------------------------------------------------------------------

    login = _bind(flows.login)
    logout = _bind(flows.logout)
    me = _bind(flows.me)
    submit_run = _bind(flows.submit_run)
    submit_batch = _bind(flows.submit_batch)
    get_run = _bind(flows.get_run)
    list_runs = _bind(flows.list_runs)
    cancel_run = _bind(flows.cancel_run)
    retry_run = _bind(flows.retry_run)
    run_log = _bind(flows.run_log)
    wait_for_run = _bind(flows.wait_for_run)
    get_dataset = _bind(flows.get_dataset)
    list_datasets = _bind(flows.list_datasets)
    preview_dataset = _bind(flows.preview_dataset)
    import_dataset = _bind(flows.import_dataset)
    dataset_rows = _bind(flows.dataset_rows)
    wait_for_dataset = _bind(flows.wait_for_dataset)
    list_deployments = _bind(flows.list_deployments)
    get_deployment = _bind(flows.get_deployment)
    pause_deployment = _bind(flows.pause_deployment)
    resume_deployment = _bind(flows.resume_deployment)
    trigger_deployment = _bind(flows.trigger_deployment)
    upload_file = _bind(uploads.upload_file)

    # ---- pagination, streams, files ------------------------------------------------------------------

    def paginate(self, page: Callable[..., Flow[Page]], **filters: Any) -> Iterator[dict[str, Any]]:
        """Every item of a keyset-paginated list, page after page: `paginate(flows.list_runs, status="FAILED")`."""
        cursor: str | None = None
        while True:
            out = self.run(page(cursor=cursor, **filters))
            yield from out["items"]
            cursor = out["next_cursor"]
            if not cursor:
                return

    def iter_runs(self, **filters: Any) -> Iterator[dict[str, Any]]:
        return self.paginate(flows.list_runs, **filters)

    def follow_log(self, run_id: str, *, last_event_id: str | None = None) -> Iterator[dict[str, Any]]:
        """The run's log lines live (Server-Sent Events), then one {"event": "end", "status": …}.

        A dropped stream is reopened with Last-Event-ID, so no line is lost or repeated.
        """
        failures = 0
        while True:
            headers = {**self._auth(), "Accept": "text/event-stream"}
            if last_event_id is not None:
                headers["Last-Event-ID"] = last_event_id
            try:
                with self.http.stream(
                    "GET",
                    f"{flows.API}/runs/{run_id}/logs/stream",
                    headers=headers,
                    timeout=httpx.Timeout(30, read=None),
                ) as response:
                    if response.status_code >= 400:
                        response.read()
                        check(
                            Call("GET", ""),
                            Reply(response.status_code, dict(response.headers), _json(response.content)),
                        )
                    decoder = SseDecoder()
                    for line in response.iter_lines():
                        event = decoder.feed(line)
                        if event is None:
                            continue
                        failures = 0
                        if event.id is not None:
                            last_event_id = event.id
                        data = {"event": event.event, **_json(event.data.encode())}
                        yield data
                        if event.event == "end":
                            return
            except httpx.TransportError as exc:
                failures += 1
                delay = self.retry.delay(failures, None)
                if delay is None:
                    raise NetworkError(f"log stream of run {run_id}: {exc}") from exc
                self.sleep(delay)
                continue
            # The server closed the stream before its end event (a restart): reopen where it stopped.
            failures += 1
            delay = self.retry.delay(failures, None)
            if delay is None:
                raise NetworkError(f"log stream of run {run_id} kept closing before its end")
            self.sleep(delay)

    def download_dataset(
        self, dataset_id: str, dest: Path | str, *, format: str = "csv", version: int | None = None
    ) -> Path:
        """Stream a dataset version to `dest` (format: raw — the uploaded file —, parquet, csv or json)."""
        dest = Path(dest)
        params: dict[str, Any] = {"format": format, **({"version": version} if version is not None else {})}
        with self.http.stream(
            "GET", f"{flows.API}/datasets/{dataset_id}/download", params=params, headers=self._auth()
        ) as response:
            if response.status_code >= 400:
                response.read()
                check(Call("GET", ""), Reply(response.status_code, dict(response.headers), _json(response.content)))
            with dest.open("wb") as f:
                for block in response.iter_bytes():
                    f.write(block)
        return dest


def _may_resend(call: Call, exc: httpx.TransportError) -> bool:
    """A request that never reached the server can always go again; one that may have, only if replayable."""
    return isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout) or call.replayable


def _json(raw: bytes) -> dict[str, Any]:
    try:
        out = json.loads(raw)
    except ValueError:
        return {"detail": raw[:500].decode("utf-8", "replace")}
    return out if isinstance(out, dict) else {"value": out}
