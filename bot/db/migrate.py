"""Alembic, configured in code: `python -m bot migrate` and every process's start-up use it."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from bot.config import load_settings

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str | None = None) -> Config:
    """An Alembic configuration for `url` (default: DATABASE_URL)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    url = url or load_settings().database_url
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str | None = None) -> None:
    """Brings the database schema to the newest revision."""
    command.upgrade(alembic_config(url), "head")
