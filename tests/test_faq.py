"""The 33 FAQ topics: data, answers, and conversations through the trained assistant."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from bot.config import PROJECT_ROOT, SOURCE_PROGRAM_YEAR
from bot.faq import ANSWER_CONFIDENCE, ANSWER_MARGIN, SIBLINGS, FaqDecision, FaqMove, decide
from bot.nlu.turkish import fold
from tests.conftest import load_yaml

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
    leaked = [e for examples in held_out.values() for e in examples if fold(e) in training]
    assert leaked == []


def test_answers_state_only_figures_addresses_and_links_of_the_source(faq_responses) -> None:
    folded_source = fold(SOURCE)
    for key, response in faq_responses.items():
        text = response["text"]
        for email in re.findall(r"[\w.]+@[\w.]+\w", text):
            assert email == "ulusalstajprogrami@cbiko.gov.tr", key
        for url in re.findall(r"https?://\S+?(?=[)\s]|$)", text):
            assert url in SOURCE, key
        for number in re.findall(r"(?<![\w{])\d+(?![\w}])", text):
            assert number in folded_source, (key, number)


def test_the_program_year_comes_from_configuration(faq_responses) -> None:
    texts = "\n".join(response["text"] for response in faq_responses.values())
    assert str(SOURCE_PROGRAM_YEAR) not in texts
    assert "{program_year}" in faq_responses["program_period"]["text"]
    assert str(SOURCE_PROGRAM_YEAR) in SOURCE


def test_rasa_data_validate_reports_no_errors() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "rasa", "data", "validate", "--domain", "domain", "--data", "data",
         "--config", "config.yml"],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=600,
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


def test_sibling_pairs_are_the_ones_the_issue_names() -> None:
    assert len(SIBLINGS) == 5
    assert all(set(pair) <= set(FAQ_KEYS) for pair in SIBLINGS)


# --- conversations through the trained assistant -------------------------------------------


@pytest.mark.parametrize("key", FAQ_KEYS)
def test_each_question_gets_its_answer(key: str, faq_responses, conversation) -> None:
    turn = conversation.say(faq_responses[key]["metadata"]["title"])
    assert turn.utter_actions == [f"utter_faq/{key}"]
    assert turn.texts == [faq_responses[key]["text"].format(program_year=SOURCE_PROGRAM_YEAR)]
