"""The api keeps an idle connection open longer than a pooling client keeps it idle before using it again."""

from __future__ import annotations

import argparse
from typing import Any

import httpx
import pytest
import uvicorn

from app.cli import processes
from app.settings import Settings


def test_the_api_outlives_a_pooling_clients_idle_connections(monkeypatch: pytest.MonkeyPatch) -> None:
    started: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: started.update(options))
    settings = Settings(database_url="postgresql://x/y", redis_url="redis://x")
    processes.api(argparse.Namespace(host=None, port=None), settings)
    # httpx reuses a connection idle for up to 5 s: a server closing it at 5 s (uvicorn's default) races that reuse.
    client_idle = httpx.Limits().keepalive_expiry or 0
    assert started["timeout_keep_alive"] > 2 * client_idle
