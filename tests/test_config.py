"""Settings (bot/config.py): read once, checked at start-up, documented in README.md."""

from __future__ import annotations

import dataclasses
import os
import re
import subprocess
import sys

import pytest

from bot.config import (
    PROJECT_ROOT,
    ConfigError,
    Settings,
    load_settings,
    read_settings,
    variables_of,
)
from tests.conftest import Environment

TABLE_ROW = re.compile(r"\|(?P<variables>[^|]*)\|(?P<default>[^|]*)\|(?P<meaning>.*)\|")
VARIABLE = re.compile(r"`([A-Z][A-Z0-9_]+)`")


def readme_configuration() -> dict[str, str]:
    """The README's configuration table: each variable and its default cell."""
    section = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8").split("## Configuration")[1]
    rows = section.split("\n\n| variable")[1].split("\n\n")[0].splitlines()[2:]
    table: dict[str, str] = {}
    for row in rows:
        match = TABLE_ROW.fullmatch(row)
        assert match, row
        for variable in VARIABLE.findall(match["variables"]):
            table[variable] = match["default"].strip()
    return table


def settings_defaults() -> dict[str, str | None]:
    """Every variable Settings reads, and its default as the variable would spell it."""
    return {
        variable: field.metadata["default"]
        for field in dataclasses.fields(Settings)
        for variable in variables_of(field)
    }


def test_the_readme_documents_exactly_the_variables_settings_read() -> None:
    assert sorted(readme_configuration()) == sorted(settings_defaults())


def test_the_readme_gives_the_defaults_settings_use() -> None:
    readme = readme_configuration()
    for variable, default in settings_defaults().items():
        literal = re.match(r"`([^`]*)`", readme[variable])
        if default:  # a value: the README shows it first, as written
            assert literal and literal[1] == default, (variable, readme[variable], default)
        else:  # unset, or made at run time
            assert not literal, (variable, readme[variable])


def test_an_empty_environment_gives_the_defaults() -> None:
    assert read_settings({}) == Settings()
    assert Settings().database_url == f"sqlite:///{PROJECT_ROOT / 'var' / 'staj.db'}"


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("RASA_PORT", "abc"),
        ("ACTION_PORT", "0"),
        ("REVIEW_PORT", "70000"),
        ("MAX_MESSAGE_CHARS", "0"),
        ("USP_PROGRAM_YEAR", "24"),
        ("REVIEW_LOW_CONFIDENCE", "1.5"),
        ("TRANSCRIPT_RETENTION_DAYS", "0"),
        ("REMINDER_WINDOW_HOURS", "0"),
        ("REMINDER_INTERVAL_SECONDS", "-1"),
        ("TELEGRAM_CONCURRENT_UPDATES", "0"),
        ("TELEGRAM_TYPING_DELAY_SECONDS", "-0.5"),
        ("TELEGRAM_WEBHOOK_SECRET", "has spaces"),
        ("TELEGRAM_API_URL", "api.telegram.org"),
        ("REDIS_URL", "127.0.0.1:6379"),
        ("REDIS_URL", "redis://host:port/0"),
        ("DATABASE_URL", "var/staj.db"),
        ("TRACKER_CACHE_SIZE", "many"),
        ("SANIC_WORKERS", "0"),
        ("ACTION_SERVER_SANIC_WORKERS", "two"),
        ("TF_INTER_OP_PARALLELISM_THREADS", "-1"),
    ],
)
def test_a_bad_value_is_a_config_error_naming_its_variable(variable: str, value: str) -> None:
    with pytest.raises(ConfigError, match=variable):
        read_settings({variable: value})


def test_values_are_read_as_their_types() -> None:
    settings = read_settings(
        {
            "RASA_PORT": " 6005 ",
            "REVIEW_LOW_CONFIDENCE": "0.25",
            "TELEGRAM_API_URL": "http://127.0.0.1:9000/",
            "DATABASE_URL": "sqlite:///var/other.db",
            "REDIS_URL": "rediss://:secret@cache:6380/2",
            "TELEGRAM_BOT_TOKEN": "  ",  # blank is unset
        }
    )
    assert settings.rasa_port == 6005 and settings.review_low_confidence == 0.25
    assert settings.telegram_api_url == "http://127.0.0.1:9000"
    assert settings.database_url == f"sqlite:///{PROJECT_ROOT / 'var' / 'other.db'}"
    assert settings.redis_url == "rediss://:secret@cache:6380/2"
    assert settings.telegram_bot_token is None


def test_settings_are_read_once_per_process_until_reloaded(environment: Environment) -> None:
    assert load_settings() is load_settings()
    environment.monkeypatch.setenv("RASA_PORT", "6123")
    assert load_settings().rasa_port != 6123  # still the settings read at start
    assert environment.set() is load_settings()
    assert load_settings().rasa_port == 6123


def test_the_command_line_stops_on_a_bad_value_with_its_message() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "migrate"],
        cwd=PROJECT_ROOT,
        env={**os.environ, "REMINDER_WINDOW_HOURS": "soon"},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "Configuration error: REMINDER_WINDOW_HOURS: must be a whole number of at least 1, "
        "got 'soon'"
    )
