"""What every status action shares: who the student is, and what to say when that fails."""

from __future__ import annotations

import abc
import datetime as dt
import logging
from typing import Any
from zoneinfo import ZoneInfo

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import SQLAlchemyError

from bot.db.linking import student_of
from bot.db.session import Database, shared_database
from bot.identity import identity_of

ISTANBUL = ZoneInfo("Europe/Istanbul")
logger = logging.getLogger(__name__)


def local_date(value: dt.date) -> str:
    """A date as students read it: 01.07.2026."""
    return value.strftime("%d.%m.%Y")


def local_time(value: dt.datetime) -> str:
    """A timestamp in Istanbul time: 01.07.2026 23:59."""
    return value.astimezone(ISTANBUL).strftime("%d.%m.%Y %H:%M")


def time_left(until: dt.datetime, now: dt.datetime) -> str:
    """ "2 gün 5 saat", "5 saat 20 dakika", "12 dakika"."""
    minutes = max(0, int((until - now).total_seconds() // 60))
    days, hours, minutes = minutes // 1440, minutes // 60 % 24, minutes % 60
    if days:
        return f"{days} gün {hours} saat" if hours else f"{days} gün"
    if hours:
        return f"{hours} saat {minutes} dakika" if minutes else f"{hours} saat"
    return f"{minutes} dakika"


class StudentDataAction(Action, abc.ABC):
    """A status answer: only for the verified student of this chat, never for anyone else."""

    @abc.abstractmethod
    def answer(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        db: Database,
        student_id: int,
        now: dt.datetime,
    ) -> None:
        """Tells the student their own data."""

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Resolves the student from the verified sender id, then answers."""
        identity = identity_of(tracker.sender_id)
        if identity is None:
            dispatcher.utter_message(response="utter_status_needs_verified_channel")
            return []
        try:
            db = shared_database()
            student_id = student_of(db, identity)
            if student_id is None:
                dispatcher.utter_message(response="utter_status_needs_link")
                return []
            self.answer(dispatcher, tracker, db, student_id, dt.datetime.now(dt.timezone.utc))
        except SQLAlchemyError:
            logger.exception("database unavailable in %s", self.name())
            dispatcher.utter_message(response="utter_status_unavailable")
        return []
