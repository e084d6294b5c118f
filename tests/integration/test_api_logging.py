"""The API process logs in the configured format: starting the app leaves our handler on the root logger."""

from __future__ import annotations

import json
import logging

import msgspec
import pytest
from litestar.testing import TestClient

from app.api.app import create_app
from app.logs import configure_logging
from app.settings import Settings


@pytest.fixture
def restore_logging():  # type: ignore[no-untyped-def]
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_json_logging_survives_the_app_start(
    fast_settings: Settings, redis_client, capsys: pytest.CaptureFixture[str], restore_logging
) -> None:  # type: ignore[no-untyped-def]
    settings = msgspec.structs.replace(fast_settings, log_format="json")
    configure_logging(settings, process="api")
    with TestClient(app=create_app(settings)) as client:
        assert client.get("/api/v1/no-such-route").status_code == 404
        logging.getLogger("app.api").warning("a line from the running API")
    lines = [line for line in capsys.readouterr().err.splitlines() if "a line from the running API" in line]
    assert len(lines) == 1, capsys.readouterr().err
    entry = json.loads(lines[0])
    assert (entry["process"], entry["level"]) == ("api", "warning")
