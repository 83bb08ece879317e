"""The REST channel for local development, whose senders can never pass for verified ones.

The stock channel takes the sender id from the request body, so anyone who can reach it could
send as `tg:42`. This one prefixes every sender with `rest:`, outside the verified namespaces
of bot.identity: REST users get the FAQ, never a student's data.

credentials.yml: `bot.channels.rest.LocalRestInput:` (webhook: /webhooks/rest/webhook)
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint
from sanic.request import Request

from bot.channels.server_start import with_start_listeners
from bot.senders import REST


class LocalRestInput(RestInput):
    """REST input whose sender ids are namespaced as unverified."""

    @classmethod
    def name(cls) -> str:
        """Keeps the stock URL: /webhooks/rest/webhook."""
        return REST.name

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """Rasa's REST webhook, with our servers' start-up listeners."""
        return with_start_listeners(super().blueprint(on_new_message))

    async def _extract_sender(self, req: Request) -> Any:
        return REST.sender_id(req.json.get("sender", "anonymous"))
