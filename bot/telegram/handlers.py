"""What the Telegram process does with each kind of update.

Private chats only: every typed message or pressed button goes to Rasa (bot/telegram/
rasa_client.py) with the Telegram user id from the update, and Rasa's replies come back to the
chat. Commands map to payloads Rasa knows; intent syntax typed by a user ("/greet"), media,
edited messages and commands in groups get a short answer of this process itself (Turkish, as
students read it). application.py registers these handlers in order.
"""

from __future__ import annotations

import contextlib
import logging

from telegram import BotCommand, Update
from telegram.error import TelegramError

from bot.link_code import is_only_a_code
from bot.telegram.context import Context
from bot.telegram.protocol import is_intent_syntax
from bot.telegram.rasa_client import BotMessage, BridgeRefused, BridgeUnavailable
from bot.telegram.sending import deliver, say, typing, with_retry

logger = logging.getLogger(__name__)

NOT_TEXT = "Şimdilik yalnızca yazılı mesajları anlayabiliyorum. Sorunu yazarak sorar mısın?"
EDITED = (
    "Düzenlenen mesajlara yeniden yanıt veremiyorum. Sorunu yeni bir mesaj olarak yazabilirsin."
)
GROUPS_ONLY_PRIVATE = (
    "Kişisel bilgilerini korumak için yalnızca özel sohbette yanıt "
    "veriyorum. Bana doğrudan mesaj yazabilirsin."
)
UNKNOWN_COMMAND = (
    "Bu komutu tanımıyorum. Kullanabileceğin komutlar: /yardim (neler "
    "sorabileceğin), /bagla (hesabını bağlama), /iptal (konuşmayı baştan "
    "başlatma). Sorunu kendi cümlelerinle de yazabilirsin."
)
UNAVAILABLE = "Şu anda yanıt veremiyorum. Lütfen biraz sonra tekrar dene."
STALE_BUTTON = "Bu düğmenin süresi dolmuş. Sorunu yazabilir ya da /yardim komutunu kullanabilirsin."
COMMANDS = (
    BotCommand("yardim", "Neler sorabileceğini gösterir"),
    BotCommand("bagla", "Hesabını bu sohbete bağlar: /bagla KOD"),
    BotCommand("iptal", "Konuşmayı baştan başlatır (hesap bağlantın durur)"),
)
# What each command asks Rasa for (button-style payloads the bridge accepts).
START_PAYLOAD = "/greet"
HELP_PAYLOAD = "/help"
LINK_HOW_PAYLOAD = "/link_account"
RESTART_PAYLOAD = "/restart"


async def converse(
    update: Update,
    context: Context,
    *,
    text: str | None = None,
    payload: str | None = None,
) -> None:
    """Hands a message of the update's user to Rasa and sends the replies to the chat."""
    user, chat = update.effective_user, update.effective_chat
    rasa = context.bot_data.rasa_client()
    try:
        async with typing(context.application, chat.id):
            replies = await rasa.message(user.id, text=text, payload=payload)
    except BridgeRefused:
        replies = [BotMessage(UNKNOWN_COMMAND)]
    except BridgeUnavailable as error:
        logger.error("Rasa unavailable: %s", error)
        replies = [BotMessage(UNAVAILABLE)]
    for reply in replies:
        await deliver(context.application, chat.id, reply)


async def on_start(update: Update, context: Context) -> None:
    """/start greets; /start <code> (a t.me/<bot>?start=<code> link) links the account."""
    argument = "".join(context.args or [])
    if not argument:
        await converse(update, context, payload=START_PAYLOAD)
    elif is_only_a_code(argument):
        await converse(update, context, text=argument)
    else:
        await converse(update, context, payload=LINK_HOW_PAYLOAD)


async def on_link(update: Update, context: Context) -> None:
    """/bagla explains linking; /bagla <code> links with the code."""
    argument = " ".join(context.args or [])
    if is_only_a_code(argument):
        await converse(update, context, text=argument)
    else:
        await converse(update, context, payload=LINK_HOW_PAYLOAD)


async def on_help(update: Update, context: Context) -> None:
    """/yardim: the help menu with topic buttons."""
    await converse(update, context, payload=HELP_PAYLOAD)


async def on_cancel(update: Update, context: Context) -> None:
    """/iptal: starts the conversation afresh; the account link stays."""
    await converse(update, context, payload=RESTART_PAYLOAD)


async def on_unknown_command(update: Update, context: Context) -> None:
    """Any other command, including attempts at Rasa's "/intent" syntax."""
    await say(update, UNKNOWN_COMMAND)


async def on_text(update: Update, context: Context) -> None:
    """A typed message."""
    text = update.effective_message.text
    if is_intent_syntax(text):
        await say(update, UNKNOWN_COMMAND)
    else:
        await converse(update, context, text=text)


async def on_button(update: Update, context: Context) -> None:
    """A pressed inline button: answered at once, its payload routed to Rasa."""
    query = update.callback_query
    await with_retry(query.answer)
    if update.effective_chat is None or update.effective_chat.type != "private":
        return
    payload = context.bot_data.payloads.payload(query.data or "")
    if payload is None:
        await say(update, STALE_BUTTON)
    else:
        await converse(update, context, payload=payload)


async def on_not_text(update: Update, context: Context) -> None:
    """Photos, stickers, voice, documents, locations…: only text is understood."""
    await say(update, NOT_TEXT)


async def on_edited(update: Update, context: Context) -> None:
    """An edited message is not answered again."""
    await say(update, EDITED)


async def on_group_command(update: Update, context: Context) -> None:
    """Commands in groups: personal data stays in private chats."""
    await say(update, GROUPS_ONLY_PRIVATE)


async def on_error(update: object, context: Context) -> None:
    """Logs the error; the user of a private chat hears that something went wrong."""
    logger.error("update failed", exc_info=context.error)
    if (
        isinstance(update, Update)
        and update.effective_chat is not None
        and update.effective_chat.type == "private"
    ):
        with contextlib.suppress(TelegramError):
            await say(update, UNAVAILABLE)
