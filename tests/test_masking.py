"""The personal-data rules (bot/masking.py): each rule on realistic Turkish messages, the corpus
of student messages (tests/data/pii_corpus.yml), and events as they are stored."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.link_code import new_code
from bot.masking import (
    BIRTH_DATE,
    CARD,
    DEEPER_THAN_STORED,
    EMAIL,
    IBAN,
    LINK_CODE,
    MAX_STORED_DEPTH,
    NATIONAL_ID,
    PHONE,
    TOKEN,
    is_luhn_valid,
    is_valid_iban,
    is_valid_national_id,
    mask_text,
    shadow,
    stored_event,
    valid_text,
)
from tests.conftest import load_yaml

VALID_TC = "10000000146"  # checksum-valid, as in public examples
CORPUS = load_yaml("tests/data/pii_corpus.yml")
PROGRAM_EMAIL = "ulusalstajprogrami@cbiko.gov.tr"


# --- phones ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "phone",
    [
        "+90 532 123 45 67",
        "+905321234567",
        "0532 123 45 67",
        "05321234567",
        "0532-123-45-67",
        "0532.123.45.67",
        "0 (532) 123 45 67",
        "(0212) 555 12 34",
        "532 123 4567",
        "5321234567",
        "0090 532 123 45 67",
        "+90 0532 123 45 67",
        "0 5 3 2 1 2 3 4 5 6 7",  # digit by digit
        "05 32 12 34 56 7",  # any grouping after a 0
        "０５３２ １２３ ４５ ６７",  # fullwidth digits
        "٠٥٣٢١٢٣٤٥٦٧",  # Arabic-Indic digits
        "۰۵۳۲ ۱۲۳ ۴۵ ۶۷",  # Persian digits
        "0532\u00a0123\u00a045\u00a067",  # no-break spaces
        "0532 – 123 – 45 – 67",  # en dashes
        "0850 222 33 44",
        "0800 211 04 56",
        "0900 123 45 67",
        "444 0 123",
        "444 12 34",
        "4441234",
        "0 444 12 34",
    ],
)
def test_turkish_phone_numbers_in_every_shape_are_masked(phone: str) -> None:
    masked = mask_text(f"Beni şu numaradan arayın: {phone}, teşekkürler")
    assert masked == f"Beni şu numaradan arayın: {PHONE}, teşekkürler"


@pytest.mark.parametrize(
    "text",
    [
        "staj günlerim 22 23 24 25 26 27",  # a list of days is no phone number
        "staj 22.07.2024 - 16.08.2024 arasında",  # nor a date range
        "1 2 3 4 5 6 7 8 9 10 diye sıraladım",
        "asgari ücret 17.002 TL",
        "5510 sayılı kanun",
        "1234567 numaralı başvuru",  # 7 digits, not a 444 number
    ],
)
def test_numbers_that_are_no_phone_numbers_stay(text: str) -> None:
    assert mask_text(text) == text


# --- TC kimlik, IBAN, cards ------------------------------------------------------------------


def test_only_checksum_valid_tc_numbers_are_masked_in_any_grouping() -> None:
    assert is_valid_national_id(VALID_TC)
    assert not is_valid_national_id("12345678901")
    for written in (VALID_TC, "100 000 001 46", "100-000-001-46", "1 0 0 0 0 0 0 0 1 4 6"):
        assert mask_text(f"TC kimlik numaram {written}") == f"TC kimlik numaram {NATIONAL_ID}"
    # An 11-digit number without a valid checksum is not a TC number (e.g. a reference).
    assert mask_text("başvuru no 12345678901") == "başvuru no 12345678901"


@pytest.mark.parametrize(
    "iban",
    [
        "TR74 0006 2005 1978 6457 8413 26",
        "TR740006200519786457841326",
        "tr74 0006 2005 1978 6457 8413 26",
        "TR 74 0006 2005 1978 6457 8413 26",
        "TR74-0006-2005-1978-6457-8413-26",
        "ＴＲ７４ ０００６ ２００５ １９７８ ６４５７ ８４１３ ２６",
    ],
)
def test_ibans_are_masked_with_or_without_spaces(iban: str) -> None:
    assert is_valid_iban("TR740006200519786457841326")
    assert mask_text(f"IBAN'ım {iban} lütfen") == f"IBAN'ım {IBAN} lütfen"


def test_an_iban_with_wrong_check_digits_is_not_taken_for_an_iban() -> None:
    assert not is_valid_iban("TR750006200519786457841326")
    assert IBAN not in mask_text("IBAN TR75 0006 2005 1978 6457 8413 26")


@pytest.mark.parametrize(
    "card",
    [
        "4543 3080 2300 2531",
        "4543-3080-2300-2531",
        "4543308023002531",
        "3782 534863 97671",
        "9792 1795 7957 6179",
    ],
)
def test_luhn_valid_card_numbers_are_masked(card: str) -> None:
    assert mask_text(f"kartım {card} ücret buna yatar mı") == f"kartım {CARD} ücret buna yatar mı"


def test_card_like_numbers_failing_luhn_are_not_cards() -> None:
    assert not is_luhn_valid("4543308023002532")
    assert CARD not in mask_text("kart 4543 3080 2300 2532")


def test_a_number_right_after_a_card_stays_outside_it() -> None:
    assert mask_text("kart 4543 3080 2300 2531 2024") == f"kart {CARD} 2024"


# --- e-mail addresses ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "address",
    [
        "ayse.yilmaz+staj@ogr.example.edu.tr",
        "ayse.yilmaz [at] ogr.example.edu.tr",
        "ayse.yilmaz(at)gmail.com",
        "ayse.yilmaz{at}gmail{dot}com",
        "ayse.yilmaz [at] gmail [dot] com",
        "ayse.yilmaz at gmail dot com",
        "ayse.yilmaz at gmail nokta com",
        "ayse.yilmaz @ gmail.com",
        "ayşe.yılmaz@gmail.com",
        "ａｙｓｅ＠ｇｍａｉｌ．ｃｏｍ",
        "AYSE.YILMAZ@GMAIL.COM",
    ],
)
def test_emails_are_masked_also_when_obfuscated(address: str) -> None:
    assert mask_text(f"E-postam {address}, oradan yazın.") == f"E-postam {EMAIL}, oradan yazın."


def test_at_as_a_turkish_word_is_no_email() -> None:
    for text in ("çöpe at gitsin", "topu at bana", "bunu at ve gel. com nedir"):
        assert mask_text(text) == text


# --- dates of birth --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("doğum tarihim 14.02.2003", f"doğum tarihim {BIRTH_DATE}"),
        ("Doğum tarihi: 7 Haziran 2002", f"Doğum tarihi: {BIRTH_DATE}"),
        ("DOĞUM TARİHİM 7 HAZİRAN 2002", f"DOĞUM TARİHİM {BIRTH_DATE}"),
        ("d.t. 03/11/2001", f"d.t. {BIRTH_DATE}"),
        ("D.T: 22-09-2002", f"D.T: {BIRTH_DATE}"),
        ("dogum tarihim 2003-05-19", f"dogum tarihim {BIRTH_DATE}"),
        ("doğum yılım 2001", f"doğum yılım {BIRTH_DATE}"),
        ("2004 doğumluyum", f"{BIRTH_DATE} doğumluyum"),
        ("12 mart 2003'te doğdum", f"{BIRTH_DATE}'te doğdum"),
        ("doğum tarihim ١٤.٠٢.٢٠٠٣", f"doğum tarihim {BIRTH_DATE}"),
    ],
)
def test_dates_of_birth_are_masked_next_to_the_word(text: str, masked: str) -> None:
    assert mask_text(text) == masked


def test_other_dates_stay() -> None:
    for text in ("staj 01.07.2024'te başlıyor", "1 Temmuz 2024'te başlıyorum", "2024 yılı"):
        assert mask_text(text) == text


# --- link codes and tokens -------------------------------------------------------------------


@pytest.mark.parametrize("template", ["hesabımı bağla {}", "{}", "kodum: {} tamam mı?"])
def test_link_codes_are_masked_in_any_case_and_split(template: str) -> None:
    code = new_code()
    for variant in (code, code.lower(), f"{code[:3]}-{code[3:]}", f"{code[:3]} {code[3:]}"):
        masked = mask_text(template.format(variant))
        assert code.lower() not in masked.lower().replace("-", "").replace(" ", "")
        assert LINK_CODE in masked


def test_rest_sender_pseudonyms_are_no_secrets() -> None:
    sender = "rest:0123456789abcdef0123456789abcdef"
    assert mask_text(f"conversation '{sender}'") == f"conversation '{sender}'"
    assert mask_text("token 0123456789abcdef0123456789abcdef") == f"token {TOKEN}"


def test_tokens_are_masked_and_long_words_and_paths_are_not() -> None:
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI0MiJ9.dBjftJeZ4CVPmB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    secret = "sk_live_9aF3kQ7xLm2Pq8Rt5Vw1Zy4B"
    assert mask_text(f"portal token: {jwt}") == f"portal token: {TOKEN}"
    assert mask_text(f"şifrem {secret} bu") == f"şifrem {TOKEN} bu"
    for text in (
        "https://kariyerkapisi.cbiko.gov.tr/ulusal-staj-programi/2024",
        "muvaffakiyetsizlestiricilestiriveremeyebileceklerimizdenmissinizcesine",
    ):
        assert mask_text(text) == text


# --- ordinary text and Unicode ---------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Staj ücreti ne zaman yatar? 2024 yılı için 30 iş günü mü?",
        "İŞ GÖLGELEME programına başvurdum, Kariyer Kapısı'nda göremiyorum",
        "sigortami kim yapicak",
        "merhabaaa",
        "Kabul ettim ama SGK girişi yok 😟",
        "<b>kalın</b> ve ' OR 1=1 --",
        "faq/update_contact_info",
        "saat 14:30'da görüşme var",
        '/choose_faq{"faq_key": "internship_stipend_payment"}',
        "ﬁrma ｆｕｌｌｗｉｄｔｈ yazıyor",  # compatibility characters are kept as typed
    ],
)
def test_ordinary_messages_stay_exactly_as_they_were(text: str) -> None:
    assert mask_text(text) == text


def test_the_shadow_normalises_each_character_in_place() -> None:
    text = "０５３２\u00a0١٢٣ – ｆｕｌｌ＠ﬁ"
    normalised = shadow(text)
    assert len(normalised) == len(text)
    assert normalised == "0532 123 - full@ﬁ"  # "ﬁ" is two letters in NFKC: kept


def test_lone_surrogates_become_the_replacement_character() -> None:
    assert valid_text("\udfff staj ücreti") == "\ufffd staj ücreti"
    assert valid_text("\ud83d\ude00") == "😀"  # a pair is the character it encodes
    assert mask_text("\udfff 0532 123 45 67") == f"\ufffd {PHONE}"


# --- the corpus --------------------------------------------------------------------------------


def test_the_corpus_is_large_and_varied() -> None:
    placeholders = {p for message in CORPUS["messages"] for p in message["placeholders"]}
    assert len(CORPUS["messages"]) >= 60
    assert placeholders >= {PHONE, EMAIL, NATIONAL_ID, IBAN, CARD, BIRTH_DATE}


@pytest.mark.parametrize("message", CORPUS["messages"], ids=lambda m: m["text"][:40])
def test_every_corpus_message_is_masked(message: dict[str, Any]) -> None:
    masked = mask_text(message["text"])
    for raw in message["raw"]:
        assert raw not in masked
    for placeholder in message["placeholders"]:
        assert placeholder in masked


@pytest.mark.parametrize("text", CORPUS["negatives"])
def test_corpus_negatives_are_not_masked(text: str) -> None:
    assert mask_text(text) == text


# --- events ------------------------------------------------------------------------------------


def test_user_events_are_masked_where_students_write_and_kept_where_the_dialogue_needs_it() -> None:
    code = new_code()
    user = {
        "event": "user",
        "timestamp": 1.0,
        "text": f"hesabımı bağla {code}",
        "parse_data": {
            "text": f"hesabımı bağla {code}",
            "intent": {"name": "link_account", "confidence": 0.9},
            "entities": [{"entity": "code", "value": code}],
            "response_selector": {"faq": {"response": {"responses": [{"text": PROGRAM_EMAIL}]}}},
        },
        "metadata": {"phone": "05321234567"},
        "input_channel": "rest",
    }
    masked = stored_event(user)
    assert code not in json.dumps(masked) and "05321234567" not in json.dumps(masked)
    assert masked["parse_data"]["intent"] == {"name": "link_account", "confidence": 0.9}
    assert masked["text"] == f"hesabımı bağla {LINK_CODE}"
    assert masked["parse_data"]["entities"] == [{"entity": "code", "value": LINK_CODE}]
    assert PROGRAM_EMAIL in json.dumps(masked["parse_data"]["response_selector"])  # FAQ text
    assert masked["input_channel"] == "rest"
    assert user["text"] == f"hesabımı bağla {code}"  # the turn's own copy is untouched


def test_the_assistants_answers_are_stored_as_said() -> None:
    bot = {
        "event": "bot",
        "text": f"Sorununu {PROGRAM_EMAIL} adresine yazabilirsin. Yetkili: 0212 000 00 00",
        "data": {"buttons": [{"title": "Ayşe Yetkili", "payload": '/choose_faq{"faq_key":"x"}'}]},
        "metadata": {"utter_action": "utter_faq/other_questions_contact"},
    }
    assert stored_event(bot) == bot


def test_slot_and_entity_events_are_masked() -> None:
    assert stored_event({"event": "slot", "name": "x", "value": "0532 123 45 67"})["value"] == (
        PHONE
    )
    entities = stored_event({"event": "entities", "entities": [{"value": VALID_TC}]})
    assert entities["entities"] == [{"value": NATIONAL_ID}]


def test_rasa_ids_in_metadata_are_kept() -> None:
    event = {
        "event": "user",
        "text": "merhaba",
        "parse_data": {},
        "metadata": {
            "model_id": "8f3a2b9c4d5e6f708192a3b4c5d6e7f8",
            "assistant_id": "x",
            "note": "kodum 4F7K2Q",
        },
    }
    metadata = stored_event(event)["metadata"]
    assert metadata["model_id"] == "8f3a2b9c4d5e6f708192a3b4c5d6e7f8"
    assert metadata["note"] == f"kodum {LINK_CODE}"


def test_stored_events_are_valid_unicode_and_bounded_in_depth() -> None:
    deep: Any = "dip"
    for _ in range(5000):
        deep = [deep]
    event = {
        "event": "user",
        "text": "\udfff staj ücreti",
        "parse_data": {"text": "\udfff staj ücreti", "entities": [{"value": deep}]},
        "metadata": {"client\udfff": {"nested": deep}, "when": object()},
    }
    stored = stored_event(event)
    encoded = json.dumps(stored, ensure_ascii=False).encode("utf-8")  # fails on a surrogate
    assert stored["text"] == "\ufffd staj ücreti"
    assert "client\ufffd" in stored["metadata"]
    assert DEEPER_THAN_STORED.encode() in encoded
    depth, value = 0, stored["parse_data"]["entities"][0]["value"]
    while isinstance(value, list):
        depth, value = depth + 1, value[0]
    assert depth < MAX_STORED_DEPTH
    assert isinstance(stored["metadata"]["when"], str)
