"""Shared fixtures: the trained agent talking to a real action server started for the session."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import itertools
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from bot import patches
from bot.config import PROJECT_ROOT, Settings, load_settings, reload_settings
from bot.model import ensure_trained
from bot.runner import free_port, start_action_server, stop

pytest_plugins = ["tests.db_fixtures", "tests.browser_fixtures", "tests.webchat_fixtures"]


# A round figure for the stipend arithmetic; deliberately not the real net minimum wage.
TEST_WAGE = {
    "NET_MINIMUM_WAGE": "10000",
    "NET_MINIMUM_WAGE_SOURCE": "test figure, not the real wage",
    "NET_MINIMUM_WAGE_DATE": "2026-01-01",
}


def load_yaml(relative_path: str) -> Any:
    """A YAML file of the project."""
    return yaml.safe_load((PROJECT_ROOT / relative_path).read_text(encoding="utf-8"))


@dataclasses.dataclass
class Turn:
    """What the assistant did in reply to one message."""

    intent: str | None
    texts: list[str]
    buttons: list[dict[str, str]]
    utter_actions: list[str]

    @property
    def text(self) -> str:
        """All reply texts joined."""
        return "\n".join(self.texts)


class Conversation:
    """One user talking to the trained assistant; each `say` returns the assistant's turn."""

    _ids = itertools.count()

    def __init__(
        self, agent: Any, loop: asyncio.AbstractEventLoop, sender_id: str | None = None
    ) -> None:
        self.agent = agent
        self.loop = loop
        self.sender_id = sender_id or f"test-{next(self._ids)}"

    def say(self, message: str) -> Turn:
        """Sends a message (text or a button payload) and collects the reply."""
        from rasa.shared.core.events import BotUttered, UserUttered

        self.loop.run_until_complete(self.agent.handle_text(message, sender_id=self.sender_id))
        tracker = self.loop.run_until_complete(self.agent.tracker_store.retrieve(self.sender_id))
        events = list(tracker.events)
        last_user = max(i for i, event in enumerate(events) if isinstance(event, UserUttered))
        bot = [event for event in events[last_user:] if isinstance(event, BotUttered)]
        return Turn(
            intent=events[last_user].intent_name,
            texts=[event.text or "" for event in bot],
            buttons=[b for event in bot for b in (event.data.get("buttons") or [])],
            utter_actions=[(event.metadata or {}).get("utter_action", "") for event in bot],
        )


class Environment:
    """Environment variables set for one test, and the process's settings read from them again
    (bot.config loads them once per process)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.monkeypatch = monkeypatch

    def set(self, **variables: str) -> Settings:
        """Sets the variables ("" for unset) and reloads the settings; raises ConfigError."""
        for name, value in variables.items():
            self.monkeypatch.setenv(name, value)
        return reload_settings()


@pytest.fixture()
def environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[Environment]:
    """Set variables with `environment.set(NAME="value")`; afterwards the environment and the
    settings are as before."""
    yield Environment(monkeypatch)
    monkeypatch.undo()
    reload_settings()


@pytest.fixture(scope="session")
def demo_database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A SQLite database with the demo data, seeded now (named students included)."""
    from bot.db import demo
    from bot.db.migrate import upgrade
    from bot.db.session import Database

    url = f"sqlite:///{tmp_path_factory.mktemp('demo') / 'demo.db'}"
    upgrade(url)
    db = Database(url)
    demo.seed(db, 50, dt.datetime.now(dt.timezone.utc), progress=False)
    db.dispose()
    return url


def start_agent(
    database_url: str, tracker_store: Any = None
) -> Iterator[tuple[Any, asyncio.AbstractEventLoop]]:
    """The current model with its own action server on `database_url` (and a tracker store)."""
    from rasa.core.agent import Agent
    from rasa.utils.endpoints import EndpointConfig

    model = ensure_trained()
    patches.install()  # as in every Rasa process of the assistant
    settings = dataclasses.replace(load_settings(), action_port=free_port())
    action_server = start_action_server(settings, {"DATABASE_URL": database_url, **TEST_WAGE})
    loop = asyncio.new_event_loop()
    try:
        agent = Agent.load(
            model,
            action_endpoint=EndpointConfig(settings.action_server_url),
            tracker_store=tracker_store,
        )
        yield agent, loop
    finally:
        loop.close()
        stop([action_server])


@pytest.fixture(scope="session")
def agent_and_loop(demo_database_url: str) -> Iterator[tuple[Any, asyncio.AbstractEventLoop]]:
    """The current model, loaded once, with an action server on the demo database."""
    yield from start_agent(demo_database_url)


@pytest.fixture()
def conversation(agent_and_loop: tuple[Any, asyncio.AbstractEventLoop]) -> Conversation:
    """A fresh conversation with the assistant."""
    agent, loop = agent_and_loop
    return Conversation(agent, loop)


@pytest.fixture(scope="session")
def faq_responses() -> dict[str, dict[str, Any]]:
    """`utter_faq/<key>` responses of the domain, by key, in file order."""
    responses = load_yaml("domain/faq.yml")["responses"]
    return {
        name.removeprefix("utter_faq/"): variants[0]
        for name, variants in responses.items()
        if name.startswith("utter_faq/")
    }
