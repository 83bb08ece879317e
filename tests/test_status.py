"""Students ask about their own offers, calendars and insurance: right data, only their own."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from bot.db import demo, linking, offers
from bot.db.models import ProgramType
from bot.db.session import Database
from tests.conftest import Conversation, start_agent

ELIF, MERT, ZEYNEP, CAN = (named.student_id for named in demo.NAMED_STUDENTS)
STATUS_QUESTIONS = {
    "bekleyen tekliflerim neler": "action_check_pending_offers",
    "takvimlerimi göster": "action_check_calendar",
    "benim sigorta girişim yapıldı mı": "action_check_insurance_status",
    "bu yıl kaç hakkım kaldı": "action_check_rights_left",
    "yaklaşan mülakatlarım var mı": "action_check_interviews",
    "kabul ettiğim stajda en az ne kadar ücret alırım": "action_check_stipend",
    "teklifimin ayrıntılarını göster": "action_check_offer_details",
}
_telegram_ids = iter(range(700_000, 800_000))


def now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


@pytest.fixture()
def demo_db(demo_database_url: str) -> Iterator[Database]:
    """The action server's demo database, for issuing codes and reading the truth."""
    db = Database(demo_database_url)
    yield db
    db.dispose()


def telegram_chat(agent_and_loop, demo_db: Database, student_id: int | None) -> Conversation:
    """A Telegram conversation, linked to the student through the real chat flow."""
    chat = Conversation(*agent_and_loop, sender_id=f"tg:{next(_telegram_ids)}")
    if student_id is not None:
        code = linking.issue_code(demo_db, student_id, now())
        assert chat.say(f"hesabımı bağla {code}").utter_actions == ["utter_link_done"]
    return chat


def employer_names(db: Database, student_id: int) -> set[str]:
    """Names of the employers of the student's pending offers (the truth, from the DB)."""
    return {offer.employer_name for offer in offers.pending_offers(db, student_id, now())}


# --- answers for each named demo situation --------------------------------------------------


def test_two_pending_offers_reserve_with_tomorrows_deadline_first(
    agent_and_loop, demo_db: Database
) -> None:
    turn = telegram_chat(agent_and_loop, demo_db, ELIF).say("bekleyen tekliflerim neler")
    assert turn.utter_actions == ["utter_pending_offers"]
    text = turn.text
    assert "Cevap bekleyen 2 teklifin var" in text
    assert text.index("Yedek teklif") < text.index("Asil teklif")  # soonest deadline first
    assert "1 gün" in text or "23 saat" in text  # deadline tomorrow
    for name in employer_names(demo_db, ELIF):
        assert name in text
    assert "Sorumlu kişi:" in text and "@" in text


def test_an_approved_internship_without_sgk_entry(agent_and_loop, demo_db: Database) -> None:
    turn = telegram_chat(agent_and_loop, demo_db, MERT).say("benim sigorta girişim yapıldı mı")
    assert turn.utter_actions == ["utter_insurance_status"]
    assert turn.text.count("✅") == 2 and turn.text.count("❌") == 2
    assert "Sıradaki adım: Üniversitenin SGK girişini yapmasını takip et" in turn.text


def test_five_calendars_by_priority(agent_and_loop) -> None:
    turn = Conversation(*agent_and_loop, sender_id=f"web:{ZEYNEP}").say("takvimlerimi göster")
    assert turn.utter_actions == ["utter_calendars"]
    assert "5 takvim hakkının 5 tanesini" in turn.text
    assert [line[:2] for line in turn.text.splitlines() if "öncelik:" in line] == [
        "1.",
        "2.",
        "3.",
        "4.",
        "5.",
    ]
    assert "farklı bir tarih için de teklif" in turn.text


def test_a_student_with_nothing_gets_what_to_do(agent_and_loop) -> None:
    chat = Conversation(*agent_and_loop, sender_id=f"web:{CAN}")
    expected = {
        "action_check_pending_offers": "utter_no_pending_offers",
        "action_check_calendar": "utter_no_calendars",
        "action_check_insurance_status": "utter_no_approved_programs",
        "action_check_rights_left": "utter_rights_left",
        "action_check_interviews": "utter_no_interviews",
        "action_check_stipend": "utter_no_accepted_internship",
        "action_check_offer_details": "utter_no_offers",
    }
    for question, action in STATUS_QUESTIONS.items():
        assert chat.say(question).utter_actions == [expected[action]], question


def test_rights_left_count_a_final_approval(agent_and_loop, demo_db: Database) -> None:
    turn = telegram_chat(agent_and_loop, demo_db, MERT).say("bu yıl kaç hakkım kaldı")
    assert turn.utter_actions == ["utter_rights_left"]
    year = int(turn.text.split()[0])
    used = offers.rights_used(demo_db, MERT, year)  # the approved internship, if it is this year
    assert ("Staj: hakkını kullandın" in turn.text) == (ProgramType.INTERNSHIP in used)
    assert "İş gölgeleme: hakkın var" in turn.text and "Eğitim: hakkın var" in turn.text


def details_payload(offer_id: int) -> str:
    return f'/check_offer_details{{"offer_id":"{offer_id}"}}'


def test_offer_details_by_the_employers_name(agent_and_loop, demo_db: Database) -> None:
    main, reserve = sorted(offers.pending_offers(demo_db, ELIF, now()), key=lambda o: o.rank.value)
    first_word = main.employer_name.split()[0]
    chat = telegram_chat(agent_and_loop, demo_db, ELIF)
    turn = chat.say(f"{first_word}'taki teklifimin detayları")
    assert turn.utter_actions == ["utter_offer_details"]
    assert main.employer_name in turn.text and reserve.employer_name not in turn.text
    assert "Durum: Cevabını bekliyor" in turn.text and "Asil teklif" in turn.text
    assert "Not: Yaz dönemi programıdır." in turn.text
    assert f"Sorumlu kişi: {main.responsible.full_name}" in turn.text


def test_offer_details_without_a_name_ask_which_then_show_it(
    agent_and_loop, demo_db: Database
) -> None:
    chat = telegram_chat(agent_and_loop, demo_db, ELIF)
    turn = chat.say("teklifimin ayrıntılarını göster")
    assert turn.utter_actions == ["utter_which_offer"]
    pending = offers.pending_offers(demo_db, ELIF, now())
    assert sorted(b["payload"] for b in turn.buttons) == sorted(
        details_payload(o.offer_id) for o in pending
    )
    reserve = next(o for o in pending if o.rank.value == "yedek")
    shown = chat.say(details_payload(reserve.offer_id))
    assert shown.utter_actions == ["utter_offer_details"]
    assert reserve.employer_name in shown.text and "Yedek teklif" in shown.text


def test_another_students_offer_id_shows_nothing_of_it(agent_and_loop, demo_db: Database) -> None:
    elif_offer = offers.pending_offers(demo_db, ELIF, now())[0]
    turn = telegram_chat(agent_and_loop, demo_db, MERT).say(details_payload(elif_offer.offer_id))
    assert turn.utter_actions == ["utter_offer_not_found"]
    (mert_offer,) = offers.student_offers(demo_db, MERT)
    assert [b["payload"] for b in turn.buttons] == [details_payload(mert_offer.offer_id)]
    assert not any(
        name in turn.text + str(turn.buttons)
        for name in employer_names(demo_db, ELIF) - {mert_offer.employer_name}
    )


def test_minimum_stipend_of_an_approved_internship(agent_and_loop, demo_db: Database) -> None:
    (internship,) = offers.accepted_internships(demo_db, MERT)
    turn = telegram_chat(agent_and_loop, demo_db, MERT).say(
        "kabul ettiğim stajda en az ne kadar ücret alırım"
    )
    assert turn.utter_actions == ["utter_stipend"]
    large = internship.employee_count >= 20
    # conftest's action server uses a test wage of 10000 TL (not the real figure)
    expected = (
        "en az %30'u, yani aylık en az 3.000,00 TL"
        if large
        else "en az %15'i, yani aylık en az 1.500,00 TL"
    )
    assert f"{internship.employer_name} ({internship.employee_count} çalışan" in turn.text
    assert expected in turn.text
    assert "Hesapta kullanılan net asgari ücret: 10.000,00 TL" in turn.text


# --- authorization -------------------------------------------------------------------------


def test_unverified_senders_never_see_data(agent_and_loop) -> None:
    for sender in ("rest:tg:1", "default", "tg:", "tg:abc", "web:", "web-anon:123"):
        chat = Conversation(*agent_and_loop, sender_id=sender)
        for question in STATUS_QUESTIONS:
            turn = chat.say(question)
            assert turn.utter_actions == ["utter_status_needs_verified_channel"], (sender, question)


def test_an_unlinked_chat_is_told_how_to_link(agent_and_loop, demo_db: Database) -> None:
    chat = telegram_chat(agent_and_loop, demo_db, None)
    for question in STATUS_QUESTIONS:
        assert chat.say(question).utter_actions == ["utter_status_needs_link"], question


def test_linked_students_see_only_their_own_offers(agent_and_loop, demo_db: Database) -> None:
    elif_chat = telegram_chat(agent_and_loop, demo_db, ELIF)
    mert_chat = telegram_chat(agent_and_loop, demo_db, MERT)
    elif_names = employer_names(demo_db, ELIF)
    mert_insurance = mert_chat.say("benim sigorta girişim yapıldı mı").text
    elif_insurance = elif_chat.say("benim sigorta girişim yapıldı mı")
    assert elif_insurance.utter_actions == ["utter_no_approved_programs"]
    assert mert_chat.say("bekleyen tekliflerim neler").utter_actions == ["utter_no_pending_offers"]
    assert not any(name in mert_insurance for name in elif_names)


def test_a_code_in_the_message_cannot_reach_another_students_data(
    agent_and_loop, demo_db: Database
) -> None:
    chat = telegram_chat(agent_and_loop, demo_db, MERT)
    turn = chat.say(f"öğrenci {ELIF} için bekleyen tekliflerim neler")
    assert not any(name in turn.text for name in employer_names(demo_db, ELIF))


def test_after_unlinking_nothing_is_shown(agent_and_loop, demo_db: Database) -> None:
    chat = telegram_chat(agent_and_loop, demo_db, ELIF)
    assert chat.say("hesabımın bağlantısını kaldır").utter_actions == ["utter_unlink_done"]
    assert chat.say("bekleyen tekliflerim neler").utter_actions == ["utter_status_needs_link"]
    assert chat.say("hesabımın bağlantısını kaldır").utter_actions == [
        "utter_unlink_nothing_linked"
    ]


# --- link codes through the chat -----------------------------------------------------------


def test_bad_and_reused_codes_get_clear_answers(agent_and_loop, demo_db: Database) -> None:
    chat = telegram_chat(agent_and_loop, demo_db, None)
    assert chat.say("hesabımı bağlamak istiyorum").utter_actions == ["utter_link_how"]
    assert chat.say("hesabımı bağla 2222ZZ").utter_actions == ["utter_link_wrong_code"]
    code = linking.issue_code(demo_db, CAN, now())
    assert chat.say(f"hesabımı bağla {code}").utter_actions == ["utter_link_done"]
    other = telegram_chat(agent_and_loop, demo_db, None)
    assert other.say(f"hesabımı bağla {code}").utter_actions == ["utter_link_already_used"]


def test_a_code_pasted_alone_links_the_chat(agent_and_loop, demo_db: Database) -> None:
    chat = telegram_chat(agent_and_loop, demo_db, None)
    code = linking.issue_code(demo_db, ZEYNEP, now())
    assert chat.say(code).utter_actions == ["utter_link_done"]
    assert chat.say("takvimlerimi göster").utter_actions == ["utter_calendars"]


def test_brute_force_locks_the_chat_out(agent_and_loop, demo_db: Database) -> None:
    chat = telegram_chat(agent_and_loop, demo_db, None)
    replies = [
        chat.say(f"hesabımı bağla 2{i}ZZZZ").utter_actions[0]
        for i in range(2, 2 + linking.MAX_FAILED_TRIES)
    ]
    assert replies[-1] == "utter_link_locked_out"
    code = linking.issue_code(demo_db, CAN, now())
    assert chat.say(f"hesabımı bağla {code}").utter_actions == ["utter_link_locked_out"]


def test_the_web_chat_needs_no_linking(agent_and_loop) -> None:
    chat = Conversation(*agent_and_loop, sender_id=f"web:{ELIF}")
    assert chat.say("hesabımı bağla 4F7K2Q").utter_actions == ["utter_link_not_needed_on_web"]


# --- the database is down ------------------------------------------------------------------


@pytest.fixture(scope="module")
def agent_without_database() -> Iterator[tuple[Any, Any]]:
    """The assistant with an action server whose database cannot be reached."""
    yield from start_agent("postgresql://postgres@127.0.0.1:1/unreachable")


def test_database_unavailable_gets_a_polite_reply_and_the_chat_goes_on(
    agent_without_database,
) -> None:
    chat = Conversation(*agent_without_database, sender_id="web:1")
    assert chat.say("bekleyen tekliflerim neler").utter_actions == ["utter_status_unavailable"]
    assert chat.say("staj süresi kaç gün").utter_actions == ["utter_faq/internship_duration"]
