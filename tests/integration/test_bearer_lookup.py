"""The guard's token lookup on the event loop: the same caller as before, and a dropped connection never reused."""

from __future__ import annotations

import asyncio

import psycopg
import pytest
from litestar.testing import TestClient
from sqlalchemy import Engine, text

from app.api.bearer_lookup import BearerLookup
from app.core.errors import Unauthorized
from app.db.outage import database_unavailable
from app.db.queries import conninfo_of
from app.settings import Settings


def test_a_signed_in_caller_is_resolved_and_a_bad_token_is_401(client: TestClient) -> None:
    assert client.get("/api/v1/runs").status_code == 200
    client.headers["Authorization"] = "Bearer cvy_nobody"
    response = client.get("/api/v1/runs")
    assert (response.status_code, response.json()["code"]) == (401, "invalid_token")


def test_a_connection_the_server_dropped_is_replaced_without_failing_the_lookup(
    client: TestClient, engine: Engine, fast_settings: Settings
) -> None:
    token = client.headers["Authorization"].removeprefix("Bearer ")
    lookup = BearerLookup(conninfo_of(fast_settings.sqlalchemy_url), size=1)

    async def scenario() -> None:
        first = await lookup.resolve(token)
        assert first.username == "root"
        [connection] = lookup._idle
        with engine.connect() as admin:
            admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": connection.info.backend_pid})
        assert (await lookup.resolve(token)).username == "root"  # on a new connection, as a pre-ping would
        [replacement] = lookup._idle
        assert replacement is not connection
        assert connection.closed
        with pytest.raises(Unauthorized):
            await lookup.resolve("cvy_nobody")
        await lookup.close()

    asyncio.run(scenario())


def test_an_unreachable_database_fails_the_lookup_as_unavailable() -> None:
    lookup = BearerLookup("host=127.0.0.1 port=1 user=postgres dbname=postgres", size=1, connect_timeout=2)

    async def scenario() -> None:
        with pytest.raises(psycopg.OperationalError) as failed:  # the API answers it 503 database_unavailable
            await lookup.resolve("cvy_anyone")
        assert database_unavailable(failed.value)
        assert lookup._idle == []

    asyncio.run(scenario())
