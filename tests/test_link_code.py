"""The link-code format: generated, found in messages, recognised when pasted alone."""

from __future__ import annotations

import pytest

from bot.link_code import CODE_ALPHABET, CODE_LENGTH, find_code, is_only_a_code, new_code


def test_new_codes_use_the_unambiguous_alphabet_and_contain_a_digit() -> None:
    for _ in range(200):
        code = new_code()
        assert len(code) == CODE_LENGTH and set(code) <= set(CODE_ALPHABET)
        assert any(ch.isdigit() for ch in code)


@pytest.mark.parametrize(
    ("message", "code"),
    [
        ("hesabımı bağla 4F7K2Q", "4F7K2Q"),
        ("hesabimi bagla 4f7-k2q lutfen", "4F7K2Q"),
        ("kodum: 7KQ 2MX", "7KQ2MX"),
        ("hesabımı bağlamak istiyorum", None),
        ("kodum ABCDEF", None),  # no digit: a word, not a code
        ("4F7K2Q9", None),  # too long
    ],
)
def test_codes_are_found_in_messages(message: str, code: str | None) -> None:
    assert find_code(message) == code


@pytest.mark.parametrize(
    ("message", "alone"),
    [
        ("X6DN2T", True),
        ("  x6d-n2t ", True),
        ("hesabımı bağla X6DN2T", False),
        ("merhaba", False),
        ("234567", True),
        ("123456", False),
    ],  # 1 is not in the alphabet
)
def test_a_code_pasted_alone_is_recognised(message: str, alone: bool) -> None:
    assert is_only_a_code(message) is alone
