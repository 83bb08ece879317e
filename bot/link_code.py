"""The format of the one-time codes that link a chat to a student's account."""

from __future__ import annotations

import re
import secrets

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud and typed
CODE_LENGTH = 6
# Six code characters, optionally split by a dash or space after the third, as a whole word.
CODE_IN_TEXT = re.compile(r"(?<![\w])([A-Za-z2-9]{3}[- ]?[A-Za-z2-9]{3})(?![\w])")


def new_code() -> str:
    """A random code with at least one digit, so it never reads as a word in a message."""
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if any(ch.isdigit() for ch in code):
            return code


def normalize_code(code: str) -> str:
    """Upper-case, without spaces or dashes: "4f7k-2q" and "4F7K2Q" are the same code."""
    return "".join(ch for ch in code.upper() if ch.isalnum())


def find_code(message: str) -> str | None:
    """The link code in a chat message ("hesabımı bağla 4f7k-2q"), if there is one."""
    for candidate in reversed(CODE_IN_TEXT.findall(message)):
        code = normalize_code(candidate)
        if any(ch.isdigit() for ch in code):
            return code
    return None


def is_only_a_code(message: str) -> bool:
    """True when the whole message is a code, as when a student pastes it from the portal."""
    stripped = message.strip()
    return CODE_IN_TEXT.fullmatch(stripped) is not None and find_code(stripped) is not None
