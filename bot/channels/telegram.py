"""The Telegram channel: python-telegram-bot in front of the Rasa server.

Run it with the Rasa server already up (`make run` starts both when TELEGRAM_BOT_TOKEN is set):

    TELEGRAM_BOT_TOKEN=123456:ABC... TELEGRAM_BRIDGE_SECRET=... python -m bot telegram

Long polling by default; with TELEGRAM_WEBHOOK_URL set, a webhook server on BIND_HOST and
TELEGRAM_WEBHOOK_PORT instead, which accepts only updates carrying Telegram's
`X-Telegram-Bot-Api-Secret-Token` header with TELEGRAM_WEBHOOK_SECRET.

Every private-chat message or button press goes to Rasa through our bridge channel
(bot/channels/telegram_bridge.py) with the Telegram user id from the update; the bridge makes
the sender id `tg:<user id>`. Replies come back as plain text sent in HTML mode with everything
escaped, split under Telegram's length limit, with buttons as an inline keyboard. The reminder
scheduler (bot/reminders.py) runs in this process too.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import datetime as dt
import hashlib
import hmac
import html
import logging
import secrets
import signal
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web
from telegram import (
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Update,
)
from telegram.constants import ChatAction, MessageLimit, ParseMode
from telegram.error import BadRequest, NetworkError, RetryAfter, TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    BaseUpdateProcessor,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)
from telegram.warnings import PTBDeprecationWarning

from bot.channels.telegram_bridge import SECRET_HEADER
from bot.channels.telegram_http import AiohttpRequest
from bot.config import ConfigError, Settings
from bot.heap import freeze_startup_heap
from bot.link_code import is_only_a_code

logger = logging.getLogger(__name__)
T = TypeVar("T")

WEBHOOK_SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_CALLBACK_DATA_BYTES = 64
MAX_STORED_PAYLOADS = 10_000
SEND_ATTEMPTS = 5
TYPING_REFRESH_SECONDS = 4.0

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


# --- talking to Rasa --------------------------------------------------------------------------


@dataclass(frozen=True)
class BotMessage:
    """One message of the assistant: text and its buttons (title, payload)."""

    text: str
    buttons: tuple[tuple[str, str], ...] = ()


class BridgeRefused(Exception):
    """The bridge would not run this message (intent syntax typed by a user)."""


class BridgeUnavailable(Exception):
    """Rasa could not be reached or failed."""


class RasaBridge:
    """Client of bot/channels/telegram_bridge.py (one pooled aiohttp session)."""

    def __init__(self, url: str, secret: str, timeout: float = 60.0) -> None:
        self.url = url
        self._headers = {SECRET_HEADER: secret}
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        """Closes the HTTP session."""
        if self._session is not None:
            await self._session.close()

    async def message(
        self, user_id: int, *, text: str | None = None, payload: str | None = None
    ) -> list[BotMessage]:
        """The assistant's replies to a typed text or a pressed button's payload."""
        body: dict[str, Any] = {"user_id": user_id}
        body.update({"text": text} if payload is None else {"payload": payload})
        return await self._post(body)

    async def remind(self, user_id: int, offer_id: int) -> list[BotMessage]:
        """The reminder for one offer (empty when Rasa decides not to remind)."""
        return await self._post({"user_id": user_id, "reminder_offer_id": offer_id})

    async def _post(self, body: dict[str, Any]) -> list[BotMessage]:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                headers=self._headers,
                timeout=self._timeout,
                connector=aiohttp.TCPConnector(force_close=True),
            )
        try:
            async with self._session.post(self.url, json=body) as reply:
                if reply.status == 422:
                    raise BridgeRefused(await reply.text())
                if reply.status != 200:
                    raise BridgeUnavailable(f"bridge answered {reply.status}")
                messages = (await reply.json())["messages"]
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError, KeyError) as error:
            raise BridgeUnavailable(f"{error.__class__.__name__}: {error}") from error
        return [
            BotMessage(
                m.get("text") or "",
                tuple((b["title"], b["payload"]) for b in m.get("buttons") or []),
            )
            for m in messages
        ]


# --- sending to Telegram ----------------------------------------------------------------------


def telegram_length(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def split_text(text: str, limit: int = MessageLimit.MAX_TEXT_LENGTH) -> list[str]:
    """Pieces of at most `limit`, cut at a paragraph, else a line, else a space if possible."""
    pieces: list[str] = []
    rest = text.strip()
    while telegram_length(rest) > limit:
        end = len(rest)
        while telegram_length(rest[:end]) > limit:
            end -= max(1, (telegram_length(rest[:end]) - limit) // 2)
        window = rest[:end]
        cut = next(
            (i for i in (window.rfind(sep) for sep in ("\n\n", "\n", " ")) if i > len(window) // 2),
            end,
        )
        pieces.append(window[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        pieces.append(rest)
    return pieces


def _retry_seconds(error: RetryAfter) -> float:
    with warnings.catch_warnings():  # int vs timedelta: PTB is migrating the attribute's type
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = error.retry_after
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)


async def with_retry(call: Callable[[], Awaitable[T]], attempts: int = SEND_ATTEMPTS) -> T:
    """Calls the Bot API, waiting out rate limits (429 retry_after) and network errors."""
    for attempt in range(1, attempts):
        try:
            return await call()
        except RetryAfter as error:
            delay = _retry_seconds(error)
            logger.warning("Telegram rate limit: retrying in %.0f s", delay)
        except BadRequest:
            raise
        except NetworkError as error:  # includes TimedOut
            delay = float(2 ** (attempt - 1))
            logger.warning("Telegram network error (%s): retrying in %.0f s", error, delay)
        await asyncio.sleep(delay)
    return await call()


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


async def deliver(application: Application, chat_id: int, message: BotMessage) -> None:
    """Sends one assistant message: escaped text, split if long, buttons on the last piece."""
    payloads: ButtonPayloads = application.bot_data["payloads"]
    keyboard = (
        InlineKeyboardMarkup(
            [
                [InlineKeyboardButton(title, callback_data=payloads.callback_data(payload))]
                for title, payload in message.buttons
            ]
        )
        if message.buttons
        else None
    )
    pieces = split_text(message.text)
    for number, piece in enumerate(pieces, start=1):
        markup = keyboard if number == len(pieces) else None
        await with_retry(
            lambda piece=piece, markup=markup: application.bot.send_message(
                chat_id,
                html.escape(piece, quote=False),
                parse_mode=ParseMode.HTML,
                reply_markup=markup,
            )
        )


async def _say(update: Update, text: str) -> None:
    """A short answer of this process itself (not from Rasa)."""
    chat = update.effective_chat
    if chat is not None:
        await with_retry(
            lambda: chat.send_message(html.escape(text, quote=False), parse_mode=ParseMode.HTML)
        )


@contextlib.asynccontextmanager
async def typing(application: Application, chat_id: int) -> AsyncIterator[None]:
    """Shows "typing…" until the block ends, once it has taken TELEGRAM_TYPING_DELAY_SECONDS
    (a reply quicker than that needs no indicator, and the call would count against the bot's
    Bot API rate); Telegram clears it after 5 s, so it is renewed."""

    async def keep_typing() -> None:
        await asyncio.sleep(application.bot_data["typing_delay"])
        while True:
            with contextlib.suppress(TelegramError):
                await application.bot.send_chat_action(chat_id, ChatAction.TYPING)
            await asyncio.sleep(TYPING_REFRESH_SECONDS)

    task = asyncio.create_task(keep_typing())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def converse(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    *,
    text: str | None = None,
    payload: str | None = None,
) -> None:
    """Hands a message of the update's user to Rasa and sends the replies to the chat."""
    user, chat = update.effective_user, update.effective_chat
    bridge: RasaBridge = context.bot_data["bridge"]
    try:
        async with typing(context.application, chat.id):
            replies = await bridge.message(user.id, text=text, payload=payload)
    except BridgeRefused:
        replies = [BotMessage(UNKNOWN_COMMAND)]
    except BridgeUnavailable as error:
        logger.error("Rasa unavailable: %s", error)
        replies = [BotMessage(UNAVAILABLE)]
    for reply in replies:
        await deliver(context.application, chat.id, reply)


# --- handlers ---------------------------------------------------------------------------------


async def on_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/start greets; /start <code> (a t.me/<bot>?start=<code> link) links the account."""
    argument = "".join(context.args or [])
    if not argument:
        await converse(update, context, payload=START_PAYLOAD)
    elif is_only_a_code(argument):
        await converse(update, context, text=argument)
    else:
        await converse(update, context, payload=LINK_HOW_PAYLOAD)


async def on_link(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/bagla explains linking; /bagla <code> links with the code."""
    argument = " ".join(context.args or [])
    if is_only_a_code(argument):
        await converse(update, context, text=argument)
    else:
        await converse(update, context, payload=LINK_HOW_PAYLOAD)


async def on_help(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/yardim: the help menu with topic buttons."""
    await converse(update, context, payload=HELP_PAYLOAD)


async def on_cancel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/iptal: starts the conversation afresh; the account link stays."""
    await converse(update, context, payload=RESTART_PAYLOAD)


async def on_unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Any other command, including attempts at Rasa's "/intent" syntax."""
    await _say(update, UNKNOWN_COMMAND)


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A typed message."""
    text = update.effective_message.text
    if text.strip().startswith("/"):
        await _say(update, UNKNOWN_COMMAND)
    else:
        await converse(update, context, text=text)


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A pressed inline button: answered at once, its payload routed to Rasa."""
    query = update.callback_query
    await with_retry(query.answer)
    if update.effective_chat is None or update.effective_chat.type != "private":
        return
    payload = context.bot_data["payloads"].payload(query.data or "")
    if payload is None:
        await _say(update, STALE_BUTTON)
    else:
        await converse(update, context, payload=payload)


async def on_not_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Photos, stickers, voice, documents, locations…: only text is understood."""
    await _say(update, NOT_TEXT)


async def on_edited(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """An edited message is not answered again."""
    await _say(update, EDITED)


async def on_group_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Commands in groups: personal data stays in private chats."""
    await _say(update, GROUPS_ONLY_PRIVATE)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Logs the error; the user of a private chat hears that something went wrong."""
    logger.error("update failed", exc_info=context.error)
    if (
        isinstance(update, Update)
        and update.effective_chat is not None
        and update.effective_chat.type == "private"
    ):
        with contextlib.suppress(TelegramError):
            await _say(update, UNAVAILABLE)


# --- the application --------------------------------------------------------------------------


class PerChatUpdateProcessor(BaseUpdateProcessor):
    """Updates of different chats at the same time, each chat's one after another.

    python-telegram-bot handles updates one by one by default, so one slow answer would hold up
    every other user; fully concurrent updates could answer a user's two quick messages out of
    order. Updates without a chat (none the assistant answers) are not held back.
    """

    def __init__(self, max_concurrent_updates: int) -> None:
        """At most `max_concurrent_updates` updates in flight (TELEGRAM_CONCURRENT_UPDATES)."""
        super().__init__(max_concurrent_updates)
        self._chats: dict[int, tuple[asyncio.Lock, int]] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Runs the update once the chat's earlier updates are done."""
        chat = update.effective_chat if isinstance(update, Update) else None
        if chat is None:
            await coroutine
            return
        lock, waiting = self._chats.get(chat.id, (asyncio.Lock(), 0))
        self._chats[chat.id] = (lock, waiting + 1)
        try:
            async with lock:
                await coroutine
        finally:
            lock, waiting = self._chats[chat.id]
            if waiting == 1:
                del self._chats[chat.id]
            else:
                self._chats[chat.id] = (lock, waiting - 1)

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to free."""


def build_application(settings: Settings, bridge: RasaBridge) -> Application:
    """The python-telegram-bot application with every handler of the assistant."""
    builder = (
        ApplicationBuilder()
        .token(settings.telegram_bot_token)
        .base_url(f"{settings.telegram_api_url}/bot")
        .base_file_url(f"{settings.telegram_api_url}/file/bot")
        .concurrent_updates(PerChatUpdateProcessor(settings.telegram_concurrent_updates))
        .request(AiohttpRequest())
        .get_updates_request(AiohttpRequest(connection_pool_size=1))
    )
    if settings.telegram_webhook_url:
        builder = builder.updater(None)
    application = builder.build()
    application.bot_data.update(
        bridge=bridge,
        payloads=ButtonPayloads(),
        typing_delay=settings.telegram_typing_delay_seconds,
    )

    private = filters.ChatType.PRIVATE
    new_message = filters.UpdateType.MESSAGE
    application.add_handlers(
        [
            CommandHandler("start", on_start, filters=private & new_message),
            CommandHandler("bagla", on_link, filters=private & new_message),
            CommandHandler("yardim", on_help, filters=private & new_message),
            CommandHandler("iptal", on_cancel, filters=private & new_message),
            MessageHandler(private & new_message & filters.COMMAND, on_unknown_command),
            MessageHandler(private & new_message & filters.TEXT, on_text),
            MessageHandler(private & new_message, on_not_text),
            MessageHandler(private & filters.UpdateType.EDITED_MESSAGE, on_edited),
            MessageHandler(
                filters.ChatType.GROUPS & new_message & filters.COMMAND, on_group_command
            ),
            CallbackQueryHandler(on_button),
        ]
    )
    application.add_error_handler(on_error)
    return application


async def start_webhook(application: Application, settings: Settings, secret: str) -> web.AppRunner:
    """Serves TELEGRAM_WEBHOOK_URL's path; only requests with Telegram's secret header pass."""

    async def receive(request: web.Request) -> web.Response:
        given = request.headers.get(WEBHOOK_SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, secret.encode()):
            logger.warning("webhook request without the right secret refused")
            return web.Response(status=403)
        try:
            update = Update.de_json(await request.json(), application.bot)
        except (ValueError, KeyError, TypeError):
            return web.Response(status=400)
        await application.update_queue.put(update)
        return web.Response()

    app = web.Application(client_max_size=1024 * 1024)
    app.router.add_post(urlsplit(settings.telegram_webhook_url).path or "/", receive)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, settings.host, settings.telegram_webhook_port).start()
    await with_retry(
        lambda: application.bot.set_webhook(
            settings.telegram_webhook_url,
            secret_token=secret,
            allowed_updates=Update.ALL_TYPES,
        )
    )
    return runner


async def serve(settings: Settings) -> None:
    """Runs the channel (polling or webhook) and the reminder scheduler until SIGINT/SIGTERM."""
    from bot import reminders
    from bot.db.session import shared_database

    webhook_secret = settings.telegram_webhook_secret or secrets.token_urlsafe(32)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    bridge = RasaBridge(settings.telegram_bridge_url, settings.telegram_bridge_secret)
    application = build_application(settings, bridge)
    webhook: web.AppRunner | None = None
    async with application:
        await with_retry(lambda: application.bot.set_my_commands(COMMANDS))
        await application.start()
        if settings.telegram_webhook_url:
            webhook = await start_webhook(application, settings, webhook_secret)
            logger.info(
                "Telegram: webhook on %s:%s for %s",
                settings.host,
                settings.telegram_webhook_port,
                settings.telegram_webhook_url,
            )
        else:
            await application.updater.start_polling(allowed_updates=Update.ALL_TYPES)
            logger.info("Telegram: long polling")
        freeze_startup_heap()
        scheduler = asyncio.create_task(
            reminders.run_forever(
                shared_database(),
                bridge,
                lambda chat_id, message: deliver(application, chat_id, message),
                dt.timedelta(hours=settings.reminder_window_hours),
                settings.reminder_interval_seconds,
            )
        )
        await stop.wait()
        scheduler.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await scheduler
        if webhook is not None:
            await webhook.cleanup()
        if application.updater is not None and application.updater.running:
            await application.updater.stop()
        await application.stop()
    await bridge.close()


def main(settings: Settings) -> int:
    """`python -m bot telegram`; raises ConfigError without a bot token or a bridge secret."""
    if not settings.telegram_bot_token or not settings.telegram_bridge_secret:
        raise ConfigError("TELEGRAM_BOT_TOKEN and TELEGRAM_BRIDGE_SECRET must be set")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    asyncio.run(serve(settings))
    return 0
