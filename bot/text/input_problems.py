"""Messages nobody can answer: empty, without a letter or digit, or longer than a chat question.

The NLU input guard (bot/nlu/guard.py) gives such a message the intent `invalid_input`, and the
action `action_handle_invalid_input` (actions/input_guard.py) tells the student which problem
it has, both by this one check.
"""

from __future__ import annotations

import enum
import unicodedata


class InputProblem(str, enum.Enum):
    """Why a message cannot be understood as a question."""

    EMPTY = "empty"
    NO_WORDS = "no_words"
    TOO_LONG = "too_long"


def input_problem(text: str | None, max_chars: int) -> InputProblem | None:
    """Classifies a raw message; None means it can go to the classifiers' prediction.

    Control and format characters (Unicode category C) do not count; `max_chars` is the longest
    accepted message in characters (MAX_MESSAGE_CHARS).
    """
    visible = "".join(ch for ch in (text or "") if unicodedata.category(ch)[0] != "C").strip()
    if not visible:
        return InputProblem.EMPTY
    if not any(ch.isalnum() for ch in visible):
        return InputProblem.NO_WORDS
    if len(visible) > max_chars:
        return InputProblem.TOO_LONG
    return None
