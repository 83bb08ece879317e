"""Every regular expression that runs on user text takes time linear in the text's length.

Each function is timed on adversarial inputs of 1 kB and of 1 MB (long runs of word
characters, `a@a@a@…`, digits with separators, near-misses of every rule) and the cost per
byte is compared as a ratio: a quadratic pattern costs about 1,000 times more per byte at 1 MB
than at 1 kB, a linear one about the same. No wall-clock threshold: the machine's speed cancels
out.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader

from bot import link_code
from bot.masking import mask_text, stored_event
from bot.patches import payloads
from bot.text.turkish import normalize

SMALL, MIDDLE, LARGE = 1_000, 32_000, 1_000_000
# Linear code stays within a small factor (caches, allocation); quadratic code is near 1,000.
MAX_RATIO = 10.0

# Repeated to the input's length: runs that made the old patterns backtrack, and inputs made of
# near-misses of every rule, so each one produces as many candidate matches as possible.
ADVERSARIAL_UNITS = {
    "word characters": "a",
    "Turkish letters": "ş",
    "a@": "a@",
    "a@a.": "a@a.",
    "a.": "a.",
    "ab-": "ab-",
    "mixed token characters": "aB3",
    "e-mail after e-mail": "ab@cd.ef ",
    "' at ' words": "a at ",
    "[at] brackets": "a [at] ",
    "digits": "1",
    "digits with spaces": "1 ",
    "digits with dots": "1.",
    "fullwidth digits with spaces": "１ ",
    "phone after phone": "0532 123 45 67 ",
    "bracketed digits": "(1) ",
    "plus signs and digits": "+9",
    "dates": "12.03.2002 ",
    "birth word": "doğum ",
    "birth word and digit": "doğum 1",
    "link-code-like words": "ABC DEF ",
    "IBAN with wrong check digits": "TR12 3456 7890 1234 5678 9012 34 ",
    "card-like groups": "4543 3080 2300 2532 ",
    "long secret-like runs": "sk_live_9aF3kQ7xLm2Pq8Rt5Vw1Zy4B ",
    "payload brackets": "[{",
    "lone surrogates": "\udfff",
}


def repeated(unit: str, length: int) -> str:
    return (unit * (length // len(unit) + 1))[:length]


def cost_per_byte(function: Callable[[str], Any], text: str, runs: int) -> float:
    """The lowest time per character of `runs` calls."""
    best = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        function(text)
        best = min(best, time.perf_counter() - started)
    return best / len(text)


def ratio(function: Callable[[str], Any], unit: str) -> float:
    """Cost per byte at 1 MB over cost per byte at 1 kB.

    A first step at 32 kB stops early on superlinear code (quadratic code would take hours at
    1 MB). A step that looks superlinear is measured again, up to three times, so a moment of
    load on a busy machine cannot fail the test.
    """
    small = cost_per_byte(function, repeated(unit, SMALL), runs=50)
    for length in (MIDDLE, LARGE):
        text = repeated(unit, length)
        cost = cost_per_byte(function, text, runs=1)
        for _ in range(2):
            if cost / small <= MAX_RATIO:
                break
            cost = min(cost, cost_per_byte(function, text, runs=1))
        if cost / small > MAX_RATIO:
            break
    return cost / small


def user_event(text: str) -> dict[str, Any]:
    return {"event": "user", "text": text, "parse_data": {"text": text}, "metadata": {}}


RASA_PAYLOAD = YAMLStoryReader._regex_message_pattern()
FUNCTIONS: dict[str, Callable[[str], Any]] = {
    "mask_text": mask_text,
    "stored_event": lambda text: stored_event(user_event(text)),
    "normalize (tokenizer, review search)": normalize,
    "find_code": link_code.find_code,
    "is_only_a_code": link_code.is_only_a_code,
    "Rasa's /intent{json} pattern": lambda text: RASA_PAYLOAD.match("/choose_faq{" + text),
    "payload nesting depth": payloads.nesting_depth,
}


@pytest.mark.parametrize("unit", ADVERSARIAL_UNITS.values(), ids=ADVERSARIAL_UNITS.keys())
def test_masking_is_linear_on_adversarial_input(unit: str) -> None:
    assert ratio(mask_text, unit) <= MAX_RATIO


# For the other functions: their own worst cases (apostrophe words and letter runs for the
# tokenizer, code-like words for link codes, brackets for payloads) and the generic ones.
OTHER_UNITS = ("a", "ş", "1 ", "a@", "ABC2 ", "A2C-", "a'b ", "aaab", "/x{", "[{", '{"a": [')


@pytest.mark.parametrize("name", [name for name in FUNCTIONS if name != "mask_text"])
@pytest.mark.parametrize("unit", OTHER_UNITS)
def test_other_regexes_on_user_text_are_linear(name: str, unit: str) -> None:
    assert ratio(FUNCTIONS[name], unit) <= MAX_RATIO
