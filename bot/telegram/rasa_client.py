"""The Telegram process's client of the Rasa server's bridge channel (bot/telegram/protocol.py)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import aiohttp

from bot.telegram import protocol


@dataclass(frozen=True)
class BotMessage:
    """One message of the assistant: text and its buttons (title, payload)."""

    text: str
    buttons: tuple[tuple[str, str], ...] = ()


class BridgeRefused(Exception):
    """The bridge would not run this message (intent syntax typed by a user)."""


class BridgeUnavailable(Exception):
    """Rasa could not be reached or failed."""


class RasaClient:
    """Posts to the bridge over one aiohttp session, opened on first use (a connection per
    request: `force_close`)."""

    def __init__(self, url: str, secret: str, timeout: float = 60.0) -> None:
        """`url`: the bridge (protocol.bridge_url); `timeout`: seconds for a whole answer."""
        self.url = url
        self._headers = {protocol.SECRET_HEADER: secret}
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        """Closes the HTTP session."""
        if self._session is not None:
            await self._session.close()

    async def message(
        self, user_id: int, *, text: str | None = None, payload: str | None = None
    ) -> list[BotMessage]:
        """The assistant's replies to a typed text or a pressed button's payload.

        Raises BridgeRefused (422) or BridgeUnavailable (anything else that is not an answer).
        """
        body: dict[str, Any] = {protocol.USER_ID: user_id}
        body.update({protocol.TEXT: text} if payload is None else {protocol.PAYLOAD: payload})
        return await self._post(body)

    async def remind(self, user_id: int, offer_id: int) -> list[BotMessage]:
        """The reminder for one offer (empty when Rasa decides not to remind)."""
        return await self._post({protocol.USER_ID: user_id, protocol.REMINDER_OFFER_ID: offer_id})

    async def _post(self, body: dict[str, Any]) -> list[BotMessage]:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                headers=self._headers,
                timeout=self._timeout,
                connector=aiohttp.TCPConnector(force_close=True),
            )
        try:
            async with self._session.post(self.url, json=body) as reply:
                if reply.status == protocol.REFUSED:
                    raise BridgeRefused(await reply.text())
                if reply.status != 200:
                    raise BridgeUnavailable(f"bridge answered {reply.status}")
                messages = (await reply.json())[protocol.MESSAGES]
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError, KeyError) as error:
            raise BridgeUnavailable(f"{error.__class__.__name__}: {error}") from error
        return [
            BotMessage(
                m.get(protocol.TEXT) or "",
                tuple(
                    (b[protocol.TITLE], b[protocol.PAYLOAD]) for b in m.get(protocol.BUTTONS) or []
                ),
            )
            for m in messages
        ]
