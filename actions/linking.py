"""Linking a Telegram chat to the student's account with a portal code, and unlinking it."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import SQLAlchemyError

from actions.student_data import local_time
from bot.db import linking
from bot.db.session import shared_database
from bot.identity import identity_of
from bot.link_code import find_code

logger = logging.getLogger(__name__)
OUTCOME_RESPONSES = {
    linking.LinkOutcome.LINKED: "utter_link_done",
    linking.LinkOutcome.WRONG_CODE: "utter_link_wrong_code",
    linking.LinkOutcome.EXPIRED: "utter_link_expired",
    linking.LinkOutcome.ALREADY_USED: "utter_link_already_used",
    linking.LinkOutcome.LOCKED_OUT: "utter_link_locked_out",
}


class ActionLinkAccount(Action):
    """Redeems the code in the message for this verified chat."""

    def name(self) -> str:
        """Action name in the domain."""
        return "action_link_account"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Links, or explains why not and what to do."""
        identity = identity_of(tracker.sender_id)
        if identity is None:
            dispatcher.utter_message(response="utter_status_needs_verified_channel")
            return []
        if identity.channel.names_student:
            dispatcher.utter_message(response="utter_link_not_needed_on_web")
            return []
        code = find_code(tracker.latest_message.get("text") or "")
        if code is None:
            dispatcher.utter_message(response="utter_link_how")
            return []
        try:
            result = linking.redeem_code(
                shared_database(),
                identity.channel.name,
                identity.external_user_id,
                code,
                dt.datetime.now(dt.timezone.utc),
            )
        except SQLAlchemyError:
            logger.exception("database unavailable while linking")
            dispatcher.utter_message(response="utter_status_unavailable")
            return []
        locked_until = local_time(result.locked_until) if result.locked_until else ""
        dispatcher.utter_message(
            response=OUTCOME_RESPONSES[result.outcome], locked_until=locked_until
        )
        return []


class ActionUnlinkAccount(Action):
    """Removes the link between this chat and the student's account."""

    def name(self) -> str:
        """Action name in the domain."""
        return "action_unlink_account"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Unlinks, or says there was nothing to unlink."""
        identity = identity_of(tracker.sender_id)
        if identity is None or identity.channel.names_student:
            dispatcher.utter_message(response="utter_unlink_nothing_linked")
            return []
        try:
            removed = linking.unlink(
                shared_database(), identity.channel.name, identity.external_user_id
            )
        except SQLAlchemyError:
            logger.exception("database unavailable while unlinking")
            dispatcher.utter_message(response="utter_status_unavailable")
            return []
        dispatcher.utter_message(
            response="utter_unlink_done" if removed else "utter_unlink_nothing_linked"
        )
        return []
