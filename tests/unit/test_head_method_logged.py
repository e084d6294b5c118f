"""A HEAD answered by a GET route is logged as the HEAD the client sent, not as the GET that answered it."""

from __future__ import annotations

import logging

import pytest
from litestar import Litestar, get
from litestar.testing import TestClient

from app.api.errors import on_unexpected_error
from app.api.head_requests import answer_head, client_method


@get("/boom", sync_to_thread=False)
def boom() -> str:
    raise RuntimeError("boom")


def test_an_unexpected_error_on_a_head_is_logged_as_head(caplog: pytest.LogCaptureFixture) -> None:
    app = Litestar([boom], exception_handlers={Exception: on_unexpected_error}, logging_config=None)
    app.asgi_handler = answer_head(app.asgi_handler)
    with TestClient(app) as client, caplog.at_level(logging.ERROR, logger="app.api.errors"):
        assert client.head("/boom").status_code == 500
        assert client.get("/boom").status_code == 500
    assert [r.getMessage() for r in caplog.records if r.name == "app.api.errors"] == [
        "unhandled error on HEAD /boom",
        "unhandled error on GET /boom",
    ]


def test_client_method_is_the_scope_method_unless_a_head_was_routed_as_get() -> None:
    assert client_method({"type": "http", "method": "POST"}) == "POST"
    assert client_method({"type": "http", "method": "GET", "state": {}}) == "GET"
    assert client_method({"type": "websocket"}) == "websocket"
