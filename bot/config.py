"""All settings, read from environment variables; each has a documented default."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# The seed FAQ (shared/seeds/000_ae31755377e2fac4.txt, question 3) says the candidate pool is open
# "2024 yılı boyunca"; answers show the program year from here so a new year needs no retraining.
SOURCE_PROGRAM_YEAR = 2024


def _text(name: str) -> str | None:
    """An optional string setting; unset and blank are the same."""
    return os.environ.get(name, "").strip() or None


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError as error:
        raise SystemExit(f"{name} must be an integer, got {raw!r}") from error


@dataclass(frozen=True)
class Settings:
    """Runtime settings of every process of the assistant."""

    program_year: int
    host: str
    rasa_port: int
    action_port: int
    max_message_chars: int
    telegram_bot_token: str | None = None
    telegram_api_url: str = "https://api.telegram.org"
    telegram_webhook_url: str | None = None
    telegram_webhook_secret: str | None = None
    telegram_webhook_port: int = 8443
    telegram_bridge_secret: str | None = None
    reminder_window_hours: int = 24
    reminder_interval_seconds: int = 300

    @property
    def action_server_url(self) -> str:
        """Where Rasa calls the custom actions."""
        return f"http://{self.host}:{self.action_port}/webhook"

    @property
    def telegram_bridge_url(self) -> str:
        """Where the Telegram process hands messages to Rasa (bot/channels/telegram_bridge.py)."""
        return f"http://{self.host}:{self.rasa_port}/webhooks/telegram_bridge/webhook"


def load_settings() -> Settings:
    """Reads the settings from the environment."""
    return Settings(
        program_year=_int("USP_PROGRAM_YEAR", SOURCE_PROGRAM_YEAR),
        host=os.environ.get("BIND_HOST", "127.0.0.1"),
        rasa_port=_int("RASA_PORT", 5005),
        action_port=_int("ACTION_PORT", 5055),
        max_message_chars=_int("MAX_MESSAGE_CHARS", 1500),
        telegram_bot_token=_text("TELEGRAM_BOT_TOKEN"),
        telegram_api_url=(_text("TELEGRAM_API_URL") or "https://api.telegram.org").rstrip("/"),
        telegram_webhook_url=_text("TELEGRAM_WEBHOOK_URL"),
        telegram_webhook_secret=_text("TELEGRAM_WEBHOOK_SECRET"),
        telegram_webhook_port=_int("TELEGRAM_WEBHOOK_PORT", 8443),
        telegram_bridge_secret=_text("TELEGRAM_BRIDGE_SECRET"),
        reminder_window_hours=_int("REMINDER_WINDOW_HOURS", 24),
        reminder_interval_seconds=_int("REMINDER_INTERVAL_SECONDS", 300),
    )
