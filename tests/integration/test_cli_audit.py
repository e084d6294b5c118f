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


def test_a_namespace_role_given_on_the_command_line_is_audited_like_the_api(
    engine: Engine, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """members.set is written by the domain, so `users create --namespace` audits the role it gives."""
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    get_settings.cache_clear()
    try:
        argv = ["users", "create", "--username", "cli-member", "--password", "a-long-cli-password-2"]
        assert cli.main([*argv, "--namespace", "default", "--role", "operator"]) == 0
    finally:
        get_settings.cache_clear()
    with engine.connect() as connection:
        row = connection.execute(
            text(
                "SELECT a.actor_name, a.details, n.name FROM audit_log a "
                "JOIN users u ON u.id::text = a.resource_id JOIN namespaces n ON n.id = a.namespace_id "
                "WHERE a.action = 'members.set' AND u.username = 'cli-member'"
            )
        ).one()
    assert row.actor_name == "command line (conveyor users create)"
    assert row.name == "default"
    assert row.details == {"before": {"role": None}, "after": {"role": "operator"}}
