"""A message that is nothing but a link code ("4F7K2Q", pasted from the portal) means linking.

Placed after the classifiers, it sets the intent `link_account`; the linking action then finds
the code in the text as it does for "hesabımı bağla 4F7K2Q".
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.link_code import is_only_a_code

LINK_ACCOUNT_INTENT = "link_account"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class LinkCodeMessage(GraphComponent):
    """Sets the intent `link_account` for a message that is only a link code."""

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> LinkCodeMessage:
        """Creates the component (no state)."""
        return cls()

    def process(self, messages: list[Message]) -> list[Message]:
        """Overrides the intent of code-only messages."""
        for message in messages:
            if is_only_a_code(message.get(TEXT) or ""):
                intent = {"name": LINK_ACCOUNT_INTENT, "confidence": 1.0}
                message.set(INTENT, intent, add_to_output=True)
                message.set(INTENT_RANKING_KEY, [intent], add_to_output=True)
        return messages
