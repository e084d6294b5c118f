"""The API after PostgreSQL dropped its pooled connections: the next reads answer, a create is made once.

Two kinds of drop. pg_terminate_backend (as a restart or a proxy's idle timeout) closes each session with a
goodbye its idle socket shows: the pool replaces each such connection at checkout (app/db/pool_probe.py), so
no statement meets one. A failover (tests/cutting_proxy.py) leaves the sockets open and quiet: the first
statement fails, its request runs once more on a new connection (app/api/dropped_connections.py), and that
failure drains the pool of all the dropped ones at once, so no later request meets another.
The sessions terminated are only those of this module's own database, reached through a proxy of its own.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import msgspec
import pytest
from litestar.testing import TestClient
from sqlalchemy import Engine, text

from app.api.app import create_app
from app.api.openapi import ASSETS_PATH, DOCS_PATH
from app.db import unit_of_work
from app.db.database import Database
from app.db.engine import get_engine
from app.settings import Settings
from tests.acceptance.faults import terminate_database_backends
from tests.cutting_proxy import CuttingProxy
from tests.integration.conftest import make_user, sign_in
from tests.servers import TestServers

#: What app/api/dropped_connections.py logs when it runs a request again.
RETRIED = "running it once more on a new connection"
#: The pool the API builds (app/api/app.py): the same cached engine, so its connections are the API's.
API_POOL = 20


@pytest.fixture(scope="module")
def proxy(servers: TestServers) -> Iterator[CuttingProxy]:
    """A database of the module's own, reached through a proxy that can cut its sessions."""
    url = servers.create_migrated_database()
    proxy = CuttingProxy(url)
    yield proxy
    for pre_ping, size in ((False, API_POOL), (True, 10)):
        get_engine(Settings(database_url=proxy.url), pool_size=size, pre_ping=pre_ping).dispose()
    proxy.close()
    servers.drop_database(url)


@pytest.fixture
def own_settings(fast_settings: Settings, proxy: CuttingProxy) -> Settings:
    return msgspec.structs.replace(fast_settings, database_url=proxy.url)


@pytest.fixture
def api(own_settings: Settings, redis_client, caplog: pytest.LogCaptureFixture) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    """The API on the module's own database, signed in as an admin (a new one per test: the data stays)."""
    with TestClient(app=create_app(own_settings)) as client:
        admin = f"root-{uuid.uuid4().hex[:8]}"
        make_user(get_engine(own_settings), own_settings, admin, superuser=True)
        client.headers["Authorization"] = f"Bearer {sign_in(client, admin)['access_token']}"
        caplog.set_level(logging.WARNING, logger="app.api.dropped_connections")
        yield client


def api_engine(settings: Settings) -> Engine:
    return get_engine(settings, pool_size=API_POOL, pre_ping=False)


def fill_pool(settings: Settings, connections: int) -> None:
    """Leave at least `connections` idle connections in the API's pool, every idle one live and used once.

    (The pool reconnects lazily: one it marked stale when a connection dropped is only replaced on its checkout.)
    """
    engine = api_engine(settings)
    held = [engine.connect() for _ in range(max(connections, engine.pool.checkedin()))]
    for connection in held:
        connection.execute(text("SELECT 1"))
        connection.close()


def count(settings: Settings, sql: str, **params: object) -> int:
    with get_engine(settings).connect() as connection:
        return int(connection.execute(text(sql), params).scalar_one())


def retries(caplog: pytest.LogCaptureFixture) -> int:
    return sum(RETRIED in record.getMessage() for record in caplog.records)


def backend_pid(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text("SELECT pg_backend_pid()")).scalar_one())


def test_sessions_the_server_ended_are_replaced_as_they_leave_the_pool(
    api: TestClient, proxy: CuttingProxy, own_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    # Given the API with three idle pooled connections
    assert api.get("/api/v1/runs").status_code == 200
    fill_pool(own_settings, 3)
    # When PostgreSQL ends every session of the database (as a restart or an idle timeout does)
    assert len(terminate_database_backends(proxy.database_url, wait=True)) >= 3
    # Then the next reads answer 200 and a create is made once
    for path in ("/api/v1/runs", "/api/v1/pipelines", "/api/v1/deployments"):
        response = api.get(path)
        assert response.status_code == 200, (path, response.text)
    name = f"ended-{uuid.uuid4().hex[:8]}"
    assert api.post("/api/v1/pipelines", json={"name": name, "spec": {"steps": []}}).status_code == 201
    assert count(own_settings, "SELECT count(*) FROM pipelines WHERE name = :n", n=name) == 1
    # and none met a dropped connection: each was replaced at checkout, not found out by a failed statement
    assert retries(caplog) == 0


def test_a_live_idle_connection_is_kept_and_an_ended_one_replaced_without_an_error(
    own_settings: Settings, proxy: CuttingProxy
) -> None:
    engine = api_engine(own_settings)
    engine.dispose()  # one connection in the pool, so every checkout takes it
    first = backend_pid(engine)
    assert backend_pid(engine) == first  # idle and alive: no needless reconnect
    terminate_database_backends(proxy.database_url, wait=True)
    replaced = backend_pid(engine)
    assert replaced != first
    assert backend_pid(engine) == replaced


def test_after_a_failover_the_next_reads_answer_and_only_the_first_meets_a_dead_connection(
    api: TestClient, proxy: CuttingProxy, own_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    # Given the API with three idle pooled connections
    assert api.get("/api/v1/runs").status_code == 200
    fill_pool(own_settings, 3)
    # When the server behind them is lost without a word (their sockets stay open and quiet)
    assert proxy.cut() >= 3
    # Then the next reads all answer 200
    for path in ("/api/v1/runs", "/api/v1/pipelines", "/api/v1/runs?limit=1", "/api/v1/deployments"):
        response = api.get(path)
        assert response.status_code == 200, (path, response.text)
    # and only the first met a dropped connection: the pool was drained of all of them at once
    assert retries(caplog) == 1


def test_concurrent_reads_after_a_failover_all_answer(
    api: TestClient, proxy: CuttingProxy, own_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    # Given six idle pooled connections, all cut
    fill_pool(own_settings, 6)
    assert proxy.cut() >= 6
    # When six reads arrive at once (each may take a dropped connection before the first failure drains the pool)
    with ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(lambda _: api.get("/api/v1/runs?limit=5"), range(6)))
    # Then every one is answered
    assert [a.status_code for a in answers] == [200] * 6, [a.text for a in answers if a.status_code != 200]
    assert 1 <= retries(caplog) <= 6


@pytest.mark.parametrize("key", [None, "drop-once"], ids=["no-key", "idempotency-key"])
def test_a_create_sent_first_after_a_failover_is_made_exactly_once(
    api: TestClient, proxy: CuttingProxy, own_settings: Settings, caplog: pytest.LogCaptureFixture, key: str | None
) -> None:
    name = f"dropped-{uuid.uuid4().hex[:8]}"
    created = api.post("/api/v1/pipelines", json={"name": name, "spec": {"steps": []}})
    assert created.status_code == 201, created.text
    headers = {"Idempotency-Key": f"{key}-{name}"} if key else {}

    # When the sessions are cut, a pipeline is created, and the sessions cut again before a run is submitted
    fill_pool(own_settings, 3)
    assert proxy.cut() >= 3
    other = api.post("/api/v1/pipelines", json={"name": f"{name}-2", "spec": {"steps": []}})
    fill_pool(own_settings, 3)
    assert proxy.cut() >= 3
    submitted = api.post("/api/v1/runs", json={"pipeline": created.json()["id"]}, headers=headers)

    # Then both were answered 201 after one more try each, and each made exactly one row
    assert other.status_code == 201, other.text
    assert submitted.status_code == 201, submitted.text
    assert retries(caplog) == 2
    assert count(own_settings, "SELECT count(*) FROM pipelines WHERE name = :n", n=f"{name}-2") == 1
    assert count(own_settings, "SELECT count(*) FROM runs WHERE pipeline_id = :p", p=created.json()["id"]) == 1
    # and the run is the one the answer names
    assert api.get(f"/api/v1/runs/{submitted.json()['id']}").status_code == 200


def fail_in_transaction(database: Database) -> None:
    with database.transaction() as session:
        session.execute(text("SELECT 1"))
        raise LookupError("the body failed: rolled back")


def test_an_attempt_notes_a_commit_and_only_a_commit(own_settings: Settings) -> None:
    """What decides that a write is not repeated: a COMMIT sent (app/db/unit_of_work.py), not a read or a rollback."""
    database = Database(api_engine(own_settings))
    with unit_of_work.attempt() as reads:
        with database.read() as session:
            session.execute(text("SELECT 1"))
        with database.connection() as connection:
            connection.execute(text("SELECT 1"))
    with unit_of_work.attempt() as rolled_back, pytest.raises(LookupError):
        fail_in_transaction(database)
    with unit_of_work.attempt() as committed, database.transaction() as session:
        session.execute(text("SELECT 1"))
    assert (reads.committed, rolled_back.committed, committed.committed) == (False, False, True)


def test_a_streamed_chunk_whose_first_statement_meets_a_dropped_connection_is_read_and_recorded(
    api: TestClient, proxy: CuttingProxy, own_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    # Given an open upload (its chunks are request bodies the handler streams itself, after a lookup)
    body = b"id\n" + b"".join(b"%d\n" % i for i in range(500))
    opened = api.post("/api/v1/uploads", json={"filename": "ids.csv", "size": len(body)})
    assert opened.status_code == 201, opened.text
    fill_pool(own_settings, 3)
    # When the sessions are cut and the whole file is sent as one chunk
    assert proxy.cut() >= 3
    headers = {"Content-Range": f"bytes 0-{len(body) - 1}/{len(body)}"}
    sent = api.put(f"/api/v1/uploads/{opened.json()['id']}", content=body, headers=headers)
    # Then the lookup ran again before a byte was read, and the body arrived whole
    assert sent.status_code == 200, sent.text
    assert (sent.json()["received"], sent.json()["missing"]) == (len(body), [])
    assert retries(caplog) == 1


def test_every_handler_runs_under_one_retry_even_when_it_serves_several_paths(own_settings: Settings) -> None:
    """Two nested retries would let the outer one repeat a write whose COMMIT only the inner attempt saw."""
    app = create_app(own_settings)
    create_app(own_settings)  # a second app in the process wraps nothing twice
    ours = 0
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            fn, layers = handler.fn, 0
            while fn is not None:
                code = getattr(fn, "__code__", None)
                layers += code is not None and code.co_qualname.startswith("_retrying.")
                # Litestar runs a sync handler in a thread through an AsyncCallable, whose `func` is the handler's.
                fn = getattr(fn, "__wrapped__", None) or getattr(fn, "func", None)
            # Litestar's own handlers (OPTIONS, the OpenAPI document and its UI) read no database: none is wrapped.
            own = handler.http_methods == {"OPTIONS"} or (
                route.path.startswith(DOCS_PATH) and not route.path.startswith(ASSETS_PATH)
            )
            expected = 0 if own else 1
            ours += expected
            assert layers == expected, (route.path, handler)
    assert ours > 100  # every handler of ours was looked at
