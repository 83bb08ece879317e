"""FAQ actions: answer a topic, ask between close siblings, offer candidates when unsure."""

from __future__ import annotations

import json
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.config import load_settings
from bot.faq import FaqMove, decide, ranking_from_parse, suggestions

NONE_OF_THESE = {"title": "Hiçbiri", "payload": "/none_of_these"}


def faq_response_name(key: str) -> str:
    """The domain response that answers FAQ `key`."""
    return f"utter_faq/{key}"


def faq_title(domain: dict[str, Any], key: str) -> str | None:
    """The question FAQ `key` answers, or None if the domain has no such topic."""
    variants = domain.get("responses", {}).get(faq_response_name(key))
    if not variants:
        return None
    return (variants[0].get("metadata") or {}).get("title")


def choose_faq_button(domain: dict[str, Any], key: str) -> dict[str, str]:
    """A button that, pressed, answers FAQ `key`."""
    payload = json.dumps({"faq_key": key}, separators=(",", ":"))
    return {"title": faq_title(domain, key) or key, "payload": f"/choose_faq{payload}"}


def utter_faq_answer(dispatcher: CollectingDispatcher, key: str) -> None:
    """Sends the answer of FAQ `key`, with the configured program year filled in."""
    dispatcher.utter_message(
        response=faq_response_name(key), program_year=load_settings().program_year
    )


def suggest(
    dispatcher: CollectingDispatcher, domain: dict[str, Any], keys: tuple[str, ...]
) -> None:
    """Offers candidate topics as buttons, plus "Hiçbiri" leading to the contact route."""
    known = [key for key in keys if faq_title(domain, key)]
    if not known:
        dispatcher.utter_message(response="utter_faq_not_understood")
        return
    buttons = [choose_faq_button(domain, key) for key in known]
    dispatcher.utter_message(response="utter_faq_did_you_mean", buttons=[*buttons, NONE_OF_THESE])


class ActionAnswerFaq(Action):
    """Answers the FAQ topic of the message or of a pressed button; asks when unsure."""

    def name(self) -> str:
        """Action name in the domain."""
        return "action_answer_faq"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Answers, asks which of two siblings is meant, or suggests candidates."""
        if tracker.latest_message.get("intent", {}).get("name") == "choose_faq":
            key = next(tracker.get_latest_entity_values("faq_key"), None)
            if key and faq_title(domain, key):
                utter_faq_answer(dispatcher, key)
            else:
                dispatcher.utter_message(response="utter_faq_not_understood")
            return []

        decision = decide(ranking_from_parse(tracker.latest_message))
        if decision.move is FaqMove.ANSWER:
            utter_faq_answer(dispatcher, decision.keys[0])
        elif decision.move is FaqMove.ASK_SIBLING:
            buttons = [choose_faq_button(domain, key) for key in decision.keys]
            dispatcher.utter_message(response="utter_faq_which_one", buttons=buttons)
        else:
            suggest(dispatcher, domain, decision.keys)
        return []


class ActionSuggestFaq(Action):
    """On low NLU confidence: "Bunu mu demek istedin?" with the closest FAQ topics."""

    def name(self) -> str:
        """Action name in the domain."""
        return "action_suggest_faq"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Offers the plausible FAQ candidates and "Hiçbiri"."""
        suggest(dispatcher, domain, suggestions(ranking_from_parse(tracker.latest_message)))
        return []
