"""The action server reply is validated as Rasa does it, with the schema checked only once."""

from __future__ import annotations

import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction
from rasa.utils.endpoints import EndpointConfig

import bot.tracker_store  # noqa: F401  (installs the speed-ups, as in every Rasa process)
from bot import rasa_speedups


def action() -> RemoteAction:
    return RemoteAction("action_answer_faq", EndpointConfig("http://127.0.0.1:1/webhook"))


def test_rasa_processes_use_the_cached_validator() -> None:
    assert RemoteAction._validate_action_result is rasa_speedups.validate_action_result


def test_a_valid_reply_passes() -> None:
    reply = {"events": [{"event": "slot", "name": "x", "value": 1}],
             "responses": [{"response": "utter_faq/internship_pay"}]}
    assert action()._validate_action_result(reply)


def test_an_invalid_reply_is_refused_with_rasas_message() -> None:
    with pytest.raises(ValidationError, match="Failed to validate Action server response"):
        action()._validate_action_result({"events": [{"event": "no_such_event"}],
                                          "responses": "not a list"})
