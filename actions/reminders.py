"""The offer deadline reminder, triggered by the Telegram process's scheduler for one offer.

Only the scheduler triggers EXTERNAL_offer_reminder (bot/channels/telegram_bridge.py refuses it
from users), and even then the action says something only to the linked student whose pending
offer it is: otherwise it stays silent, so nothing is sent.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import SQLAlchemyError

from actions.offers import PROGRAM_NAMES, RANK_LINES
from actions.student_data import local_time, time_left
from bot import senders
from bot.db import offers
from bot.db.linking import student_of
from bot.db.session import shared_database
from bot.identity import identity_of

logger = logging.getLogger(__name__)


def _offer_id(tracker: Tracker) -> int | None:
    value = next(tracker.get_latest_entity_values("offer_id"), None)
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


class ActionRemindOffer(Action):
    """Reminds the linked student of one pending offer whose answer is due soon."""

    def name(self) -> str:
        """Action name in the domain."""
        return "action_remind_offer"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Employer, program, deadline in Istanbul time and time left; or nothing at all."""
        identity = identity_of(tracker.sender_id)
        offer_id = _offer_id(tracker)
        if identity is None or identity.channel is not senders.TELEGRAM or offer_id is None:
            return []
        now = dt.datetime.now(dt.timezone.utc)
        try:
            db = shared_database()
            student_id = student_of(db, identity)
            pending = offers.pending_offers(db, student_id, now) if student_id else []
        except SQLAlchemyError:
            logger.exception("database unavailable for the reminder of offer %s", offer_id)
            return []
        offer = next((o for o in pending if o.offer_id == offer_id), None)
        if offer is None:
            return []
        dispatcher.utter_message(
            response="utter_offer_reminder",
            employer=offer.employer_name,
            program=PROGRAM_NAMES[offer.program_type],
            deadline=local_time(offer.response_deadline),
            time_left=time_left(offer.response_deadline, now),
            rank=RANK_LINES[offer.rank],
        )
        return []
