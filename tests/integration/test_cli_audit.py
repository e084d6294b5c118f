"""The domain audits account changes, so the command line writes the same audit rows as the API."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text

from app import cli
from app.settings import Settings, get_settings


def _entries(engine: Engine, action: str) -> list[tuple[str, str]]:
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT a.actor_name, u.username FROM audit_log a JOIN users u ON u.id::text = a.resource_id "
                "WHERE a.action = :action ORDER BY a.id"
            ),
            {"action": action},
        ).all()
    return [(actor, username) for actor, username in rows]


def test_users_create_and_reset_password_on_the_command_line_are_audited(
    engine: Engine, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    get_settings.cache_clear()
    try:
        assert cli.main(["users", "create", "--username", "cli-made", "--password", "a-long-cli-password-1"]) == 0
        assert cli.main(["users", "reset-password", "--username", "cli-made"]) == 0
    finally:
        get_settings.cache_clear()
    assert _entries(engine, "users.create")[-1:] == [("command line (conveyor users create)", "cli-made")]
    assert _entries(engine, "users.reset_password")[-1:] == [
        ("command line (conveyor users reset-password)", "cli-made")
    ]
