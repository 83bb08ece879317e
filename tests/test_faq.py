"""The 33 FAQ topics: data, answers, and conversations through the trained assistant."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys

import pytest

from bot.config import PROJECT_ROOT, SOURCE_PROGRAM_YEAR
from bot.faq import (
    ANSWER_CONFIDENCE,
    ANSWER_MARGIN,
    SIBLINGS,
    FaqDecision,
    FaqMove,
    decide,
    ranking_from_parse,
)
from bot.text.turkish import fold
from tests.conftest import Conversation, Environment, load_yaml

# The keys and their order are fixed by the foundation issue; other parts depend on them.
FAQ_KEYS = [
    "update_contact_info",
    "share_availability_calendar",
    "program_period",
    "what_is_job_shadowing",
    "participation_limit",
    "no_mandatory_internship",
    "counts_as_mandatory_internship",
    "mandatory_internship_completed",
    "internship_after_final_approval",
    "shadowing_training_after_final_approval",
    "internship_duration",
    "shadowing_training_duration",
    "internship_insurance",
    "university_refuses_insurance",
    "shadowing_training_insurance",
    "internship_pay",
    "who_pays",
    "transportation_support",
    "accommodation_support",
    "competency_scores",
    "employer_criteria",
    "talent_pool_notification",
    "offer_received_notification",
    "cannot_view_offer",
    "change_offer_date_city",
    "after_accepting_offer",
    "questions_about_offer",
    "documents_after_acceptance",
    "offers_after_accepting",
    "offers_after_rejecting",
    "quit_program_early",
    "withdraw_before_start",
    "other_questions_contact",
]
SOURCE = (PROJECT_ROOT / "docs" / "source" / "usp_sss_ocr.txt").read_text(encoding="utf-8")
TURKISH_LETTERS = set("çğıöşüÇĞİÖŞÜ")
OUT_OF_SCOPE = "out_of_scope"
CHITCHAT = {"greet", "goodbye", "thank", "bot_challenge", "help", "human_handoff", "acknowledge"}
# Law 3308's percentages, which the source quotes in words ("yüzde otuzundan", "on beşinden").
NUMBERS_THE_SOURCE_WRITES_IN_WORDS = {"30": "otuz", "15": "on bes"}


def examples_by_intent(relative_path: str) -> dict[str, list[str]]:
    """Examples of a Rasa NLU YAML file, by (full) intent name."""
    return {
        block["intent"]: [line[2:].strip() for line in block["examples"].splitlines() if line]
        for block in load_yaml(relative_path)["nlu"]
        if "intent" in block
    }


# --- data ---------------------------------------------------------------------------------


def test_every_key_has_an_answer_with_a_title_in_the_source_order(faq_responses) -> None:
    assert list(faq_responses) == FAQ_KEYS
    titles = [response["metadata"]["title"] for response in faq_responses.values()]
    assert all(title.endswith("?") and len(title) <= 65 for title in titles)
    assert len(set(titles)) == len(titles)


def test_every_key_has_enough_varied_training_examples() -> None:
    training = examples_by_intent("data/nlu/faq.yml")
    assert list(training) == [f"faq/{key}" for key in FAQ_KEYS]
    for intent, examples in training.items():
        ascii_only = [e for e in examples if not TURKISH_LETTERS & set(e)]
        assert len(examples) >= 25, intent
        assert len(ascii_only) * 3 >= len(examples), intent
        assert len({e.casefold() for e in examples}) == len(examples), intent


def test_held_out_set_is_big_enough_and_never_trained_on() -> None:
    held_out = examples_by_intent("tests/data/nlu_test.yml")
    for key in FAQ_KEYS:
        assert len(held_out[f"faq/{key}"]) >= 6, key
    assert len(held_out["out_of_scope"]) >= 40
    training = set()
    for path in sorted((PROJECT_ROOT / "data" / "nlu").glob("*.yml")):
        for examples in examples_by_intent(path.relative_to(PROJECT_ROOT).as_posix()).values():
            training |= {fold(e) for e in examples}
    # Greetings and thanks are a closed set ("merhaba"); questions must be worded apart.
    questions = [
        e for intent, examples in held_out.items() if intent not in CHITCHAT for e in examples
    ]
    assert [e for e in questions if fold(e) in training] == []


def test_answers_state_only_figures_addresses_and_links_of_the_source(faq_responses) -> None:
    folded_source = " ".join(fold(SOURCE).split())
    for key, response in faq_responses.items():
        text = response["text"]
        for email in re.findall(r"[\w.]+@[\w.]+\w", text):
            assert email == "ulusalstajprogrami@cbiko.gov.tr", key
        for url in re.findall(r"https?://\S+?(?=[)\s]|$)", text):
            assert url in SOURCE, key
        for number in re.findall(r"(?<![\w{])\d+(?![\w}])", text):
            in_words = NUMBERS_THE_SOURCE_WRITES_IN_WORDS.get(number, number)
            assert in_words in folded_source, (key, number)


def test_the_program_year_comes_from_configuration(faq_responses) -> None:
    texts = "\n".join(response["text"] for response in faq_responses.values())
    assert str(SOURCE_PROGRAM_YEAR) not in texts
    assert "{program_year}" in faq_responses["program_period"]["text"]
    assert str(SOURCE_PROGRAM_YEAR) in SOURCE


def test_rasa_data_validate_reports_no_errors() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "rasa",
            "data",
            "validate",
            "--domain",
            "domain",
            "--data",
            "data",
            "--config",
            "config.yml",
        ],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "ERROR" not in result.stdout + result.stderr


# --- the decision on the response selector's ranking --------------------------------------


def test_a_confident_candidate_is_answered() -> None:
    decision = decide([("internship_pay", 0.9), ("who_pays", 0.05)])
    assert decision.move is FaqMove.ANSWER
    assert decision.keys == ("internship_pay",)


def test_close_siblings_are_asked_about() -> None:
    decision = decide([("quit_program_early", 0.55), ("withdraw_before_start", 0.4)])
    assert decision.move is FaqMove.ASK_SIBLING
    assert set(decision.keys) == {"quit_program_early", "withdraw_before_start"}


def test_a_clear_winner_among_siblings_is_answered() -> None:
    decision = decide([("internship_duration", 0.95), ("shadowing_training_duration", 0.03)])
    assert decision.move is FaqMove.ANSWER


def test_close_non_siblings_below_the_threshold_get_suggestions() -> None:
    low = ANSWER_CONFIDENCE - 0.1
    runner_up = low - ANSWER_MARGIN + 0.05
    decision = decide([("internship_pay", low), ("who_pays", runner_up), ("program_period", 0.1)])
    assert decision.move is FaqMove.SUGGEST
    assert decision.keys == ("internship_pay", "who_pays", "program_period")


def test_a_clear_lead_is_answered_even_with_a_low_score() -> None:
    low = ANSWER_CONFIDENCE - 0.1
    decision = decide([("who_pays", low), ("internship_pay", low - ANSWER_MARGIN - 0.01)])
    assert decision == FaqDecision(FaqMove.ANSWER, ("who_pays",))


def test_no_candidates_means_suggesting_nothing() -> None:
    assert decide([]) == FaqDecision(FaqMove.SUGGEST, ())


def test_implausible_candidates_are_not_offered() -> None:
    ranking = [("program_period", 0.3), ("who_pays", 0.2), ("internship_pay", 0.05)]
    assert decide(ranking) == FaqDecision(FaqMove.SUGGEST, ("program_period", "who_pays"))


def test_rankings_are_read_from_a_selector_with_or_without_a_retrieval_intent() -> None:
    ranking = {"ranking": [{"intent_response_key": "faq/who_pays", "confidence": 0.7}]}
    assert ranking_from_parse({"response_selector": {"faq": ranking}}) == [("who_pays", 0.7)]
    assert ranking_from_parse({"response_selector": {"default": ranking}}) == [("who_pays", 0.7)]
    assert ranking_from_parse({}) == []


def test_sibling_pairs_are_the_ones_the_issue_names() -> None:
    assert len(SIBLINGS) == 5
    assert all(set(pair) <= set(FAQ_KEYS) for pair in SIBLINGS)


# --- conversations through the trained assistant -------------------------------------------


@pytest.mark.parametrize("key", FAQ_KEYS)
def test_each_question_gets_its_answer(key: str, faq_responses, conversation) -> None:
    turn = conversation.say(faq_responses[key]["metadata"]["title"])
    assert turn.utter_actions == [f"utter_faq/{key}"]
    assert turn.texts == [faq_responses[key]["text"].format(program_year=SOURCE_PROGRAM_YEAR)]


def chosen_key(button: dict[str, str]) -> str:
    """The FAQ key a /choose_faq button answers."""
    payload = button["payload"]
    assert payload.startswith("/choose_faq{")
    return json.loads(payload.removeprefix("/choose_faq"))["faq_key"]


def run_answer_action(ranking: list[tuple[str, float]]) -> list[dict]:
    """What action_answer_faq sends for a message with this FAQ ranking."""
    from rasa_sdk import Tracker
    from rasa_sdk.executor import CollectingDispatcher

    from actions.faq import ActionAnswerFaq

    parse = {
        "intent": {"name": "faq", "confidence": 1.0},
        "response_selector": {
            "faq": {
                "ranking": [
                    {"intent_response_key": f"faq/{key}", "confidence": score}
                    for key, score in ranking
                ]
            }
        },
    }
    tracker = Tracker("action-test", {}, parse, [], False, None, {}, "action_listen")
    dispatcher = CollectingDispatcher()
    asyncio.run(ActionAnswerFaq().run(dispatcher, tracker, {}))  # Rasa sends no domain
    return dispatcher.messages


def test_a_sibling_tie_asks_with_both_titles_and_the_choice_is_answered(
    conversation: Conversation, faq_responses
) -> None:
    (message,) = run_answer_action(
        [("internship_insurance", 0.45), ("shadowing_training_insurance", 0.35)]
    )
    assert message["response"] == "utter_faq_which_one"
    assert [b["title"] for b in message["buttons"]] == [
        faq_responses["internship_insurance"]["metadata"]["title"],
        faq_responses["shadowing_training_insurance"]["metadata"]["title"],
    ]
    answer = conversation.say(message["buttons"][1]["payload"])
    assert answer.utter_actions == ["utter_faq/shadowing_training_insurance"]


# Questions that fit both members of a sibling pair equally well.
AMBIGUOUS_BETWEEN_SIBLINGS = (
    "sigorta var mı",
    "sigorta zorunlu mu",
    "süresi ne kadar",
    "son onay geldi şimdi ne yapmam gerekiyor",
    "başka teklif alabilir miyim",
    "programdan ayrılırsam yeni teklif alır mıyım",
    "son onaydan sonra yapmam gereken bir şey var mı",
    "programıma son onay verildi şimdi ne olacak",
)


def test_the_trained_assistant_asks_when_siblings_tie(agent_and_loop, faq_responses) -> None:
    asked = []
    for message in AMBIGUOUS_BETWEEN_SIBLINGS:
        conversation = Conversation(*agent_and_loop)
        turn = conversation.say(message)
        if turn.utter_actions != ["utter_faq_which_one"]:
            continue
        asked.append(message)
        keys = [chosen_key(b) for b in turn.buttons]
        assert frozenset(keys) in SIBLINGS, message
        answer = conversation.say(turn.buttons[1]["payload"])
        assert answer.utter_actions == [f"utter_faq/{keys[1]}"]
    assert asked, "the assistant guessed on every ambiguous sibling question"


def test_an_unclear_question_offers_candidates_and_a_button_answers(
    conversation: Conversation,
) -> None:
    turn = conversation.say("teklif")
    assert turn.utter_actions == ["utter_faq_did_you_mean"]
    assert turn.text == "Bunu mu demek istedin?"
    *topics, none_of_these = turn.buttons
    assert 1 <= len(topics) <= 3
    assert none_of_these == {"title": "Hiçbiri", "payload": "/none_of_these"}
    picked = chosen_key(topics[0])
    assert conversation.say(topics[0]["payload"]).utter_actions == [f"utter_faq/{picked}"]


def test_none_of_the_suggestions_leads_to_the_contact_route(conversation: Conversation) -> None:
    none_of_these = conversation.say("teklif").buttons[-1]
    turn = conversation.say(none_of_these["payload"])
    assert turn.utter_actions == ["utter_none_of_these", "utter_human_handoff"]
    assert "ulusalstajprogrami@cbiko.gov.tr" in turn.text


def test_without_plausible_topics_no_random_suggestions_are_made(
    conversation: Conversation,
) -> None:
    # Fillers sit between chit-chat and not understood (where one lands can move with a
    # retrained model); none may ever be answered with FAQ topics picked at random.
    for filler in ("ya işte", "bilmem ki", "ee yani", "şey yani"):
        turn = conversation.say(filler)
        assert turn.buttons == [], filler
        assert not any(
            action.startswith("utter_faq") and action != "utter_faq_not_understood"
            for action in turn.utter_actions
        ), (filler, turn.utter_actions)
    assert conversation.say("/nlu_fallback").utter_actions == ["utter_faq_not_understood"]


def test_a_payload_for_an_unknown_topic_is_not_answered(conversation: Conversation) -> None:
    turn = conversation.say('/choose_faq{"faq_key": "no_such_topic"}')
    assert turn.utter_actions == ["utter_faq_not_understood"]


def test_the_program_year_is_read_from_the_environment(environment: Environment) -> None:
    environment.set(USP_PROGRAM_YEAR="2031")
    (message,) = run_answer_action([("program_period", 0.9)])
    assert message["response"] == "utter_faq/program_period"
    assert message["program_year"] == 2031
