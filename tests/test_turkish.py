"""The Turkish normaliser and the tokenizer component built on it."""

from __future__ import annotations

import pytest
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.turkish import TurkishTokenizer
from bot.text.turkish import fold, normalize, turkish_lower


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("İSTANBUL", "istanbul"),
        ("ILIK", "ılık"),
        ("IĞDIR", "ığdır"),
        ("BİLGİLERİM", "bilgilerim"),
        ("Ülke", "ülke"),
    ],
)
def test_turkish_lower_follows_turkish_rules(text: str, expected: str) -> None:
    assert turkish_lower(text) == expected


def test_turkish_lower_leaves_no_combining_dot() -> None:
    # Python's own "İ".lower() is "i" + U+0307; ours must be a plain "i".
    assert "İ".lower() != "i"
    assert turkish_lower("İ") == "i"
    assert turkish_lower("I\u0307") == "i"  # decomposed capital dotted I


@pytest.mark.parametrize(
    ("with_letters", "ascii_form"),
    [
        ("ücretim ne zaman yatar", "ucretim ne zaman yatar"),
        ("ÜCRETİM NE ZAMAN YATAR", "ucretim ne zaman yatar"),
        ("iş gölgeleme", "is golgeleme"),
        ("sigortamı kim yapacak", "sigortami kim yapacak"),
        ("Çağrı ŞİMŞEK", "cagri simsek"),
        ("imkânı", "imkani"),
    ],
)
def test_folding_makes_turkish_and_ascii_forms_equal(with_letters: str, ascii_form: str) -> None:
    assert normalize(with_letters) == normalize(ascii_form) == ascii_form


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Kariyer Kapısı'nda", "kariyer kapisi"),
        ("Ulusal Staj Programı’na", "ulusal staj programi"),
        ("USP'ye başvurdum", "usp basvurdum"),
        ("Kapısı`ndan", "kapisi"),
    ],
)
def test_apostrophe_suffixes_are_dropped(text: str, expected: str) -> None:
    assert normalize(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("merhabaaa", "merhaba"),
        ("selaaaam", "selam"),
        ("saat", "saat"),  # legitimate double letters stay
        ("dikkat", "dikkat"),
        ("2000 TL", "2000 tl"),  # digits are not letters
    ],
)
def test_letter_runs_collapse(text: str, expected: str) -> None:
    assert normalize(text) == expected


def test_chat_abbreviations_expand() -> None:
    assert normalize("slm mrb tşk") == "selam merhaba tesekkur"


def test_punctuation_emoji_and_control_characters_are_not_tokens() -> None:
    assert normalize("ücret?!! 😀 \x00\x07ne zaman...") == "ucret ne zaman"


def test_fold_is_idempotent() -> None:
    text = "Öğrenci İşleri’NE GİDİYORUM"
    assert fold(fold(text)) == fold(text)


def test_tokenizer_keeps_offsets_on_the_original_text() -> None:
    tokenizer = TurkishTokenizer(TurkishTokenizer.get_default_config())
    text = "Kariyer Kapısı'nda ÜCRETİM"
    tokens = tokenizer.tokenize(Message(data={"text": text}), "text")
    assert [t.text for t in tokens] == ["kariyer", "kapisi", "ucretim"]
    assert [text[t.start : t.end] for t in tokens] == ["Kariyer", "Kapısı'nda", "ÜCRETİM"]


def test_tokenizer_gives_a_placeholder_for_messages_without_words() -> None:
    tokenizer = TurkishTokenizer(TurkishTokenizer.get_default_config())
    tokens = tokenizer.tokenize(Message(data={"text": "😀😀"}), "text")
    assert len(tokens) == 1
