"""The personal-data rules: one set for everything the assistant stores or logs.

What a student types is personal; what the assistant says is not. The assistant's answers come
from the FAQ (`domain/`) and the offer database (employers' contact people, the program's own
public address ulusalstajprogrami@cbiko.gov.tr), and are stored exactly as they were said. No
answer repeats what the student typed (the responses fill in only figures, dates and offer
data), so bot events are never masked; if one ever echoes user text, mask that response's
variables in the action, not here.

Where the rules run:
- the tracker store (bot/tracker_store.py) masks every event before it is written, and with it
  the staff review index (bot/db/review.py), whose search column is masked again after folding;
- logs, through bot/log_masking.py (a filter on every record of every process);
- Redis key names and REST sender ids hold keyed pseudonyms instead (bot/pseudonyms.py).

What is masked, with the Turkish placeholder staff see:
- e-mail addresses, also written "ad [at] alan [dot] com", "ad(at)alan.com", "ad at alan dot
  com" → "[e-posta]";
- IBANs, TR + 24 digits with or without spaces, valid under ISO 13616 mod-97 → "[IBAN]";
- portal tokens (JWT) and long secrets → "[anahtar]";
- dates next to "doğum", "doğum tarihim", "d.t.", "doğumluyum", "doğdum" → "[doğum tarihi]";
- card numbers, 13–19 digits alone or in groups of four (space or dash), Luhn-valid →
  "[kart no]";
- TC kimlik numbers, 11 digits in any grouping, checksum-valid → "[TC kimlik no]";
- Turkish phone numbers: +90 / 0090 / 90 / 0 prefixes, mobiles and landlines, 0850 / 0800 /
  0900 service numbers and 444 numbers, in groups, digit by digit, with dots or dashes →
  "[telefon]";
- chat link codes (6 code characters with a digit) → "[bağlantı kodu]".

Every rule matches on a "shadow" of the text of the same length, where each character is
normalised on its own with `unicodedata`: digits of every script (fullwidth, Arabic-Indic, …)
become ASCII digits, compatibility forms (fullwidth letters, "＠", "．") their plain form,
Unicode spaces and dashes a plain space and dash. The replacement is made in the text itself,
so what is not personal stays exactly as typed.

Every pattern is RE2 (google-re2), whose matching time is linear in the text's length; the
Python around it looks at each match a bounded number of times (tests/test_linear_time.py).
"""

from __future__ import annotations

import functools
import itertools
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import re2

from bot.link_code import CODE_ALPHABET

PHONE = "[telefon]"
EMAIL = "[e-posta]"
NATIONAL_ID = "[TC kimlik no]"
IBAN = "[IBAN]"
CARD = "[kart no]"
BIRTH_DATE = "[doğum tarihi]"
LINK_CODE = "[bağlantı kodu]"
TOKEN = "[anahtar]"
PLACEHOLDERS = (PHONE, EMAIL, NATIONAL_ID, IBAN, CARD, BIRTH_DATE, LINK_CODE, TOKEN)

# Stored values nested deeper than this are replaced by DEEPER_THAN_STORED (see clean_value).
MAX_STORED_DEPTH = 32
DEEPER_THAN_STORED = "[iç içe veri kısaltıldı]"
REPLACEMENT_CHARACTER = "\ufffd"


# --- valid text ----------------------------------------------------------------------------


def valid_text(text: str) -> str:
    """`text` as valid Unicode: a lone surrogate ("\\udfff", which JSON may carry) becomes
    U+FFFD, a surrogate pair the character it encodes. Valid text is returned as is."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text


# --- the shadow: one normalised character for each character of the text -------------------


def _shadow_character(character: str) -> str:
    """The character as the rules see it: an ASCII digit for a digit of any script, the NFKC
    form of a compatibility character when that is one character, a plain space or dash for
    Unicode spaces and dashes; otherwise the character itself."""
    if character.isdecimal():
        return "0123456789"[unicodedata.decimal(character)]
    category = unicodedata.category(character)
    if category == "Zs":
        return " "
    if category == "Pd":
        return "-"
    compatible = unicodedata.normalize("NFKC", character)
    return compatible if len(compatible) == 1 else character


class _ShadowTable(dict):
    """str.translate table computing each non-ASCII character once (a bounded number kept)."""

    LIMIT = 100_000

    def __missing__(self, code: int) -> str:
        value = _shadow_character(chr(code))
        if len(self) < self.LIMIT:
            self[code] = value
        return value


_SHADOW_TABLE = _ShadowTable()


def shadow(text: str) -> str:
    """The normalised twin of `text`, character for character (same length)."""
    return text if text.isascii() else text.translate(_SHADOW_TABLE)


# --- the rules -----------------------------------------------------------------------------

# A span to replace: (start, end) in characters, and its placeholder.
Span = tuple[int, int, str]

_AT = r"(?:\s*@\s*|\s*[\[({<]\s*(?:@|(?i:at|et))\s*[\])}>]\s*|(?P<word_at>\s+(?i:at)\s+))"
_DOT = r"(?:\.|\s*[\[({<]\s*(?:\.|(?i:dot|nokta))\s*[\])}>]\s*|\s+(?i:dot|nokta)\s+)"
_EMAIL = re2.compile(
    r"[\pL\pN_%+-]+(?:\.[\pL\pN_%+-]+)*" + _AT + r"[\pL\pN-]+(?:" + _DOT + r"[\pL\pN-]+)*"
    r"(?:" + _DOT + r"(?P<tld>[A-Za-z]{2,24}))"
)
# With a plain " at " only a known top-level domain makes it an address ("çöpe at" is not).
_COMMON_TLDS = frozenset(
    "com net org edu gov tr info io me biz co uk de k12 mil av bel pol tv ws".split()
)

_IBAN = re2.compile(r"(?i:\btr)[ ]?\d\d(?:[ \-]?\d){22}")
_JWT = re2.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}")
_SECRET_RUN = re2.compile(r"[A-Za-z0-9_+/=-]{24,}")
_SECRET_SEGMENT = re2.compile(r"[A-Za-z0-9]{8,}")
_PSEUDONYM = re2.compile(r"[0-9a-f]{32}")

# (?i) folds I/i but not İ or ı (Unicode simple case folding): those are spelt out.
_MONTHS = (
    r"(?i:ocak|[şs]ubat|mart|n[iİ]san|may[ıiİ]s|haz[iİ]ran|temmuz|a[ğg]ustos|eyl[üu]l|ek[iİ]m"
    r"|kas[ıiİ]m|aral[ıiİ]k)"
)
_DATE = (
    r"(?:\d{1,2}\s?[./\-]\s?\d{1,2}\s?[./\-]\s?(?:19|20)?\d\d"  # 12.03.2002, 3/12/02
    r"|(?:19|20)\d\d\s?[./\-]\s?\d{1,2}\s?[./\-]\s?\d{1,2}"  # 2002-03-12
    r"|\d{1,2}\s+" + _MONTHS + r"(?:\s+(?:19|20)\d\d)?"  # 12 Mart 2002, 12 mart
    r"|(?:19|20)\d\d)"  # a year alone, right by the word
)
# "doğum tarihim: 12.03.2002", "d.t. 12/03/2002", "doğum yılım 2002": the date is the first
# thing with digits within BIRTH_WINDOW characters after the word.
_BIRTH_WORD = re2.compile(r"(?i:do[ğg]um|\bd\s?\.\s?t\b\.?|\bdt\b|\bd\.\s?tar[iİ]h)")
_DATE_AT_START = re2.compile(r"[^\d\n]*?(?P<date>" + _DATE + r")")
BIRTH_WINDOW = 60
# "12.03.2002 doğumluyum", "12 mart 2002'de doğdum"
_BIRTH_BEFORE_WORD = re2.compile(
    r"(?P<date>" + _DATE + r")(?:\s?['’]?\s?(?i:de|da|te|ta)\b)?\s{0,3}(?i:do[ğg](?:umlu|du))"
)
# Dates in general are not personal; they only must not be read as parts of phone numbers.
_ANY_DATE = re2.compile(
    r"\b(?:\d{1,2}[./\-]\d{1,2}[./\-](?:19|20)\d\d|(?:19|20)\d\d[./\-]\d{1,2}[./\-]\d{1,2})\b"
)
# Digits joined by up to three separators each: the candidates for phone, TC and card numbers.
# (7 digits at least: no phone, TC or card number is shorter)
_DIGIT_RUN = re2.compile(r"\d(?:[ .\-/()]{0,3}\d){6,}")

_CODE_CHARS = "".join(sorted(set(CODE_ALPHABET + CODE_ALPHABET.lower())))
_LINK_CODE = re2.compile(rf"\b[{_CODE_CHARS}]{{3}}[- ]?[{_CODE_CHARS}]{{3}}\b")


def is_valid_national_id(digits: str) -> bool:
    """True for an 11-digit TC kimlik number whose two check digits are right."""
    if len(digits) != 11 or not digits.isdigit() or digits[0] == "0":
        return False
    d = [int(ch) for ch in digits]
    tenth = ((d[0] + d[2] + d[4] + d[6] + d[8]) * 7 - (d[1] + d[3] + d[5] + d[7])) % 10
    return d[9] == tenth and d[10] == sum(d[:10]) % 10


def is_valid_iban(iban: str) -> bool:
    """True for an IBAN (letters and digits, no spaces) whose ISO 13616 check digits hold."""
    if len(iban) < 15 or not iban.isalnum() or not iban.isascii():
        return False
    rearranged = iban[4:] + iban[:4]
    return int("".join(str(int(ch, 36)) for ch in rearranged.upper())) % 97 == 1


def is_luhn_valid(digits: str) -> bool:
    """True when the digit string passes the Luhn check (card numbers)."""
    total = 0
    for position, ch in enumerate(reversed(digits)):
        value = int(ch)
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


# National numbers (without the leading 0) of service lines: 0800 free, 0850 nationwide, 0822
# data, 0888, 0900 premium.
_SERVICE_PREFIXES = ("800", "811", "822", "850", "888", "900")
_SEPARATORS_TO_SPACE = str.maketrans(" .-/()", "      ")
_DIGITS_TO_NEWLINE = str.maketrans("0123456789", "\n" * 10)


def _national_number(digits: str) -> tuple[str, bool] | None:
    """The 10-digit (or 7-digit 444) national number in a digit string, and whether a prefix
    (0, 90, 0090, 90 0) came before it; None if the string has none of these shapes."""
    length = len(digits)
    if length == 14 and digits.startswith("0090"):
        return digits[4:], True
    if length == 13 and digits.startswith("900"):  # "+90 0532 …"
        return digits[3:], True
    if length == 12 and digits.startswith("90"):
        return digits[2:], True
    if length in (8, 11) and digits[0] == "0":
        return digits[1:], True
    if length in (7, 10):
        return digits, False
    return None


def is_phone_number(digits: str, first_group: int, groups: int) -> bool:
    """True for a Turkish phone number written as `digits` in `groups` groups of digits, the
    first `first_group` digits long.

    Mobiles and landlines (national numbers 2xx–5xx), service lines (0800, 0850, …) and 444
    numbers. With a prefix (0, 90, 0090) any grouping counts, digit by digit too. Without one,
    only one block or a 3-digit code first ("532 123 45 67", "444 0 123"): a list of small
    numbers is not a phone number.
    """
    national = _national_number(digits)
    if national is None:
        return False
    number, prefixed = national
    if not prefixed and groups > 1 and first_group != 3:
        return False
    if len(number) == 10:
        return number[0] in "2345" or number[:3] in _SERVICE_PREFIXES
    return len(number) == 7 and number.startswith("444")


def is_card_number(digits: str, group_sizes: list[int]) -> bool:
    """True for a payment card number: 13–19 digits in one block, in groups of four (the last
    1–4) or 4-6-5, from a card network's range (2–6, Troy's 9792), Luhn-valid."""
    if not 13 <= len(digits) <= 19 or not (digits[0] in "23456" or digits.startswith("9792")):
        return False
    shaped = (
        len(group_sizes) == 1
        or (all(size == 4 for size in group_sizes[:-1]) and 1 <= group_sizes[-1] <= 4)
        or group_sizes in ([4, 6, 5], [4, 6, 4])
    )
    return shaped and is_luhn_valid(digits)


@functools.lru_cache(maxsize=4096)
def _span_lengths(head: str, first_group: int) -> tuple[int, ...]:
    """The span lengths (in digits) worth trying from a group, longest first, given the span's
    first four digits and the size of its first group: cards 13–19, phones with a prefix 14,
    13, 12, 11, 8, TC numbers 11, phones without one 10 and 7."""
    lengths: list[int] = []
    if (first_group == 4 or first_group >= 13) and (head[0] in "23456" or head.startswith("9792")):
        lengths += range(19, 12, -1)
    for length, prefix in ((14, "0090"), (13, "900"), (12, "90")):
        if head.startswith(prefix):
            lengths.append(length)
    if head[0] == "0":
        lengths += [11, 8]
    else:
        lengths.append(11)  # a TC number
        if head[0] in "23458" or head.startswith("900"):
            lengths.append(10)
        if head.startswith("444"):
            lengths.append(7)
    return tuple(lengths)


def _number_spans(run: str, offset: int) -> Iterator[Span]:
    """Personal numbers in one run of digit groups joined by separators, at `offset`.

    A span starts and ends on whole groups. From each group on, the longest span that is a
    card, TC or phone number is taken and the search goes on after it; a group that starts
    none is skipped. At most 12 spans, each checked in bounded time, per group: linear.
    """
    groups = run.translate(_SEPARATORS_TO_SPACE).split()
    separators = [sep for sep in run.translate(_DIGITS_TO_NEWLINE).split("\n") if sep]
    digits = "".join(groups)
    sizes = [len(group) for group in groups]
    digit_sums = [0, *itertools.accumulate(map(int, digits))]
    # where each group starts in `digits` and in `run`, and which group ends after n digits
    digit_starts: list[int] = []
    run_starts: list[int] = []
    group_ending_at: dict[int, int] = {}
    in_digits = in_run = 0
    for index, size in enumerate(sizes):
        digit_starts.append(in_digits)
        run_starts.append(in_run)
        in_digits += size
        group_ending_at[in_digits] = index
        in_run += size + (len(separators[index]) if index < len(separators) else 0)
    # separators other than one space or dash before group k (cards have only these)
    odd_separators = [0, *itertools.accumulate(sep not in (" ", "-") for sep in separators)]
    index = 0
    while index < len(groups):
        found = None
        start = digit_starts[index]
        for length in _span_lengths(digits[start : start + 4], sizes[index]):
            last = group_ending_at.get(start + length)
            if last is None:
                continue
            span = digits[start : start + length]
            if (
                length >= 13
                and odd_separators[last] == odd_separators[index]
                and is_card_number(span, sizes[index : last + 1])
            ):
                found = (last, CARD)
                break
            if (
                length == 11
                and span[0] != "0"
                and (digit_sums[start + 10] - digit_sums[start]) % 10 == int(span[10])
                and is_valid_national_id(span)
            ):
                found = (last, NATIONAL_ID)
                break
            if is_phone_number(span, sizes[index], last - index + 1):
                found = (last, PHONE)
                break
        if found is None:
            index += 1
            continue
        last, kind = found
        first_char = offset + run_starts[index]
        last_char = offset + run_starts[last] + sizes[last]
        yield first_char, last_char, kind
        index = last + 1


def _email_spans(shadow_text: str) -> Iterator[Span]:
    for match in _EMAIL.finditer(shadow_text):
        if match.group("word_at") and match.group("tld").lower() not in _COMMON_TLDS:
            continue
        yield match.start(), match.end(), EMAIL


def _iban_spans(shadow_text: str) -> Iterator[Span]:
    for match in _IBAN.finditer(shadow_text):
        compact = "".join(ch for ch in match.group() if ch.isalnum())
        if is_valid_iban(compact.upper()):
            yield match.start(), match.end(), IBAN


def _token_spans(shadow_text: str) -> Iterator[Span]:
    for match in _JWT.finditer(shadow_text):
        yield match.start(), match.end(), TOKEN


def _secret_spans(shadow_text: str) -> Iterator[Span]:
    """Runs of 24+ token characters with a segment of 8+ letters and digits mixed: keys,
    hashes, ids ("sk_live_9aF3…"); not long words or paths ("ulusal-staj-programi/2024"), nor
    the pseudonym of a REST sender id ("rest:" and 32 hex digits, bot/pseudonyms.py), which
    stands for nothing readable and lets logs be matched with transcripts."""
    for match in _SECRET_RUN.finditer(shadow_text):
        if _PSEUDONYM.fullmatch(match.group()) and shadow_text.endswith("rest:", 0, match.start()):
            continue
        for segment in _SECRET_SEGMENT.finditer(match.group()):
            value = segment.group()
            if any(ch.isdigit() for ch in value) and any(ch.isalpha() for ch in value):
                yield match.start(), match.end(), TOKEN
                break


def _birth_date_spans(shadow_text: str) -> Iterator[Span]:
    spans = [match.span(1) for match in _BIRTH_BEFORE_WORD.finditer(shadow_text)]
    for word in _BIRTH_WORD.finditer(shadow_text):
        window = shadow_text[word.end() : word.end() + BIRTH_WINDOW]
        date = _DATE_AT_START.match(window)
        if date is not None:
            spans.append((word.end() + date.start(1), word.end() + date.end(1)))
    for start, end in _without_overlaps(sorted(spans)):
        yield start, end, BIRTH_DATE


def _phone_id_card_spans(shadow_text: str) -> Iterator[Span]:
    # Dates are no phone numbers: hide them from the digit runs ("22.07.2024 - 16.08.2024").
    hidden = shadow_text
    dates = list(_ANY_DATE.finditer(shadow_text))
    if dates:
        pieces, last = [], 0
        for match in dates:
            pieces += [shadow_text[last : match.start()], "#" * (match.end() - match.start())]
            last = match.end()
        hidden = "".join([*pieces, shadow_text[last:]])
    for match in _DIGIT_RUN.finditer(hidden):
        for start, end, kind in _number_spans(match.group(), match.start()):
            # "+90 …" and "(0212) …": the sign and the bracket go with the number
            while start > 0 and hidden[start - 1] in "+(":
                start -= 1
            if hidden.count("(", start, end) > hidden.count(")", start, end) and (
                hidden.startswith(")", end)
            ):
                end += 1
            yield start, end, kind


def _link_code_spans(shadow_text: str) -> Iterator[Span]:
    """Only codes with a digit (as bot/link_code.py issues them), so plain words stay."""
    for match in _LINK_CODE.finditer(shadow_text):
        if any(ch.isdigit() for ch in match.group()):
            yield match.start(), match.end(), LINK_CODE


def _without_overlaps(spans: Iterable[tuple[int, int]]) -> Iterator[tuple[int, int]]:
    last_end = -1
    for start, end in spans:
        if start >= last_end:
            yield start, end
            last_end = end


# In this order: each rule sees the text with the earlier rules' placeholders in it.
RULES: tuple[Callable[[str], Iterator[Span]], ...] = (
    _email_spans,
    _iban_spans,
    _token_spans,
    _secret_spans,
    _birth_date_spans,
    _phone_id_card_spans,
    _link_code_spans,
)


def _replace(text: str, shadow_text: str, spans: Iterable[Span]) -> tuple[str, str]:
    """Text and shadow with the (ordered, non-overlapping) spans replaced by placeholders."""
    text_pieces: list[str] = []
    shadow_pieces: list[str] = []
    last = 0
    for start, end, placeholder in spans:
        text_pieces += [text[last:start], placeholder]
        shadow_pieces += [shadow_text[last:start], placeholder]
        last = end
    if not text_pieces:
        return text, shadow_text
    text_pieces.append(text[last:])
    shadow_pieces.append(shadow_text[last:])
    return "".join(text_pieces), "".join(shadow_pieces)


def mask_text(text: str) -> str:
    """`text` as valid Unicode with every piece of personal data replaced by its placeholder.

    Linear in the length of the text. Text with no personal data comes back unchanged.
    """
    if not text:
        return text
    text = valid_text(text)
    shadow_text = shadow(text)
    for rule in RULES:
        text, shadow_text = _replace(text, shadow_text, rule(shadow_text))
    return text


# --- values and events ---------------------------------------------------------------------


def clean_value(value: Any, mask: bool = True, depth: int = 0) -> Any:
    """A JSON-like value ready to store: strings valid Unicode (and masked when `mask`), keys
    strings, tuples lists, nesting bounded to MAX_STORED_DEPTH levels (anything deeper is the
    string DEEPER_THAN_STORED), other objects as their string. The shape is kept otherwise.
    """
    if isinstance(value, str):
        return mask_text(value) if mask else valid_text(value)
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, (list, tuple, dict)) and depth >= MAX_STORED_DEPTH:
        return DEEPER_THAN_STORED
    if isinstance(value, (list, tuple)):
        return [clean_value(item, mask, depth + 1) for item in value]
    if isinstance(value, dict):
        return {
            clean_value(str(key), mask, depth + 1): clean_value(item, mask, depth + 1)
            for key, item in value.items()
        }
    return clean_value(str(value), mask, depth)


def mask_value(value: Any) -> Any:
    """Masks every string inside a JSON-like value (dicts, lists, strings), keeping its shape."""
    return clean_value(value, mask=True)


# Ids Rasa itself puts into a message's metadata (a model fingerprint is not a secret).
RASA_METADATA_KEYS = frozenset({"model_id", "assistant_id"})
# What in a user event the student wrote, or the channel brought along with it.
_USER_PARSE_KEYS = frozenset({"text", "entities", "metadata"})


def _metadata(metadata: Any) -> Any:
    if not isinstance(metadata, dict):
        return clean_value(metadata)
    return {
        clean_value(str(key), mask=False): clean_value(value, mask=key not in RASA_METADATA_KEYS)
        for key, value in metadata.items()
    }


def stored_event(event: dict[str, Any]) -> dict[str, Any]:
    """A serialised Rasa event as it may be stored: every string valid Unicode, nesting
    bounded, and the personal data in what the student wrote masked.

    User messages: text, parse_data's text and entities, the channel's metadata are masked;
    intent names, rankings and the response selector's FAQ answers are kept. Slots and entity
    events: their values are masked. Bot messages and everything else are stored as said.
    """
    kind = event.get("event")
    stored = {key: clean_value(value, mask=False) for key, value in event.items()}
    if kind == "user":
        stored["text"] = clean_value(event.get("text"))
        stored["metadata"] = _metadata(event.get("metadata"))
        parse_data = event.get("parse_data")
        if isinstance(parse_data, dict):
            stored["parse_data"] = {
                key: (
                    _metadata(value)
                    if key == "metadata"
                    else clean_value(value, mask=key in _USER_PARSE_KEYS)
                )
                for key, value in parse_data.items()
            }
    elif kind == "slot":
        stored["value"] = clean_value(event.get("value"))
    elif kind == "entities":
        stored["entities"] = clean_value(event.get("entities"))
    return stored
