"""Chit-chat actions: the help menu."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.faq import choose_faq_button

# The topics students ask about most, offered as a starting point.
HELP_MENU_TOPICS = (
    "program_period",
    "share_availability_calendar",
    "offer_received_notification",
    "internship_insurance",
    "internship_pay",
)


class ActionShowHelpMenu(Action):
    """What the assistant can do, with buttons for common topics and for a person."""

    def name(self) -> str:
        """Action name in the domain."""
        return "action_show_help_menu"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Sends the menu."""
        buttons = [choose_faq_button(key) for key in HELP_MENU_TOPICS]
        buttons.append({"title": "Bekleyen tekliflerim", "payload": "/check_pending_offers"})
        buttons.append({"title": "Bir kişiye ulaşmak istiyorum", "payload": "/human_handoff"})
        dispatcher.utter_message(response="utter_help", buttons=buttons)
        return []
