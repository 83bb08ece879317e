"""Input guard: messages nobody can answer get the intent `invalid_input` instead of a guess.

Placed last in the NLU pipeline, it overrides whatever was predicted for a message that is
empty, has no letters or digits (emoji only, control characters), or is longer than a chat
question (bot/text/input_problems.py). The action `action_handle_invalid_input` explains the
problem to the student.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.config import load_settings
from bot.text.input_problems import input_problem

INVALID_INPUT_INTENT = "invalid_input"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class InputGuard(GraphComponent):
    """Sets the intent `invalid_input` for empty, word-less or oversized messages."""

    def __init__(self, max_chars: int) -> None:
        """Creates the guard with the longest accepted message length."""
        self.max_chars = max_chars

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> InputGuard:
        """Reads the limit from the settings at load time, so it is configuration."""
        return cls(load_settings().max_message_chars)

    def process(self, messages: list[Message]) -> list[Message]:
        """Overrides the intent of messages that have an input problem."""
        for message in messages:
            if input_problem(message.get(TEXT), self.max_chars) is None:
                continue
            intent = {"name": INVALID_INPUT_INTENT, "confidence": 1.0}
            message.set(INTENT, intent, add_to_output=True)
            message.set(INTENT_RANKING_KEY, [intent], add_to_output=True)
        return messages
