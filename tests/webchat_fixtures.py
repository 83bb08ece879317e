"""The web chat stack for tests: action server, `rasa run` and the demo portal on free ports."""

from __future__ import annotations

import asyncio
import dataclasses
import secrets
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import socketio

from bot.config import Settings, load_settings
from bot.model import ensure_trained
from bot.runner import start_action_server, start_portal, start_rasa, stop
from tests.conftest import free_port

REPLY_TIMEOUT = 120  # a guard against hanging, not a latency assertion


@dataclasses.dataclass(frozen=True)
class WebStack:
    """The running processes' settings (ports, portal secret, HTTP API token)."""

    settings: Settings

    @property
    def rasa_url(self) -> str:
        """Rasa's base URL (socket.io, HTTP API)."""
        return self.settings.rasa_url

    @property
    def portal_url(self) -> str:
        """The demo portal page."""
        return f"http://{self.settings.host}:{self.settings.portal_port}"


@pytest.fixture(scope="session")
def web_stack(demo_database_url: str) -> Iterator[WebStack]:
    """Action server on the demo database, Rasa with the web chat channel, the portal."""
    settings = dataclasses.replace(
        load_settings(),
        host="127.0.0.1",
        rasa_port=free_port(),
        action_port=free_port(),
        portal_port=free_port(),
        portal_jwt_secret=secrets.token_urlsafe(32),
        rasa_auth_token=secrets.token_urlsafe(16),
    )
    model = ensure_trained()
    processes = []
    try:
        database = {"DATABASE_URL": demo_database_url}
        processes.append(start_action_server(settings, database))
        processes.append(start_rasa(model, settings, database))
        processes.append(start_portal(settings))
        yield WebStack(settings)
    finally:
        stop(processes)


class ChatClient:
    """A real python-socketio client of the web chat that keeps every message it receives."""

    def __init__(self) -> None:
        self.sio = socketio.AsyncClient(reconnection=False)
        self.received: list[dict[str, Any]] = []
        self.refusal: Any = None
        self._arrived = asyncio.Event()
        self._settled = asyncio.Event()
        self.sio.on("bot_uttered", self._on_bot_uttered)
        self.sio.on("connect", self._on_connect)
        self.sio.on("connect_error", self._on_connect_error)

    async def _on_bot_uttered(self, message: dict[str, Any]) -> None:
        self.received.append(message)
        self._arrived.set()

    async def _on_connect(self) -> None:
        self._settled.set()

    async def _on_connect_error(self, data: Any) -> None:
        self.refusal = data
        self._settled.set()

    async def connect(
        self, url: str, token: str | None = None, headers: dict[str, str] | None = None
    ) -> None:
        """Connects like the widget: the portal token in socket.io's `auth` payload.

        Raises ConnectionRefusedError with the server's reason when the server refuses. Uses
        long-polling (python-engineio 4.15's websocket client needs aiohttp >= 3.10, rasa pins
        3.9.5; the browser test covers websockets), and closes without waiting for the open
        long-poll request to time out.
        """
        await self.sio.connect(
            url,
            auth={"token": token} if token else {},
            headers=headers or {},
            transports=["polling"],
            wait=False,
        )
        await asyncio.wait_for(self._settled.wait(), REPLY_TIMEOUT)
        if self.refusal is not None:
            await self.sio.eio.disconnect(abort=True)
            raise ConnectionRefusedError(self.refusal)

    async def wait_for(
        self, predicate: Callable[[dict[str, Any]], bool], start: int = 0
    ) -> dict[str, Any]:
        """The first message from index `start` on that matches; waits for it to arrive."""

        async def first_match() -> dict[str, Any]:
            while True:
                for message in self.received[start:]:
                    if predicate(message):
                        return message
                self._arrived.clear()
                await self._arrived.wait()

        try:
            return await asyncio.wait_for(first_match(), REPLY_TIMEOUT)
        except asyncio.TimeoutError:
            raise AssertionError(f"no matching reply; received: {self.received}") from None

    async def ask(self, message: str, expected: str, **extra: Any) -> str:
        """Sends a message; returns the text of the reply containing `expected`."""
        start = len(self.received)
        await self.sio.emit("user_uttered", {"message": message, **extra})
        reply = await self.wait_for(lambda m: expected in (m.get("text") or ""), start)
        return reply["text"]

    def texts(self) -> str:
        """Everything this client has received, joined."""
        return "\n".join(m.get("text") or "" for m in self.received)

    async def close(self) -> None:
        """Disconnects (the server forgets the socket's session)."""
        await self.sio.eio.disconnect(abort=True)
