"""All settings, read from environment variables; each has a documented default."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# The seed FAQ (shared/seeds/000_ae31755377e2fac4.txt, question 3) says the candidate pool is open
# "2024 yılı boyunca"; answers show the program year from here so a new year needs no retraining.
SOURCE_PROGRAM_YEAR = 2024


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
    # --- web chat widget and demo portal (issue 4) ---
    portal_port: int
    portal_jwt_secret: str
    rasa_auth_token: str

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


def load_settings() -> Settings:
    """Reads the settings from the environment."""
    return Settings(
        program_year=_int("USP_PROGRAM_YEAR", SOURCE_PROGRAM_YEAR),
        host=os.environ.get("BIND_HOST", "127.0.0.1"),
        rasa_port=_int("RASA_PORT", 5005),
        action_port=_int("ACTION_PORT", 5055),
        max_message_chars=_int("MAX_MESSAGE_CHARS", 1500),
        portal_port=_int("PORTAL_PORT", 8080),
        portal_jwt_secret=os.environ.get("PORTAL_JWT_SECRET", ""),
        rasa_auth_token=os.environ.get("RASA_AUTH_TOKEN", ""),
    )
