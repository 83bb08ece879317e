"""The Rasa side of Telegram: an input channel only our own Telegram process can use.

The Telegram process (bot/telegram/) talks to Telegram; it hands each update's text or button
payload to this channel, with the numeric Telegram user id from the update. This channel builds
the sender id `tg:<user id>` itself, runs the message through Rasa and returns the bot's
messages (text and buttons), like Rasa's REST channel. The reminder scheduler uses it to trigger
EXTERNAL_offer_reminder for one offer, which users can never do.

Every request must carry the shared secret (compared in constant time) from
TELEGRAM_BRIDGE_SECRET; `python -m bot run` makes a random one per run when it is unset. Without
a secret the channel refuses everything. The requests and replies are bot/telegram/protocol.py's.

credentials.yml: `bot.channels.telegram_bridge.TelegramBridgeInput:`
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.server_start import with_start_listeners
from bot.config import load_settings
from bot.senders import TELEGRAM
from bot.telegram import protocol
from bot.telegram.protocol import is_intent_syntax

logger = logging.getLogger(__name__)
REMINDER_INTENT = "EXTERNAL_offer_reminder"
MAX_TELEGRAM_USER_ID = 2**53  # Bot API: user ids fit in 52 bits


def is_external_intent(payload: str) -> bool:
    """True for "/EXTERNAL_..." payloads: events only our scheduler may trigger."""
    return payload.strip().lstrip("/").casefold().startswith("external")


def _user_id(body: dict[str, Any]) -> int | None:
    value = body.get(protocol.USER_ID)
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value if 0 < value < MAX_TELEGRAM_USER_ID else None


def _reply(messages: list[dict[str, Any]]) -> HTTPResponse:
    return response.json(
        {
            protocol.MESSAGES: [
                {
                    protocol.TEXT: message.get("text") or "",
                    protocol.BUTTONS: message.get("buttons") or [],
                }
                for message in messages
            ]
        }
    )


class TelegramBridgeInput(InputChannel):
    """Runs messages of verified Telegram users through Rasa for our Telegram process."""

    def __init__(self, secret: str | None) -> None:
        self.secret = secret

    @classmethod
    def name(cls) -> str:
        """URL prefix: /webhooks/telegram_bridge."""
        return protocol.CHANNEL

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        """The secret comes from the environment, never from credentials.yml."""
        return cls(load_settings().telegram_bridge_secret)

    def _authorized(self, request: Request) -> bool:
        given = request.headers.get(protocol.SECRET_HEADER, "").encode()
        return self.secret is not None and hmac.compare_digest(given, self.secret.encode())

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """The webhook that our Telegram process posts to."""
        bridge = Blueprint("telegram_bridge_webhook", __name__)

        @bridge.route(protocol.ROUTE, methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if not self._authorized(request):
                return response.json({"error": "unauthorized"}, status=401)
            body = request.json if isinstance(request.json, dict) else {}
            user_id = _user_id(body)
            if user_id is None:
                return response.json({"error": "user_id must be a Telegram user id"}, status=400)
            collector = CollectingOutputChannel()
            try:
                if protocol.REMINDER_OFFER_ID in body:
                    return await self._remind(
                        request, user_id, body[protocol.REMINDER_OFFER_ID], collector
                    )
                text, payload = body.get(protocol.TEXT), body.get(protocol.PAYLOAD)
                if isinstance(text, str) and payload is None:
                    if is_intent_syntax(text):
                        return response.json(
                            {"error": "intent syntax in text"}, status=protocol.REFUSED
                        )
                    message = text
                elif isinstance(payload, str) and text is None:
                    if not is_intent_syntax(payload) or is_external_intent(payload):
                        return response.json({"error": "payload refused"}, status=protocol.REFUSED)
                    message = payload
                else:
                    return response.json({"error": "give text or payload"}, status=400)
                await on_new_message(
                    UserMessage(
                        message, collector, TELEGRAM.sender_id(user_id), input_channel=TELEGRAM.name
                    )
                )
            except Exception:  # whatever failed, the Telegram process asks the user to retry
                logger.exception(
                    "telegram bridge: message of %s failed", TELEGRAM.sender_id(user_id)
                )
                return response.json({"error": "failed"}, status=500)
            return _reply(collector.messages)

        return with_start_listeners(bridge)

    async def _remind(
        self, request: Request, user_id: int, offer_id: Any, collector: CollectingOutputChannel
    ) -> HTTPResponse:
        """Triggers the reminder intent for one offer, as Rasa's trigger_intent endpoint does."""
        if isinstance(offer_id, bool) or not isinstance(offer_id, int):
            return response.json({"error": "reminder_offer_id must be an integer"}, status=400)
        agent = request.app.ctx.agent
        conversation = TELEGRAM.sender_id(user_id)
        async with agent.lock_store.lock(conversation):
            tracker = await agent.processor.fetch_tracker_and_update_session(
                conversation, collector
            )
            await agent.trigger_intent(
                REMINDER_INTENT,
                [{"entity": "offer_id", "value": str(offer_id)}],
                collector,
                tracker,
            )
        return _reply(collector.messages)
