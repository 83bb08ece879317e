"""The reminder scheduler: offers about to time out are reminded once, in the linked chat.

It runs inside the Telegram process (bot/telegram/application.py). Every
REMINDER_INTERVAL_SECONDS it looks for pending offers whose answer is due within
REMINDER_WINDOW_HOURS for students linked on Telegram, claims each offer in the database
(bot/db/reminders.py: at most once, across processes and restarts), has Rasa say the reminder
through the bridge (EXTERNAL_offer_reminder, so it is in the transcript, and
actions/reminders.py stays silent for a chat no longer linked), and sends what Rasa said. A
reminder that could not be delivered is released for the next check.

Why a plain asyncio task and not python-telegram-bot's JobQueue: the JobQueue needs
APScheduler >= 3.10.4 (python-telegram-bot 22.8's `job-queue` extra), and Rasa 3.6.21 requires
apscheduler < 3.10 (both in their package metadata), so the two cannot be installed together.
One repeating check needs no scheduler: `run_forever` sleeps between checks and is cancelled
when the process stops.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable

from telegram.error import Forbidden, TelegramError

from bot.db import reminders
from bot.db.session import Database
from bot.telegram.rasa_client import BotMessage, BridgeRefused, BridgeUnavailable, RasaClient

logger = logging.getLogger(__name__)
Deliver = Callable[[int, BotMessage], Awaitable[None]]


async def send_due_reminders(
    db: Database,
    rasa: RasaClient,
    deliver: Deliver,
    window: dt.timedelta,
    now: dt.datetime | None = None,
) -> int:
    """One check: reminds every due, unclaimed offer; returns how many reminders went out."""
    now = now or dt.datetime.now(dt.timezone.utc)
    sent = 0
    for due in await asyncio.to_thread(reminders.due_reminders, db, now, window):
        if not await asyncio.to_thread(reminders.claim, db, due, now):
            continue  # another process has it
        chat_id = int(due.telegram_user_id)
        try:
            messages = await rasa.remind(chat_id, due.offer_id)
            for message in messages:
                await deliver(chat_id, message)
        except Forbidden:
            logger.info("reminder of offer %s: the user blocked the bot", due.offer_id)
            continue
        except (BridgeUnavailable, BridgeRefused, TelegramError) as error:
            logger.warning("reminder of offer %s not delivered: %s", due.offer_id, error)
            await asyncio.to_thread(reminders.release, db, due.offer_id)
            continue
        if not messages:  # unlinked or answered meanwhile: nothing was said
            await asyncio.to_thread(reminders.release, db, due.offer_id)
            continue
        await asyncio.to_thread(
            reminders.mark_sent, db, due.offer_id, dt.datetime.now(dt.timezone.utc)
        )
        sent += 1
    return sent


async def run_forever(
    db: Database,
    rasa: RasaClient,
    deliver: Deliver,
    window: dt.timedelta,
    interval_seconds: float,
) -> None:
    """Checks now and then every `interval_seconds`, until cancelled."""
    while True:
        try:
            sent = await send_due_reminders(db, rasa, deliver, window)
            logger.info("reminder check done: %d sent", sent)
        except Exception:  # a database hiccup must not end the scheduler
            logger.exception("reminder check failed")
        await asyncio.sleep(interval_seconds)
