"""A Rasa tokenizer that applies the Turkish normalisation (bot/text/turkish.py) before
featurisation, so the featurizers see one vocabulary for "ücret", "ucret" and "ÜCRET".
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.tokenizers.tokenizer import Token, Tokenizer
from rasa.shared.nlu.training_data.message import Message

from bot.text.turkish import WORD_PATTERN, normalize_word


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False)
class TurkishTokenizer(Tokenizer):
    """Splits on words and gives each token its normalised text; offsets stay on the original."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """The same options as Rasa's own tokenizers."""
        return {
            "intent_tokenization_flag": False,
            "intent_split_symbol": "_",
            "token_pattern": None,
            "prefix_separator_symbol": None,
        }

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> TurkishTokenizer:
        """Creates the component (no state to load)."""
        return cls(config)

    def tokenize(self, message: Message, attribute: str) -> list[Token]:
        """Tokens of the attribute's text; a text without words becomes one placeholder token."""
        text = message.get(attribute) or ""
        tokens = [
            Token(normalize_word(match.group(0)), match.start(), match.end())
            for match in WORD_PATTERN.finditer(text)
        ]
        if not tokens:
            # Featurizers need at least one token; the input guard answers such messages.
            tokens = [Token("__bos__", 0, len(text))]
        return self._apply_token_pattern(tokens)
