"""The Telegram process's application: python-telegram-bot in front of the Rasa server.

Run it with the Rasa server already up (`make run` starts both when TELEGRAM_BOT_TOKEN is set):

    TELEGRAM_BOT_TOKEN=123456:ABC... TELEGRAM_BRIDGE_SECRET=... python -m bot telegram

Long polling by default; with TELEGRAM_WEBHOOK_URL set, a webhook server on BIND_HOST and
TELEGRAM_WEBHOOK_PORT instead, which accepts only updates carrying Telegram's
`X-Telegram-Bot-Api-Secret-Token` header with TELEGRAM_WEBHOOK_SECRET. The reminder scheduler
(bot/telegram/reminders.py) runs beside it.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hmac
import logging
import secrets
import signal
from collections.abc import Awaitable
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from telegram import Update
from telegram.ext import (
    Application,
    ApplicationBuilder,
    BaseUpdateProcessor,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot.config import ConfigError, Settings
from bot.db.session import shared_database
from bot.heap import freeze_startup_heap
from bot.telegram import reminders
from bot.telegram.context import CONTEXT_TYPES, BotData
from bot.telegram.handlers import (
    COMMANDS,
    on_button,
    on_cancel,
    on_edited,
    on_error,
    on_group_command,
    on_help,
    on_link,
    on_not_text,
    on_start,
    on_text,
    on_unknown_command,
)
from bot.telegram.protocol import bridge_url
from bot.telegram.rasa_client import RasaClient
from bot.telegram.request import AiohttpRequest
from bot.telegram.sending import deliver, with_retry

logger = logging.getLogger(__name__)
WEBHOOK_SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


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


def build_application(settings: Settings, rasa: RasaClient) -> Application:
    """The python-telegram-bot application with every handler of the assistant."""
    builder = (
        ApplicationBuilder()
        .token(settings.telegram_bot_token)
        .base_url(f"{settings.telegram_api_url}/bot")
        .base_file_url(f"{settings.telegram_api_url}/file/bot")
        .concurrent_updates(PerChatUpdateProcessor(settings.telegram_concurrent_updates))
        .request(AiohttpRequest())
        .get_updates_request(AiohttpRequest(connection_pool_size=1))
        .context_types(CONTEXT_TYPES)
    )
    if settings.telegram_webhook_url:
        builder = builder.updater(None)
    application = builder.build()
    bot_data: BotData = application.bot_data
    bot_data.rasa = rasa
    bot_data.typing_delay_seconds = settings.telegram_typing_delay_seconds

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
    webhook_secret = settings.telegram_webhook_secret or secrets.token_urlsafe(32)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    rasa = RasaClient(
        bridge_url(settings.host, settings.rasa_port), settings.telegram_bridge_secret or ""
    )
    application = build_application(settings, rasa)
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
                rasa,
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
    await rasa.close()


def main(settings: Settings) -> int:
    """`python -m bot telegram`; raises ConfigError without a bot token or a bridge secret."""
    if not settings.telegram_bot_token or not settings.telegram_bridge_secret:
        raise ConfigError("TELEGRAM_BOT_TOKEN and TELEGRAM_BRIDGE_SECRET must be set")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    asyncio.run(serve(settings))
    return 0
