"""Messages to Telegram: HTML with everything escaped, split under Telegram's length limit,
retried through rate limits and network errors; "typing…" while an answer takes long."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import html
import logging
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TypeVar

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatAction, MessageLimit, ParseMode
from telegram.error import BadRequest, NetworkError, RetryAfter, TelegramError
from telegram.ext import Application
from telegram.warnings import PTBDeprecationWarning

from bot.telegram.context import BotData
from bot.telegram.rasa_client import BotMessage

logger = logging.getLogger(__name__)
T = TypeVar("T")

SEND_ATTEMPTS = 5
TYPING_REFRESH_SECONDS = 4.0  # Telegram clears "typing…" after 5 s


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


async def deliver(application: Application, chat_id: int, message: BotMessage) -> None:
    """Sends one assistant message: escaped text, split if long, buttons on the last piece."""
    payloads = application.bot_data.payloads
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


async def say(update: Update, text: str) -> None:
    """A short answer of this process itself (not from Rasa) in the update's chat."""
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
    bot_data: BotData = application.bot_data

    async def keep_typing() -> None:
        await asyncio.sleep(bot_data.typing_delay_seconds)
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
