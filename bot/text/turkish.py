"""Turkish normalisation: one spelling for the many ways students type a word.

Students write "ücretim ne zaman yatar", "ucretim ne zmn yatar" and "ÜCRETİM NE ZAMAN YATAR";
after `normalize_word` all three give the same tokens. The NLU tokenizer
(bot/nlu/turkish.py) applies it before featurisation; the staff review app folds search text
and groups misunderstood messages with it.
"""

from __future__ import annotations

import re
import unicodedata

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
