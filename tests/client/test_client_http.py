"""The client's HTTP layer against a real HTTP server on loopback: retries, Retry-After, pagination, SSE."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from app.client import ApiError, AsyncClient, Client, NetworkError, RetryPolicy
from app.client.http import retry_after
from tests.client.scripted_server import Answer, Seen, scripted_server

NOW = datetime(2026, 12, 3, 4, 0, 0, tzinfo=UTC)
RUN = {"id": "r1", "status": "QUEUED"}


def policy(attempts: int = 4) -> RetryPolicy:
    return RetryPolicy(attempts=attempts, backoff=0.5, jitter=0.0, clock=lambda: NOW)


def sequence(*answers: Answer) -> Iterator[Answer]:
    yield from answers
    while True:
        yield Answer(200, RUN)


def client(url: str, slept: list[float], attempts: int = 4) -> Client:
    return Client(url, "t0ken", retry=policy(attempts), sleep=slept.append)


def test_503_is_retried_after_the_seconds_retry_after_says() -> None:
    answers = sequence(Answer(503, headers={"Retry-After": "7"}), Answer(503, headers={"Retry-After": "2"}))
    slept: list[float] = []
    with scripted_server(lambda _: next(answers)) as server, client(server.url, slept) as c:
        assert c.get_run("r1") == RUN
    assert slept == [7.0, 2.0]
    assert [s.path for s in server.seen] == ["/api/v1/runs/r1"] * 3
    assert server.seen[0].headers["Authorization"] == "Bearer t0ken"


def test_429_with_an_http_date_waits_until_then() -> None:
    answers = sequence(Answer(429, headers={"Retry-After": "Thu, 03 Dec 2026 04:00:30 GMT"}))
    slept: list[float] = []
    with scripted_server(lambda _: next(answers)) as server, client(server.url, slept) as c:
        c.submit_run("hello", {"day": "2026-11-22"})
    assert slept == [30.0]
    assert len(server.seen) == 2


def test_without_retry_after_the_backoff_doubles_then_the_error_is_raised() -> None:
    slept: list[float] = []
    busy = Answer(503, {"code": "unavailable", "detail": "busy"})
    with (
        scripted_server(lambda _: busy) as server,
        client(server.url, slept, 4) as c,
        pytest.raises(ApiError) as caught,
    ):
        c.get_run("r1")
    assert slept == [0.5, 1.0, 2.0]
    assert len(server.seen) == 4
    assert (caught.value.status, caught.value.code, caught.value.detail) == (503, "unavailable", "busy")


def test_other_errors_are_not_retried_and_carry_the_problem_code() -> None:
    slept: list[float] = []
    missing = Answer(404, {"code": "not_found", "detail": "no run"})
    with (
        scripted_server(lambda _: missing) as server,
        client(server.url, slept) as c,
        pytest.raises(ApiError) as caught,
    ):
        c.get_run("nope")
    assert (caught.value.status, caught.value.code, slept, len(server.seen)) == (404, "not_found", [], 1)


def test_a_lost_answer_is_resent_only_when_the_request_is_replayable() -> None:
    def script(seen: Seen) -> Answer:
        return Answer(drop=True) if len([s for s in server.seen if s.method == seen.method]) == 1 else Answer(201, RUN)

    slept: list[float] = []
    with scripted_server(script) as server, client(server.url, slept) as c:
        with pytest.raises(NetworkError):
            c.submit_run("hello")  # a POST without Idempotency-Key may have been acted on: never resent
        assert len(server.seen) == 1
        server.seen.clear()
        assert c.submit_run("hello", idempotency_key="k1") == RUN
        assert [s.headers.get("Idempotency-Key") for s in server.seen] == ["k1", "k1"]


def test_a_refused_connection_is_retried_then_reported() -> None:
    slept: list[float] = []
    with scripted_server(lambda _: Answer()) as server:
        url = server.url
    with client(url, slept, attempts=3) as c, pytest.raises(NetworkError):
        c.get_run("r1")
    assert slept == [0.5, 1.0]


def test_pagination_follows_the_cursor_until_the_last_page() -> None:
    pages = {None: (["a", "b"], "c1"), "c1": (["c", "d"], "c2"), "c2": (["e"], None)}

    def script(seen: Seen) -> Answer:
        items, following = pages[seen.query.get("cursor", [None])[0]]
        return Answer(200, {"items": [{"id": i} for i in items], "next_cursor": following})

    with scripted_server(script) as server, client(server.url, []) as c:
        ids = [r["id"] for r in c.iter_runs(status=["FAILED", "TIMED_OUT"], limit=2)]
    assert ids == ["a", "b", "c", "d", "e"]
    assert [s.query.get("cursor") for s in server.seen] == [None, ["c1"], ["c2"]]
    assert all(s.query["status"] == ["FAILED", "TIMED_OUT"] and s.query["limit"] == ["2"] for s in server.seen)


def test_waiting_for_a_run_polls_until_it_is_final() -> None:
    statuses = iter(["QUEUED", "RUNNING", "RUNNING", "FAILED"])
    slept: list[float] = []
    with (
        scripted_server(lambda _: Answer(200, {"id": "r1", "status": next(statuses)})) as server,
        client(server.url, slept) as c,
    ):
        assert c.wait_for_run("r1")["status"] == "FAILED"
    assert len(server.seen) == 4
    assert slept == [0.25, 0.375, 0.5625]


def test_the_log_stream_reconnects_with_last_event_id() -> None:
    first = (
        b'id: 1\nevent: log\ndata: {"n": 1, "message": "one"}\n\n'
        b'id: 2\nevent: log\ndata: {"n": 2, "message": "two"}\n\n'
    )
    rest = b'id: 3\nevent: log\ndata: {"n": 3, "message": "three"}\n\nevent: end\ndata: {"status": "SUCCEEDED"}\n\n'
    streams = iter([Answer(raw=first), Answer(raw=rest)])
    slept: list[float] = []
    with scripted_server(lambda _: next(streams)) as server, client(server.url, slept) as c:
        events = list(c.follow_log("r1"))
    assert [e.get("message") for e in events] == ["one", "two", "three", None]
    assert events[-1] == {"event": "end", "status": "SUCCEEDED"}
    assert [s.headers.get("Last-Event-ID") for s in server.seen] == [None, "2"]
    assert slept == [0.5]


def test_the_async_client_retries_and_paginates_alike() -> None:
    answers = sequence(Answer(429, headers={"Retry-After": "3"}))
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    async def main(url: str) -> tuple[dict[str, str], list[str]]:
        async with AsyncClient(url, "t", retry=policy(), sleep=sleep) as c:
            run = await c.get_run("r1")
            ids = [r["id"] async for r in c.iter_runs()]
        return dict(run), ids

    def script(seen: Seen) -> Answer:
        if seen.path.endswith("/runs"):
            cursor = seen.query.get("cursor", [None])[0]
            return Answer(200, {"items": [{"id": cursor or "first"}], "next_cursor": None if cursor else "second"})
        return next(answers)

    with scripted_server(script) as server:
        run, ids = asyncio.run(main(server.url))
    assert (run, ids, slept) == (RUN, ["first", "second"], [3.0])


def test_retry_after_reads_seconds_and_dates_and_ignores_nonsense() -> None:
    assert retry_after({"retry-after": "12"}, NOW) == 12.0
    assert retry_after({"Retry-After": "Thu, 03 Dec 2026 03:59:00 GMT"}, NOW) == 0.0
    assert retry_after({"Retry-After": "soon"}, NOW) is None
    assert retry_after({}, NOW) is None


def test_an_expired_access_token_is_refreshed_once_and_the_new_pair_handed_over() -> None:
    def script(seen: Seen) -> Answer:
        if seen.path.endswith("/auth/refresh"):
            return Answer(200, {"access_token": "new", "refresh_token": "r2", "expires_in": 900})
        if seen.headers.get("Authorization") != "Bearer new":
            return Answer(401, {"code": "unauthorized"})
        return Answer(200, RUN)

    saved: list[dict[str, str]] = []
    with (
        scripted_server(script) as server,
        Client(server.url, "old", refresh_token="r1", on_tokens=saved.append, retry=policy()) as c,
    ):
        assert c.get_run("r1") == RUN
        assert (c.token, c.refresh_token) == ("new", "r2")
    assert [s.path for s in server.seen] == ["/api/v1/runs/r1", "/api/v1/auth/refresh", "/api/v1/runs/r1"]
    assert json.loads(server.seen[1].body) == {"refresh_token": "r1"}
    assert saved == [{"access_token": "new", "refresh_token": "r2", "expires_in": 900}]


def test_the_async_client_follows_a_log_across_a_reconnect_and_downloads(tmp_path: Path) -> None:
    first = b'id: 1\nevent: log\ndata: {"n": 1}\n\n'
    rest = b'id: 2\nevent: log\ndata: {"n": 2}\n\nevent: end\ndata: {"status": "FAILED"}\n\n'
    answers = iter([Answer(raw=first), Answer(raw=rest), Answer(raw=b"day,amount\n1,2\n")])

    async def main(url: str) -> list[dict[str, object]]:
        async def sleep(seconds: float) -> None:
            pass

        async with AsyncClient(url, "t", retry=policy(), sleep=sleep) as c:
            events = [e async for e in c.follow_log("r1")]
            await c.download_dataset("d1", tmp_path / "d.csv", format="csv")
        return events

    with scripted_server(lambda _: next(answers)) as server:
        events = asyncio.run(main(server.url))
    assert [e.get("n") for e in events] == [1, 2, None]
    assert events[-1] == {"event": "end", "status": "FAILED"}
    assert server.seen[1].headers.get("Last-Event-ID") == "1"
    assert server.seen[2].query == {"format": ["csv"]}
    assert (tmp_path / "d.csv").read_bytes() == b"day,amount\n1,2\n"
