"""Telegram without the internet: the fake Bot API server, and the real assistant behind it.

The fake server and the update builders live in bot/benchmarks/fake_telegram.py (the channel
benchmark uses them too) and are re-exported here. `rasa_stack` starts the action server and
`rasa run` on free ports, and `TelegramProcess` runs `python -m bot telegram` against the fake
server.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bot.benchmarks.fake_telegram import (  # noqa: F401  (re-exported for the tests)
    TOKEN,
    WAIT_SECONDS,
    FakeBotApi,
    Sent,
    button_press,
    message,
)
from bot.config import PROJECT_ROOT, load_settings
from bot.db import demo
from bot.db.migrate import upgrade
from bot.db.session import Database
from bot.model import ensure_trained
from bot.runner import free_port, start_action_server, start_rasa, stop
from bot.telegram.protocol import bridge_url

# --- the assistant behind it ----------------------------------------------------------------


def seeded_database(path: Path) -> str:
    """A migrated SQLite database with a small demo data set (named students included)."""
    url = f"sqlite:///{path}"
    upgrade(url)
    db = Database(url)
    demo.seed(db, 20, dt.datetime.now(dt.timezone.utc), progress=False)
    db.dispose()
    return url


@dataclasses.dataclass(frozen=True)
class RasaStack:
    """A running action server and Rasa server, and what a Telegram process needs to use them."""

    environment: dict[str, str]
    bridge_url: str
    bridge_secret: str


@contextmanager
def rasa_stack(database_url: str) -> Iterator[RasaStack]:
    """The action server and `rasa run` with the Telegram bridge, on free ports."""
    settings = dataclasses.replace(load_settings(), rasa_port=free_port(), action_port=free_port())
    secret = f"bridge-{os.urandom(8).hex()}"
    environment = {
        "DATABASE_URL": database_url,
        "TELEGRAM_BRIDGE_SECRET": secret,
        "RASA_PORT": str(settings.rasa_port),
        "ACTION_PORT": str(settings.action_port),
    }
    processes = [start_action_server(settings, environment)]
    try:
        processes.append(start_rasa(ensure_trained(), settings, environment, timeout=600))
        yield RasaStack(environment, bridge_url(settings.host, settings.rasa_port), secret)
    finally:
        stop(processes)


class TelegramProcess:
    """`python -m bot telegram` against the fake Bot API; its log lines are kept."""

    def __init__(self, stack: RasaStack, api: FakeBotApi, **settings: str) -> None:
        environment = {
            **os.environ,
            **stack.environment,
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_URL": api.url,
            # one update at a time: a sentinel's reply means earlier ones are done
            "TELEGRAM_CONCURRENT_UPDATES": "1",
            # "typing…" at once, so that every answer shows it
            "TELEGRAM_TYPING_DELAY_SECONDS": "0",
            **settings,
        }
        self.lines: list[str] = []
        self._new_line = threading.Condition()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot", "telegram"],
            cwd=PROJECT_ROOT,
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            with self._new_line:
                self.lines.append(line)
                self._new_line.notify_all()

    def wait_for_lines(self, fragment: str, count: int = 1) -> None:
        """Waits until `count` log lines contain `fragment` (or the process ends)."""
        deadline = time.monotonic() + WAIT_SECONDS
        with self._new_line:
            while sum(fragment in line for line in self.lines) < count:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"no {count}x {fragment!r}:\n" + "".join(self.lines))
                self._new_line.wait(timeout=1)

    def stop(self) -> None:
        stop([self.process])
