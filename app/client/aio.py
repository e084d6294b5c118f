"""The asynchronous client: the same operations as `Client`, awaited (`await client.wait_for_run(id)`)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

import httpx

from app.client import flows, uploads
from app.client.errors import NetworkError
from app.client.http import Call, Flow, Reply, RetryPolicy, Sleep, check, decode
from app.client.sse import SseDecoder
from app.client.sync import TokenSaver, _json, _may_resend
from app.client.types import Page

P = ParamSpec("P")
T = TypeVar("T")


def _bind(flow: Callable[P, Flow[T]]) -> Callable[Concatenate[AsyncClient, P], Coroutine[Any, Any, T]]:
    async def method(self: AsyncClient, *args: P.args, **kwargs: P.kwargs) -> T:
        return await self.run(flow(*args, **kwargs))

    method.__doc__ = flow.__doc__
    method.__name__ = flow.__name__
    return method


class AsyncClient:
    """As `Client`, for asyncio programs; one httpx.AsyncClient, closed by `aclose()` or `async with`."""

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        *,
        refresh_token: str | None = None,
        on_tokens: TokenSaver | None = None,
        retry: RetryPolicy | None = None,
        timeout: float = 30.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.refresh_token = refresh_token
        self.on_tokens = on_tokens
        self.retry = retry or RetryPolicy()
        self.sleep = sleep
        self.http = http or httpx.AsyncClient(base_url=self.base_url, timeout=timeout)

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self.http.aclose()

    async def run(self, flow: Flow[T]) -> T:
        try:
            step = next(flow)
            while True:
                if isinstance(step, Sleep):
                    await self.sleep(step.seconds)
                    step = flow.send(None)
                else:
                    step = flow.send(await self.send(step))
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]

    async def send(self, call: Call) -> Reply:
        attempt, refreshed = 0, False
        while True:
            attempt += 1
            try:
                response = await self.http.request(
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
                await self.sleep(delay)
                continue
            headers = dict(response.headers)
            if response.status_code == 401 and self.refresh_token and not refreshed and "/auth/" not in call.path:
                refreshed = True
                reply = await self.send(
                    Call("POST", f"{flows.API}/auth/refresh", json={"refresh_token": self.refresh_token})
                )
                self.token, self.refresh_token = reply.body["access_token"], reply.body.get("refresh_token")
                if self.on_tokens:
                    self.on_tokens(reply.body)
                continue
            delay = self.retry.delay(attempt, response.status_code, headers)
            if delay is not None:
                await self.sleep(delay)
                continue
            return check(
                call, Reply(response.status_code, headers, decode(response.status_code, headers, response.content))
            )

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

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
    #: Reads the file in blocking chunks between awaits (files are local; the network is the slow part).
    upload_file = _bind(uploads.upload_file)

    async def paginate(self, page: Callable[..., Flow[Page]], **filters: Any) -> AsyncIterator[dict[str, Any]]:
        cursor: str | None = None
        while True:
            out = await self.run(page(cursor=cursor, **filters))
            for item in out["items"]:
                yield item
            cursor = out["next_cursor"]
            if not cursor:
                return

    def iter_runs(self, **filters: Any) -> AsyncIterator[dict[str, Any]]:
        return self.paginate(flows.list_runs, **filters)

    async def follow_log(self, run_id: str, *, last_event_id: str | None = None) -> AsyncIterator[dict[str, Any]]:
        """As `Client.follow_log`: live lines, reconnecting with Last-Event-ID, then the end event."""
        failures = 0
        while True:
            headers = {**self._auth(), "Accept": "text/event-stream"}
            if last_event_id is not None:
                headers["Last-Event-ID"] = last_event_id
            try:
                async with self.http.stream(
                    "GET",
                    f"{flows.API}/runs/{run_id}/logs/stream",
                    headers=headers,
                    timeout=httpx.Timeout(30, read=None),
                ) as response:
                    if response.status_code >= 400:
                        await response.aread()
                        check(
                            Call("GET", ""),
                            Reply(response.status_code, dict(response.headers), _json(response.content)),
                        )
                    decoder = SseDecoder()
                    async for line in response.aiter_lines():
                        event = decoder.feed(line)
                        if event is None:
                            continue
                        failures = 0
                        if event.id is not None:
                            last_event_id = event.id
                        yield {"event": event.event, **_json(event.data.encode())}
                        if event.event == "end":
                            return
            except httpx.TransportError as exc:
                failures += 1
                delay = self.retry.delay(failures, None)
                if delay is None:
                    raise NetworkError(f"log stream of run {run_id}: {exc}") from exc
                await self.sleep(delay)
                continue
            failures += 1
            delay = self.retry.delay(failures, None)
            if delay is None:
                raise NetworkError(f"log stream of run {run_id} kept closing before its end")
            await self.sleep(delay)

    async def download_dataset(
        self, dataset_id: str, dest: Path | str, *, format: str = "csv", version: int | None = None
    ) -> Path:
        dest = Path(dest)
        params: dict[str, Any] = {"format": format, **({"version": version} if version is not None else {})}
        async with self.http.stream(
            "GET", f"{flows.API}/datasets/{dataset_id}/download", params=params, headers=self._auth()
        ) as response:
            if response.status_code >= 400:
                await response.aread()
                check(Call("GET", ""), Reply(response.status_code, dict(response.headers), _json(response.content)))
            with dest.open("wb") as f:
                async for block in response.aiter_bytes():
                    f.write(block)
        return dest
