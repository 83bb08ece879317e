"""Turkish normalisation, and a Rasa tokenizer that applies it before featurisation.

Students write "ücretim ne zaman yatar", "ucretim ne zmn yatar" and "ÜCRETİM NE ZAMAN YATAR";
after `normalize_word` all three give the same tokens, so the featurizers see one vocabulary.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.tokenizers.tokenizer import Token, Tokenizer
from rasa.shared.nlu.training_data.message import Message

# Python's str.lower() maps "I" to "i" and "İ" to "i" + U+0307; Turkish maps them to "ı" and "i".
_TURKISH_CASE = str.maketrans({"I": "ı", "İ": "i"})
_ASCII_FOLD = str.maketrans("çğıöşüâîû", "cgiosuaiu")
# A word, optionally followed by an apostrophe suffix: Kapısı'nda, Programı’na, USP`ye.
WORD_PATTERN = re.compile(r"([^\W_]+)(?:['’‘`´][^\W_]+)*")
_REPEATS = re.compile(r"([^\W\d_])\1{2,}")  # three or more of the same letter: merhabaaa

# Chat abbreviations that are unambiguous in this domain (after folding).
ABBREVIATIONS = {
    "mrb": "merhaba",
    "mrh": "merhaba",
    "slm": "selam",
    "tsk": "tesekkur",
    "tskler": "tesekkurler",
    "tsklr": "tesekkurler",
    "nsl": "nasil",
    "nbr": "naber",
    "zmn": "zaman",
    "snra": "sonra",
    "bi": "bir",
    "hk": "hakkinda",
    "msj": "mesaj",
    "cvp": "cevap",
}


def turkish_lower(text: str) -> str:
    """Lower-cases with Turkish rules: I→ı, İ→i (no stray combining dot)."""
    return unicodedata.normalize("NFC", text).translate(_TURKISH_CASE).lower()


def fold(text: str) -> str:
    """Turkish lower-case, then ç ğ ı ö ş ü (and other accents) folded to plain ASCII letters."""
    folded = turkish_lower(text).translate(_ASCII_FOLD)
    decomposed = unicodedata.normalize("NFKD", folded)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def normalize_word(word: str) -> str:
    """Normalises one word: drops an apostrophe suffix, folds, collapses letter runs."""
    stem = WORD_PATTERN.match(word)
    base = stem.group(1) if stem else word
    folded = _REPEATS.sub(r"\1", fold(base))
    return ABBREVIATIONS.get(folded, folded)


def normalize(text: str) -> str:
    """Normalises a whole message into space-separated tokens."""
    return " ".join(normalize_word(match.group(0)) for match in WORD_PATTERN.finditer(text))


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
