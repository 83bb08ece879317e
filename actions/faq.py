"""FAQ actions: answer a topic, ask between close siblings, offer candidates when unsure.

Topic titles (the question each FAQ answer answers, shown on buttons) are read from the domain
file itself, so Rasa need not send the whole domain with every action call (endpoints.yml:
`enable_selective_domain`; the domain is about 40 KB of JSON, more than the rest of a call).
"""

from __future__ import annotations

import functools
import json
from typing import Any

import yaml
from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.config import PROJECT_ROOT, load_settings
from bot.faq import FaqMove, decide, ranking_from_parse, suggestions

NONE_OF_THESE = {"title": "Hiçbiri", "payload": "/none_of_these"}
FAQ_DOMAIN = PROJECT_ROOT / "domain" / "faq.yml"


def faq_response_name(key: str) -> str:
    """The domain response that answers FAQ `key`."""
    return f"utter_faq/{key}"


@functools.lru_cache(maxsize=1)
def faq_titles() -> dict[str, str]:
    """Every FAQ topic's title, by key, as domain/faq.yml gives them."""
    responses = yaml.safe_load(FAQ_DOMAIN.read_text(encoding="utf-8"))["responses"]
    return {
        name.removeprefix("utter_faq/"): variants[0]["metadata"]["title"]
        for name, variants in responses.items()
        if name.startswith("utter_faq/")
    }


def faq_title(key: str) -> str | None:
    """The question FAQ `key` answers, or None if there is no such topic."""
    return faq_titles().get(key)


def choose_faq_button(key: str) -> dict[str, str]:
    """A button that, pressed, answers FAQ `key`."""
    payload = json.dumps({"faq_key": key}, separators=(",", ":"))
    return {"title": faq_title(key) or key, "payload": f"/choose_faq{payload}"}


def utter_faq_answer(dispatcher: CollectingDispatcher, key: str) -> None:
    """Sends the answer of FAQ `key`, with the configured program year filled in."""
    dispatcher.utter_message(
        response=faq_response_name(key), program_year=load_settings().program_year
    )


def suggest(dispatcher: CollectingDispatcher, keys: tuple[str, ...]) -> None:
    """Offers candidate topics as buttons, plus "Hiçbiri" leading to the contact route."""
    known = [key for key in keys if faq_title(key)]
    if not known:
        dispatcher.utter_message(response="utter_faq_not_understood")
        return
    buttons = [choose_faq_button(key) for key in known]
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
            # a payload may carry anything where a topic key belongs: only a known key counts
            if isinstance(key, str) and faq_title(key):
                utter_faq_answer(dispatcher, key)
            else:
                dispatcher.utter_message(response="utter_faq_not_understood")
            return []

        decision = decide(ranking_from_parse(tracker.latest_message))
        if decision.move is FaqMove.ANSWER:
            utter_faq_answer(dispatcher, decision.keys[0])
        elif decision.move is FaqMove.ASK_SIBLING:
            buttons = [choose_faq_button(key) for key in decision.keys]
            dispatcher.utter_message(response="utter_faq_which_one", buttons=buttons)
        else:
            suggest(dispatcher, decision.keys)
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
        suggest(dispatcher, suggestions(ranking_from_parse(tracker.latest_message)))
        return []
