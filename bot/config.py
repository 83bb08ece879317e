"""All settings, read from environment variables; each has a documented default."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# Every Rasa process we start: Rasa's usage telemetry and error reports would send what students
# do to Rasa's servers (and, with no internet, retry in vain); they stay off.
RASA_PROCESS_ENVIRONMENT = {"RASA_TELEMETRY_ENABLED": "false"}

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


def _float(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError as error:
        raise SystemExit(f"{name} must be a number, got {raw!r}") from error


@dataclass(frozen=True)
class NetMinimumWage:
    """The monthly net minimum wage the stipend rule refers to, and where the figure comes from.

    The FAQ states the rule (30% / 15% of the net minimum wage) but no amount, so the operator
    sets the amount with its source and effective date; the assistant never assumes one.
    """

    amount: Decimal
    source: str
    effective_date: dt.date


def _net_minimum_wage() -> NetMinimumWage | None:
    names = ("NET_MINIMUM_WAGE", "NET_MINIMUM_WAGE_SOURCE", "NET_MINIMUM_WAGE_DATE")
    amount, source, date = (os.environ.get(name, "").strip() for name in names)
    if not (amount or source or date):
        return None
    if not (amount and source and date):
        raise SystemExit(f"{', '.join(names)} go together: the amount needs its source and date")
    try:
        wage = NetMinimumWage(Decimal(amount), source, dt.date.fromisoformat(date))
    except (InvalidOperation, ValueError) as error:
        raise SystemExit(
            f"NET_MINIMUM_WAGE must be a number like 12345.67 and NET_MINIMUM_WAGE_DATE a date "
            f"like 2026-01-01, got {amount!r} and {date!r}"
        ) from error
    if wage.amount <= 0:
        raise SystemExit(f"NET_MINIMUM_WAGE must be positive, got {amount!r}")
    return wage


@dataclass(frozen=True)
class Settings:
    """Runtime settings of every process of the assistant."""

    program_year: int
    host: str
    rasa_port: int
    action_port: int
    max_message_chars: int
    net_minimum_wage: NetMinimumWage | None
    # --- web chat widget and demo portal (issue 4) ---
    portal_port: int
    portal_jwt_secret: str
    rasa_auth_token: str
    # Staff review (bot/review/): own port, retention of transcripts, "low confidence" line.
    review_port: int = 8090
    transcript_retention_days: int = 180
    review_low_confidence: float = 0.5
    telegram_bot_token: str | None = None
    telegram_api_url: str = "https://api.telegram.org"
    telegram_webhook_url: str | None = None
    telegram_webhook_secret: str | None = None
    telegram_webhook_port: int = 8443
    telegram_bridge_secret: str | None = None
    reminder_window_hours: int = 24
    reminder_interval_seconds: int = 300
    telegram_concurrent_updates: int = 64
    telegram_typing_delay_seconds: float = 1.0
    # Production path (docs/BENCHMARKS.md, make bench-channels): Rasa's lock store in Redis,
    # which several Sanic workers (SANIC_WORKERS) or Rasa replicas need to share conversations.
    redis_url: str | None = None
    # Key of the pseudonyms for REST sender ids and Redis key names (bot/pseudonyms.py).
    pseudonym_secret: str | None = None

    @property
    def action_server_url(self) -> str:
        """Where Rasa calls the custom actions."""
        return f"http://{self.host}:{self.action_port}/webhook"

    @property
    def portal_origins(self) -> list[str]:
        """Browser origins of the portal page, the only ones allowed to open the web chat."""
        hosts = {self.host, "localhost"} if self.host == "127.0.0.1" else {self.host}
        return sorted(f"http://{host}:{self.portal_port}" for host in hosts)

    @property
    def rasa_url(self) -> str:
        """Where the widget finds Rasa's socket.io endpoint."""
        return f"http://{self.host}:{self.rasa_port}"

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
        net_minimum_wage=_net_minimum_wage(),
        review_port=_int("REVIEW_PORT", 8090),
        transcript_retention_days=_int("TRANSCRIPT_RETENTION_DAYS", 180),
        review_low_confidence=_float("REVIEW_LOW_CONFIDENCE", 0.5),
        portal_port=_int("PORTAL_PORT", 8080),
        portal_jwt_secret=os.environ.get("PORTAL_JWT_SECRET", ""),
        rasa_auth_token=os.environ.get("RASA_AUTH_TOKEN", ""),
        telegram_bot_token=_text("TELEGRAM_BOT_TOKEN"),
        telegram_api_url=(_text("TELEGRAM_API_URL") or "https://api.telegram.org").rstrip("/"),
        telegram_webhook_url=_text("TELEGRAM_WEBHOOK_URL"),
        telegram_webhook_secret=_text("TELEGRAM_WEBHOOK_SECRET"),
        telegram_webhook_port=_int("TELEGRAM_WEBHOOK_PORT", 8443),
        telegram_bridge_secret=_text("TELEGRAM_BRIDGE_SECRET"),
        reminder_window_hours=_int("REMINDER_WINDOW_HOURS", 24),
        reminder_interval_seconds=_int("REMINDER_INTERVAL_SECONDS", 300),
        telegram_concurrent_updates=_int("TELEGRAM_CONCURRENT_UPDATES", 64),
        telegram_typing_delay_seconds=_float("TELEGRAM_TYPING_DELAY_SECONDS", 1.0),
        redis_url=_text("REDIS_URL"),
        pseudonym_secret=_text("PSEUDONYM_SECRET"),
    )
