"""Personal data is masked in realistic Turkish chat messages; other text stays as it was."""

from __future__ import annotations

import pytest

from bot.link_code import new_code
from bot.masking import (
    EMAIL,
    LINK_CODE,
    NATIONAL_ID,
    PHONE,
    TOKEN,
    is_valid_national_id,
    mask_event,
    mask_text,
)

VALID_TC = "10000000146"  # checksum-valid, as in public examples


@pytest.mark.parametrize(
    "phone",
    [
        "+90 532 123 45 67",
        "+905321234567",
        "0532 123 45 67",
        "05321234567",
        "0532-123-45-67",
        "0 (532) 123 45 67",
        "(0212) 555 12 34",
        "532 123 4567",
        "0090 532 123 45 67",
    ],
)
def test_turkish_phone_formats_are_masked(phone: str) -> None:
    masked = mask_text(f"Beni şu numaradan arayın: {phone}, teşekkürler")
    assert masked == f"Beni şu numaradan arayın: {PHONE}, teşekkürler"


def test_emails_are_masked_with_turkish_text_around() -> None:
    text = "E-postam ayse.yilmaz+staj@ogr.example.edu.tr, oradan yazın lütfen."
    assert mask_text(text) == f"E-postam {EMAIL}, oradan yazın lütfen."


def test_only_checksum_valid_tc_numbers_are_masked() -> None:
    assert is_valid_national_id(VALID_TC)
    assert not is_valid_national_id("12345678901")
    assert mask_text(f"TC kimlik numaram {VALID_TC}") == f"TC kimlik numaram {NATIONAL_ID}"
    # An 11-digit number without a valid checksum is not a TC number (e.g. a reference).
    assert mask_text("başvuru no 12345678901") == "başvuru no 12345678901"


@pytest.mark.parametrize("template", ["hesabımı bağla {}", "{}", "kodum: {} tamam mı?"])
def test_link_codes_are_masked_in_any_case_and_split(template: str) -> None:
    code = new_code()
    for variant in (code, code.lower(), f"{code[:3]}-{code[3:]}", f"{code[:3]} {code[3:]}"):
        masked = mask_text(template.format(variant))
        assert code.lower() not in masked.lower().replace("-", "").replace(" ", "")
        assert LINK_CODE in masked


def test_tokens_are_masked() -> None:
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI0MiJ9.dBjftJeZ4CVPmB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    secret = "sk_live_9aF3kQ7xLm2Pq8Rt5Vw1Zy4B"
    assert mask_text(f"portal token: {jwt}") == f"portal token: {TOKEN}"
    assert mask_text(f"şifrem {secret} bu") == f"şifrem {TOKEN} bu"


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
    ],
)
def test_ordinary_messages_stay_as_they_were(text: str) -> None:
    assert mask_text(text) == text


def test_events_are_masked_where_people_write_and_kept_where_the_dialogue_needs_it() -> None:
    code = new_code()
    user = {
        "event": "user",
        "timestamp": 1.0,
        "text": f"hesabımı bağla {code}",
        "parse_data": {
            "text": f"hesabımı bağla {code}",
            "intent": {"name": "link_account"},
            "entities": [{"entity": "code", "value": code}],
        },
        "metadata": {"phone": "05321234567"},
    }
    bot = {
        "event": "bot",
        "text": "Numaranız 0532 123 45 67 mi?",
        "data": {"buttons": [{"title": "ali@example.com", "payload": "/affirm"}]},
        "metadata": {"utter_action": "utter_x"},
    }
    masked_user, masked_bot = mask_event(user), mask_event(bot)
    assert code not in str(masked_user) and "05321234567" not in str(masked_user)
    assert masked_user["parse_data"]["intent"]["name"] == "link_account"
    assert masked_user["text"] == f"hesabımı bağla {LINK_CODE}"
    assert masked_bot["text"] == f"Numaranız {PHONE} mi?"
    assert masked_bot["data"]["buttons"][0] == {"title": EMAIL, "payload": "/affirm"}
    assert masked_bot["metadata"]["utter_action"] == "utter_x"
    assert user["text"] == f"hesabımı bağla {code}"  # the turn's own copy is untouched


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
    metadata = mask_event(event)["metadata"]
    assert metadata["model_id"] == "8f3a2b9c4d5e6f708192a3b4c5d6e7f8"
    assert metadata["note"] == f"kodum {LINK_CODE}"
