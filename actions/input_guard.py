"""Explains to the student why a message could not be understood (bot/text/input_problems.py)."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.config import load_settings
from bot.text.input_problems import InputProblem, input_problem

RESPONSES = {
    InputProblem.EMPTY: "utter_input_empty",
    InputProblem.NO_WORDS: "utter_input_no_words",
    InputProblem.TOO_LONG: "utter_input_too_long",
}


class ActionHandleInvalidInput(Action):
    """Answers empty, word-less and oversized messages with what to do instead."""

    def name(self) -> str:
        """Action name in the domain."""
        return "action_handle_invalid_input"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Sends the explanation that fits the problem."""
        text = tracker.latest_message.get("text") or ""
        max_chars = load_settings().max_message_chars
        problem = input_problem(text, max_chars) or InputProblem.EMPTY
        dispatcher.utter_message(response=RESPONSES[problem], length=len(text), max_chars=max_chars)
        return []
