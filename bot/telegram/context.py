"""What every handler of the Telegram process shares: python-telegram-bot's `context.bot_data`,
typed with ContextTypes (as python-telegram-bot's contexttypesbot example does)."""

from __future__ import annotations

import collections
import hashlib
from dataclasses import dataclass, field

from telegram.ext import CallbackContext, ContextTypes, ExtBot

from bot.telegram.rasa_client import RasaClient

MAX_CALLBACK_DATA_BYTES = 64  # Telegram's limit for a button's callback data
MAX_STORED_PAYLOADS = 10_000


@dataclass
class ButtonPayloads:
    """Payloads as callback data: short ones as they are, longer ones by a stored token.

    Telegram allows 64 bytes of callback data; tokens live in this process only, so a button
    from before a restart may come back unknown (the user is told the button expired).
    """

    stored: collections.OrderedDict[str, str] = field(default_factory=collections.OrderedDict)

    def callback_data(self, payload: str) -> str:
        """What to put in the button."""
        if len(payload.encode()) <= MAX_CALLBACK_DATA_BYTES and not payload.startswith("#"):
            return payload
        token = "#" + hashlib.sha256(payload.encode()).hexdigest()[:24]
        self.stored[token] = payload
        self.stored.move_to_end(token)
        while len(self.stored) > MAX_STORED_PAYLOADS:
            self.stored.popitem(last=False)
        return token

    def payload(self, callback_data: str) -> str | None:
        """The payload a pressed button stands for, None if unknown."""
        if callback_data.startswith("#"):
            return self.stored.get(callback_data)
        return callback_data


@dataclass
class BotData:
    """The process's shared state. python-telegram-bot makes it without arguments when the
    application is built; build_application (bot/telegram/application.py) then sets the Rasa
    client and the typing delay (TELEGRAM_TYPING_DELAY_SECONDS)."""

    rasa: RasaClient | None = None
    typing_delay_seconds: float = 0.0
    payloads: ButtonPayloads = field(default_factory=ButtonPayloads)

    def rasa_client(self) -> RasaClient:
        """The Rasa client; RuntimeError before build_application has set it."""
        if self.rasa is None:
            raise RuntimeError("the application was not built by build_application")
        return self.rasa


CONTEXT_TYPES = ContextTypes(bot_data=BotData)
# The `context` of every handler: chat and user data stay python-telegram-bot's dicts (unused).
Context = CallbackContext[ExtBot[None], dict, dict, BotData]
