"""Greetings, help menu, the route to a person, and questions outside the program."""

from __future__ import annotations

from tests.conftest import Conversation


def test_greeting_is_answered(conversation: Conversation) -> None:
    turn = conversation.say("merhabalar")
    assert turn.utter_actions == ["utter_greet"]
    assert "Staj Asistanı" in turn.text


def test_help_shows_a_menu_of_topics_and_a_person(conversation: Conversation) -> None:
    turn = conversation.say("neler yapabiliyorsun")
    assert turn.utter_actions == ["utter_help"]
    payloads = [button["payload"] for button in turn.buttons]
    assert len(payloads) == 7
    assert all(p.startswith("/choose_faq") for p in payloads[:5])
    assert payloads[5:] == ["/check_pending_offers", "/human_handoff"]
    assert "bekleyen tekliflerin" in turn.text


def test_a_help_button_answers_its_topic(conversation: Conversation) -> None:
    menu = conversation.say("yardım")
    pay_button = next(b for b in menu.buttons if "internship_pay" in b["payload"])
    assert pay_button["title"] == "Staj sonrasında ücret ödenecek mi?"
    assert conversation.say(pay_button["payload"]).utter_actions == ["utter_faq/internship_pay"]


def test_asking_for_a_person_gives_career_center_then_program_email(
    conversation: Conversation,
) -> None:
    turn = conversation.say("gercek bir insanla konusmak istiyorum")
    assert turn.utter_actions == ["utter_human_handoff"]
    assert turn.text.index("kariyer merkezi") < turn.text.index("ulusalstajprogrami@cbiko.gov.tr")


def test_bot_challenge_is_answered_honestly(conversation: Conversation) -> None:
    turn = conversation.say("sen bot musun")
    assert turn.utter_actions == ["utter_bot_challenge"]
    assert "insan değilim" in turn.text


def test_questions_outside_the_program_are_declined(conversation: Conversation) -> None:
    for message in ("KPSS başvurusu ne zaman", "erasmus hibesi ne kadar", "yarın hava nasıl"):
        turn = conversation.say(message)
        assert turn.utter_actions == ["utter_out_of_scope"], message


def test_goodbye_and_thanks(conversation: Conversation) -> None:
    assert conversation.say("çok teşekkür ederim").utter_actions == ["utter_thank"]
    assert conversation.say("hoşça kal").utter_actions == ["utter_goodbye"]


def test_an_acknowledgement_is_not_mistaken_for_a_question(conversation: Conversation) -> None:
    for message in ("tamam", "anladım", "ok"):
        turn = conversation.say(message)
        assert turn.utter_actions == ["utter_acknowledge"], message
