"""All settings, read from environment variables once per process and checked at start-up.

Each setting is one field of `Settings`: its variable, its default (written here only, as the
variable would spell it) and how its value is read and checked. README.md's "Configuration"
table documents the same variables with the same defaults (tests/test_config.py holds them
together). A malformed or out-of-range value is a `ConfigError` naming the variable; the
command line (bot/__main__.py) turns it into an exit with that message before anything starts.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# Every Rasa process we start: Rasa's usage telemetry and error reports would send what students
# do to Rasa's servers (and, with no internet, retry in vain); they stay off.
RASA_PROCESS_ENVIRONMENT = {"RASA_TELEMETRY_ENABLED": "false"}

# The FAQ (docs/source/usp_sss_ocr.txt, on the candidate pool) says "2024 yılı boyunca"; answers
# show the program year from here, so a new year needs no retraining.
SOURCE_PROGRAM_YEAR = 2024
# Telegram's own rule for the webhook secret (setWebhook's secret_token).
WEBHOOK_SECRET_FORMAT = re.compile(r"[A-Za-z0-9_-]{1,256}")


class ConfigError(ValueError):
    """A setting's value is malformed or out of range; the message names the variable."""


# --- how values are read ------------------------------------------------------------------------


def _whole(minimum: int = 0, maximum: int | None = None) -> Callable[[str], int]:
    """A whole number from `minimum` to `maximum` (inclusive; no maximum when None)."""

    def parse(raw: str) -> int:
        bounds = f"from {minimum} to {maximum}" if maximum is not None else f"of at least {minimum}"
        try:
            value = int(raw)
        except ValueError:
            raise ValueError(f"must be a whole number {bounds}, got {raw!r}") from None
        if value < minimum or (maximum is not None and value > maximum):
            raise ValueError(f"must be a whole number {bounds}, got {raw!r}")
        return value

    return parse


def _number(minimum: float, maximum: float | None = None) -> Callable[[str], float]:
    """A decimal number from `minimum` to `maximum` (inclusive; no maximum when None)."""

    def parse(raw: str) -> float:
        bounds = f"from {minimum} to {maximum}" if maximum is not None else f"of at least {minimum}"
        try:
            value = float(raw)
        except ValueError:
            raise ValueError(f"must be a number {bounds}, got {raw!r}") from None
        if not minimum <= value <= (maximum if maximum is not None else float("inf")):
            raise ValueError(f"must be a number {bounds}, got {raw!r}")
        return value

    return parse


_port = _whole(1, 65535)


def _text(raw: str) -> str:
    return raw


def _switch(raw: str) -> bool:
    """`on` or `off`."""
    if raw.lower() not in ("on", "off"):
        raise ValueError(f"must be on or off, got {raw!r}")
    return raw.lower() == "on"


def _log_level(raw: str) -> str:
    """A logging level name: DEBUG, INFO, WARNING, ERROR or CRITICAL."""
    level = raw.upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        raise ValueError(f"must be DEBUG, INFO, WARNING, ERROR or CRITICAL, got {raw!r}")
    return level


def _http_url(raw: str) -> str:
    """An http(s) URL, without a trailing slash."""
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"must be an http(s) URL, got {raw!r}")
    return raw.rstrip("/")


def _webhook_secret(raw: str) -> str:
    if not WEBHOOK_SECRET_FORMAT.fullmatch(raw):
        raise ValueError("must be 1-256 characters of A-Z, a-z, 0-9, _ and -")
    return raw


def _redis_url(raw: str) -> str:
    """redis://[[user]:password@]host[:port][/db], or rediss:// for TLS."""
    parts = urlsplit(raw)
    try:
        _ = parts.port  # a port that is not a number raises ValueError
        valid = parts.scheme in ("redis", "rediss") and bool(parts.hostname)
    except ValueError:
        valid = False
    if not valid or not (parts.path.strip("/") or "0").isdigit():
        raise ValueError(f"must look like redis://host:6379/0, got {raw!r}")
    return raw


_DATABASE_URL = re.compile(r"(?P<scheme>[\w+]+)://(?P<rest>.*)", re.DOTALL)


def absolute_database_url(url: str) -> str:
    """The database URL (SQLAlchemy's form, `scheme://...`) with a relative SQLite path made
    absolute against the project root: `sqlite:///var/staj.db` is the project's var/staj.db,
    wherever the process runs. Raises ValueError for what is no database URL."""
    match = _DATABASE_URL.fullmatch(url)
    if match is None:
        raise ValueError(f"must be a database URL like sqlite:///var/staj.db, got {url!r}")
    if match["scheme"].partition("+")[0] == "sqlite" and match["rest"].startswith("/"):
        path, separator, query = match["rest"][1:].partition("?")
        if path and path != ":memory:" and not Path(path).is_absolute():
            return f"{match['scheme']}:///{PROJECT_ROOT / path}{separator}{query}"
    return url


@dataclass(frozen=True)
class NetMinimumWage:
    """The monthly net minimum wage the stipend rule refers to, and where the figure comes from.

    The FAQ states the rule (30% / 15% of the net minimum wage) but no amount, so the operator
    sets the amount (lira) with its source and effective date; the assistant never assumes one.
    """

    amount: Decimal
    source: str
    effective_date: dt.date


def _net_minimum_wage(amount: str, source: str, date: str) -> NetMinimumWage:
    if not (amount and source and date):
        raise ValueError("set all three or none: the amount needs its source and date")
    try:
        wage = NetMinimumWage(Decimal(amount), source, dt.date.fromisoformat(date))
    except (InvalidOperation, ValueError):
        raise ValueError(
            f"NET_MINIMUM_WAGE must be a number like 12345.67 and NET_MINIMUM_WAGE_DATE a date "
            f"like 2026-01-01, got {amount!r} and {date!r}"
        ) from None
    if wage.amount <= 0:
        raise ValueError(f"NET_MINIMUM_WAGE must be positive, got {amount!r}")
    return wage


def _setting(
    variables: str | tuple[str, ...], parse: Callable[..., Any], default: str | None
) -> Any:
    """A field read from `variables` by `parse` (one string per variable, stripped).

    When every variable is unset or blank the field takes `default`, spelled as the variable
    would be and read by `parse` too (None: no value).
    """
    names = (variables,) if isinstance(variables, str) else variables
    return dataclasses.field(
        default=None if default is None else parse(default),
        metadata={"variables": names, "parse": parse, "default": default},
    )


# --- the settings -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    """Runtime settings of every process of the assistant (README.md, "Configuration")."""

    program_year: int = _setting("USP_PROGRAM_YEAR", _whole(2000, 2100), str(SOURCE_PROGRAM_YEAR))
    host: str = _setting("BIND_HOST", _text, "127.0.0.1")
    rasa_port: int = _setting("RASA_PORT", _port, "5005")
    action_port: int = _setting("ACTION_PORT", _port, "5055")
    max_message_chars: int = _setting("MAX_MESSAGE_CHARS", _whole(1), "1500")
    database_url: str = _setting("DATABASE_URL", absolute_database_url, "sqlite:///var/staj.db")
    net_minimum_wage: NetMinimumWage | None = _setting(  # noqa: RUF009 (a dataclasses.field)
        ("NET_MINIMUM_WAGE", "NET_MINIMUM_WAGE_SOURCE", "NET_MINIMUM_WAGE_DATE"),
        _net_minimum_wage,
        None,
    )
    # web chat widget and demo portal; the Rasa HTTP API's token
    portal_port: int = _setting("PORTAL_PORT", _port, "8080")
    portal_jwt_secret: str = _setting("PORTAL_JWT_SECRET", _text, "")
    rasa_auth_token: str = _setting("RASA_AUTH_TOKEN", _text, "")
    # staff review (bot/review/): own port, retention of transcripts, "low confidence" line
    review_port: int = _setting("REVIEW_PORT", _port, "8090")
    transcript_retention_days: int = _setting("TRANSCRIPT_RETENTION_DAYS", _whole(1), "180")
    review_low_confidence: float = _setting("REVIEW_LOW_CONFIDENCE", _number(0.0, 1.0), "0.5")
    # the Telegram process (bot/telegram/) and its reminders
    telegram_bot_token: str | None = _setting("TELEGRAM_BOT_TOKEN", _text, None)
    telegram_api_url: str = _setting("TELEGRAM_API_URL", _http_url, "https://api.telegram.org")
    telegram_webhook_url: str | None = _setting("TELEGRAM_WEBHOOK_URL", _http_url, None)
    telegram_webhook_secret: str | None = _setting("TELEGRAM_WEBHOOK_SECRET", _webhook_secret, None)
    telegram_webhook_port: int = _setting("TELEGRAM_WEBHOOK_PORT", _port, "8443")
    telegram_bridge_secret: str | None = _setting("TELEGRAM_BRIDGE_SECRET", _text, None)
    reminder_window_hours: int = _setting("REMINDER_WINDOW_HOURS", _whole(1), "24")
    reminder_interval_seconds: int = _setting("REMINDER_INTERVAL_SECONDS", _whole(1), "300")
    telegram_concurrent_updates: int = _setting("TELEGRAM_CONCURRENT_UPDATES", _whole(1), "64")
    telegram_typing_delay_seconds: float = _setting(
        "TELEGRAM_TYPING_DELAY_SECONDS", _number(0.0), "1.0"
    )
    # the production path (README "Production"): Rasa's lock store in Redis, which several Sanic
    # workers or Rasa replicas need to share conversations, and the processes' sizes
    redis_url: str | None = _setting("REDIS_URL", _redis_url, None)
    sanic_workers: int = _setting("SANIC_WORKERS", _whole(1), "1")
    action_server_sanic_workers: int = _setting("ACTION_SERVER_SANIC_WORKERS", _whole(1), "1")
    tracker_cache_size: int = _setting("TRACKER_CACHE_SIZE", _whole(0), "1000")
    tf_inter_op_parallelism_threads: int = _setting(
        "TF_INTER_OP_PARALLELISM_THREADS", _whole(0), "1"
    )
    tf_intra_op_parallelism_threads: int = _setting(
        "TF_INTRA_OP_PARALLELISM_THREADS", _whole(0), "1"
    )
    # our replacements of Rasa's, Sanic's and aiohttp's internals (bot/patches/): off to bisect
    rasa_patches: bool = _setting("STAJ_RASA_PATCHES", _switch, "on")
    # key of the pseudonyms of REST sender ids and Redis key names (bot/pseudonyms.py); unset:
    # one made once and kept in var/pseudonym-secret (replicas on several machines must share it)
    pseudonym_secret: str | None = _setting("PSEUDONYM_SECRET", _text, None)
    # the action server's log level (Rasa's own is set by its --debug / --quiet options)
    log_level: str = _setting("LOG_LEVEL", _log_level, "INFO")

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


def variables_of(field: dataclasses.Field) -> tuple[str, ...]:
    """The environment variables a field of Settings is read from."""
    return field.metadata["variables"]


def read_settings(environment: Mapping[str, str]) -> Settings:
    """The settings `environment` gives, every value checked; raises ConfigError."""
    values: dict[str, Any] = {}
    for field in dataclasses.fields(Settings):
        names = variables_of(field)
        raw = [environment.get(name, "").strip() for name in names]
        if not any(raw):
            continue  # the field's default
        try:
            values[field.name] = field.metadata["parse"](*raw)
        except ValueError as error:
            raise ConfigError(f"{', '.join(names)}: {error}") from None
    return Settings(**values)


@functools.lru_cache(maxsize=1)
def load_settings() -> Settings:
    """The process's settings, read from the environment on first use; raises ConfigError."""
    return read_settings(os.environ)


def reload_settings() -> Settings:
    """Reads the environment again (tests that change it); raises ConfigError."""
    load_settings.cache_clear()
    return load_settings()
