"""The REST channel for local development, whose senders can never pass for verified ones.

The stock channel takes the sender id from the request body, so anyone who can reach it could
send as `tg:42`. This one prefixes every sender with `rest:`, outside the verified namespaces
of bot.identity: REST users get the FAQ, never a student's data.

The client's own part is replaced by its keyed pseudonym (bot/pseudonyms.py): a client may pick
a phone number or an e-mail address as its id, and that must be neither stored nor used in
Redis key names. The same client id always gives the same sender id (`rest:<32 hex digits>`).

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
from bot.pseudonyms import pseudonym
from bot.senders import REST


def rest_sender_id(client_sender: str) -> str:
    """The Rasa sender id of a REST client that calls itself `client_sender` (a keyed hash of
    it: a client may put a phone number or an e-mail there)."""
    return REST.sender_id(pseudonym(client_sender, "rest-sender"))


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
        return rest_sender_id(str(req.json.get("sender", "anonymous")))
