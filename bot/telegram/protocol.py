"""The bridge between the Telegram process and Rasa, as both sides speak it.

The Telegram process (bot/telegram/rasa_client.py) posts to the Rasa server's bridge channel
(bot/channels/telegram_bridge.py), which alone makes the sender id `tg:<user id>`:

POST /webhooks/telegram_bridge/webhook, header X-Bridge-Secret: TELEGRAM_BRIDGE_SECRET
    {"user_id": 42, "text": "staj ücreti"}            a message the user typed
    {"user_id": 42, "payload": "/help"}                a button the user pressed
    {"user_id": 42, "reminder_offer_id": 7}            the scheduler's reminder
-> 200 {"messages": [{"text": "...", "buttons": [{"title": "...", "payload": "..."}]}]}
   401 wrong or missing secret; 400 malformed request; 422 refused (intent syntax typed by a
   user, or a payload users may not send); 500 failure

Plain constants and one rule, so the Telegram process needs neither Rasa nor Sanic to speak it.
"""

from __future__ import annotations

CHANNEL = "telegram_bridge"  # the input channel's name: its routes are under /webhooks/<name>
ROUTE = "/webhook"
PATH = f"/webhooks/{CHANNEL}{ROUTE}"
SECRET_HEADER = "X-Bridge-Secret"

# request fields
USER_ID = "user_id"
TEXT = "text"
PAYLOAD = "payload"
REMINDER_OFFER_ID = "reminder_offer_id"
# reply fields: {MESSAGES: [{TEXT, BUTTONS: [{TITLE, PAYLOAD}]}]}
MESSAGES = "messages"
BUTTONS = "buttons"
TITLE = "title"

REFUSED = 422


def bridge_url(host: str, port: int) -> str:
    """Where the Rasa server at `host`:`port` takes the Telegram process's messages."""
    return f"http://{host}:{port}{PATH}"


def is_intent_syntax(text: str) -> bool:
    """True when Rasa would read the text as an intent ("/greet") rather than run NLU on it:
    such text is never passed on as typed (users may not trigger intents)."""
    return text.strip().startswith("/")
