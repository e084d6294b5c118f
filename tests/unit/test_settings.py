import pytest

from app.settings import Settings, SettingsError, env_name, load_settings


def test_defaults_work_with_an_empty_environment() -> None:
    settings = load_settings({})
    assert settings.api_port == 8000
    assert settings.database_url == ""


def test_values_come_from_prefixed_variables_and_are_typed() -> None:
    settings = load_settings(
        {
            "CONVEYOR_API_PORT": "9000",
            "CONVEYOR_HEARTBEAT_SECONDS": "0.5",
            "DATABASE_URL": "postgresql://u@h/db",
            "CONVEYOR_LOG_FORMAT": "json",
        }
    )
    assert settings.api_port == 9000
    assert settings.heartbeat_seconds == 0.5
    assert settings.log_format == "json"
    assert settings.sqlalchemy_url == "postgresql+psycopg://u@h/db"


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({"CONVEYOR_API_PORT": "eighty"}, "CONVEYOR_API_PORT"),
        ({"CONVEYOR_API_PORT": "70000"}, "CONVEYOR_API_PORT"),
        ({"CONVEYOR_LEASE_SECONDS": "0.1"}, "CONVEYOR_LEASE_SECONDS"),
        ({"CONVEYOR_LOG_FORMAT": "xml"}, "CONVEYOR_LOG_FORMAT"),
        ({"DATABASE_URL": "mysql://x"}, "DATABASE_URL"),
        ({"REDIS_URL": "http://x"}, "REDIS_URL"),
        ({"CONVEYOR_PUBLIC_URL": "conveyor.example.com"}, "CONVEYOR_PUBLIC_URL"),
        ({"CONVEYOR_QUEUE": "bad queue!"}, "CONVEYOR_QUEUE"),
    ],
)
def test_a_bad_value_fails_with_a_message_naming_the_variable(environ: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError, match=named):
        load_settings(environ)


def test_every_field_has_a_variable_documented_in_the_readme() -> None:
    from pathlib import Path

    readme = (Path(__file__).parents[2] / "README.md").read_text()
    missing = [env_name(f) for f in Settings.__struct_fields__ if f"`{env_name(f)}`" not in readme]
    assert missing == []
