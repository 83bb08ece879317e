"""Masks personal data in transcript text: phones, e-mails, TC kimlik numbers, link codes, tokens.

Used before anything is stored (bot/tracker_store.py) and therefore before staff see it.
Placeholders are Turkish because staff read them: "[telefon]", "[e-posta]", ...
"""

from __future__ import annotations

import re
from typing import Any

from bot.link_code import CODE_ALPHABET

PHONE = "[telefon]"
EMAIL = "[e-posta]"
NATIONAL_ID = "[TC kimlik no]"
LINK_CODE = "[bağlantı kodu]"
TOKEN = "[anahtar]"

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
# JWT-like: three base64url segments; the header of a JSON one starts with "eyJ".
_JWT = re.compile(r"\beyJ[\w-]{5,}\.[\w-]{5,}\.[\w-]{5,}")
# A long secret: 24+ characters of token alphabet, with letters and digits mixed.
_LONG_SECRET = re.compile(r"(?<![\w/+=-])(?=[\w+/=-]*\d)(?=[\w+/=-]*[A-Za-z])[\w+/=-]{24,}")
_ELEVEN_DIGITS = re.compile(r"(?<!\d)[1-9]\d{10}(?!\d)")
# Turkish phones: +90 / 0090 / 90 / 0 prefix (optional), a 3-digit area or operator code
# (optionally in parentheses), then 3 + 2 + 2 digits; spaces, dots or dashes between groups.
_SEP = r"[ .\-]?"
_PHONE = re.compile(
    r"(?<![\w+(])\(?(?:(?:\+|00)?90" + _SEP + r"|0" + _SEP + r")?"
    r"\(?[2-5]\d{2}\)?" + _SEP + r"\d{3}" + _SEP + r"\d{2}" + _SEP + r"\d{2}(?!\d)"
)
_CODE_CHARS = "".join(sorted(set(CODE_ALPHABET + CODE_ALPHABET.lower())))
_LINK_CODE = re.compile(rf"(?<![\w])[{_CODE_CHARS}]{{3}}[- ]?[{_CODE_CHARS}]{{3}}(?![\w])")


def is_valid_national_id(digits: str) -> bool:
    """True for an 11-digit TC kimlik number whose two check digits are right."""
    if len(digits) != 11 or not digits.isdigit() or digits[0] == "0":
        return False
    d = [int(ch) for ch in digits]
    tenth = ((d[0] + d[2] + d[4] + d[6] + d[8]) * 7 - (d[1] + d[3] + d[5] + d[7])) % 10
    return d[9] == tenth and d[10] == sum(d[:10]) % 10


def _national_id(match: re.Match[str]) -> str:
    return NATIONAL_ID if is_valid_national_id(match.group(0)) else match.group(0)


def _link_code(match: re.Match[str]) -> str:
    """Only codes with a digit (as bot/link_code.py issues them), so plain words stay."""
    return LINK_CODE if any(ch.isdigit() for ch in match.group(0)) else match.group(0)


def mask_text(text: str) -> str:
    """The text with every phone, e-mail, TC kimlik number, link code and token replaced."""
    if not text:
        return text
    text = _EMAIL.sub(EMAIL, text)
    text = _JWT.sub(TOKEN, text)
    text = _LONG_SECRET.sub(TOKEN, text)
    text = _ELEVEN_DIGITS.sub(_national_id, text)
    text = _PHONE.sub(PHONE, text)
    return _LINK_CODE.sub(_link_code, text)


def mask_value(value: Any) -> Any:
    """Masks every string inside a JSON-like value (dicts, lists, strings), keeping its shape."""
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, list):
        return [mask_value(item) for item in value]
    if isinstance(value, dict):
        return {key: mask_value(item) for key, item in value.items()}
    return value


# Ids Rasa itself puts into a message's metadata (a model fingerprint is not a secret).
RASA_METADATA_KEYS = frozenset({"model_id", "assistant_id"})


def _mask_metadata(metadata: Any) -> Any:
    if not isinstance(metadata, dict):
        return mask_value(metadata)
    return {
        key: value if key in RASA_METADATA_KEYS else mask_value(value)
        for key, value in metadata.items()
    }


def mask_event(event: dict[str, Any]) -> dict[str, Any]:
    """A serialised Rasa event with the personal data in its free-text parts masked.

    User messages: text, parse_data text and entity values, channel metadata. Bot messages:
    text, data (buttons, attachments) and metadata. Slots: their value. Names of intents and
    actions, timestamps and ids are kept, as the dialogue needs them.
    """
    masked = dict(event)
    kind = event.get("event")
    if kind == "user":
        masked["text"] = mask_value(event.get("text"))
        masked["metadata"] = _mask_metadata(event.get("metadata"))
        parse_data = dict(event.get("parse_data") or {})
        if "text" in parse_data:
            parse_data["text"] = mask_value(parse_data["text"])
        for key in ("entities", "metadata"):
            if key in parse_data:
                parse_data[key] = mask_value(parse_data[key])
        masked["parse_data"] = parse_data
    elif kind == "bot":
        for key in ("text", "data", "metadata"):
            masked[key] = mask_value(event.get(key))
    elif kind == "slot":
        masked["value"] = mask_value(event.get("value"))
    elif kind == "entities":
        masked["entities"] = mask_value(event.get("entities"))
    return masked
