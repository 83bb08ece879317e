"""Button payloads (`/intent{json}`) as Rasa parses them, with the check of bot/payloads.py:
bounded nesting and entity values of an allowed shape."""

from __future__ import annotations

import asyncio

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader
from rasa.shared.nlu.constants import ENTITIES, INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot import patches
from bot.patches import payloads

DOMAIN = Domain.from_dict(
    {"intents": ["choose_faq", "check_offer_details"], "entities": ["faq_key", "offer_id"]}
)


def deep_payload(levels: int) -> str:
    return '/choose_faq{"faq_key": ' + "[" * levels + '"x"' + "]" * levels + "}"


def parse(text: str) -> Message:
    patches.install()
    return YAMLStoryReader.unpack_regex_message(
        Message({TEXT: text}), DOMAIN, "RegexMessageHandler"
    )


def entity_values(message: Message) -> list[object]:
    return [entity["value"] for entity in message.get(ENTITIES) or []]


def test_nesting_depth_counts_brackets_outside_strings() -> None:
    assert payloads.nesting_depth('{"faq_key": "x"}') == 1
    assert payloads.nesting_depth('{"a": [[1], {"b": [2]}]}') == 4
    assert payloads.nesting_depth('{"faq_key": "[[[[{{{{"}') == 1
    assert payloads.nesting_depth('{"faq_key": "\\"[[[["}') == 1
    assert payloads.nesting_depth("[" * 10_000) == 10_000


def test_without_the_check_rasa_fails_on_a_deep_payload() -> None:
    match = YAMLStoryReader._regex_message_pattern().match(deep_payload(5000))
    with pytest.raises(RecursionError):
        payloads._rasa_entities_from_regex_match(match, DOMAIN, None)


@pytest.mark.parametrize("levels", [5, 400, 5000, 100_000])
def test_a_deeply_nested_payload_keeps_its_intent_and_drops_its_entities(levels: int) -> None:
    message = parse(deep_payload(levels))
    assert message.get(INTENT)["name"] == "choose_faq"
    assert message.get(ENTITIES) == []


@pytest.mark.parametrize(
    ("text", "values"),
    [
        ('/choose_faq{"faq_key": "internship_stipend_payment"}', ["internship_stipend_payment"]),
        ('/choose_faq{"faq_key": {"a": "b"}}', []),
        ('/choose_faq{"faq_key": [["a"]]}', []),
        ('/choose_faq{"faq_key": ["a", {"b": 1}]}', ["a"]),
        ('/choose_faq{"faq_key": null}', []),
        ('/choose_faq{"faq_key": true}', []),
        ('/choose_faq{"faq_key": 1.5}', []),
        ('/check_offer_details{"offer_id": 12}', ["12"]),
        ('/choose_faq{"faq_key": "\\udfff staj"}', ["\ufffd staj"]),
    ],
)
def test_entity_values_are_strings_or_dropped(text: str, values: list[str]) -> None:
    assert entity_values(parse(text)) == values


def test_ordinary_text_is_untouched() -> None:
    message = parse("staj ücreti ne zaman yatar")
    assert message.get(INTENT) is None and message.get(TEXT) == "staj ücreti ne zaman yatar"


@pytest.mark.parametrize("value", [{"konu": "staj_ucreti"}, ["a"], 7, None, "no_such_topic"])
def test_the_faq_action_answers_not_understood_for_anything_but_a_known_topic(value) -> None:
    # whatever reaches it (another path into Rasa, data stored before this check)
    from rasa_sdk import Tracker
    from rasa_sdk.executor import CollectingDispatcher

    from actions.faq import ActionAnswerFaq

    latest = {
        "intent": {"name": "choose_faq", "confidence": 1.0},
        "entities": [{"entity": "faq_key", "value": value}],
        "text": "/choose_faq",
    }
    tracker = Tracker("rest:x", {}, latest, [], False, None, {}, "action_listen")
    dispatcher = CollectingDispatcher()
    asyncio.run(ActionAnswerFaq().run(dispatcher, tracker, {}))
    assert [message["response"] for message in dispatcher.messages] == ["utter_faq_not_understood"]
