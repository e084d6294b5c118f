"""One started API app per test process, for the tests whose settings are the common ones.

Building the app and starting its TestClient cost about 0.19 CPU-s, and the integration tests did it for each of
some 600 tests (a minute of `make test` on two cores). Settings are equal from test to test (the data root is one
path per process, emptied before each test: tests/conftest.py), so the app made for the first test serves the
next; a test with settings of its own (an S3 root, a cache folder under its tmp_path) gets an app of its own, as
before. What the app keeps between requests is kept where each test already empties it (Postgres: clean_db;
Redis: redis_client's keys, the throttle's and rate limits' too; files: the data root); what the client keeps
(headers, cookies) is put back after each test.
"""

from __future__ import annotations

import contextlib

import httpx
from litestar.testing import TestClient

from app.api.app import create_app
from app.settings import Settings


class SharedApi:
    """The app of the last settings asked for, started, with its client's own headers as they were."""

    def __init__(self) -> None:
        self._settings: Settings | None = None
        self._client: TestClient | None = None
        self._headers = httpx.Headers()
        self._running = contextlib.ExitStack()

    def client(self, settings: Settings) -> TestClient:
        """A started client of an app made with `settings`: the one already running when they are its settings."""
        if self._client is None or settings != self._settings:
            self.close()
            self._client = self._running.enter_context(TestClient(app=create_app(settings)))
            self._settings, self._headers = settings, httpx.Headers(self._client.headers)
        return self._client

    def reset(self) -> None:
        """The client as it was made: no Authorization or other header a test set, no cookie."""
        if self._client is not None:
            self._client.headers = httpx.Headers(self._headers)
            self._client.cookies.clear()

    def close(self) -> None:
        """Stop the running app (its shutdown hooks run), if any."""
        self._running.close()
        self._client = self._settings = None
