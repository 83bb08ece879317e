"""How the assistant acts on the response selector's FAQ ranking: answer, ask, or suggest.

Shared by the FAQ action and by `make eval`, so the evaluation measures what students get.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

# The best candidate is answered when its response-selector confidence reaches ANSWER_CONFIDENCE
# or leads the runner-up by ANSWER_MARGIN (with 33 topics the scores of a clear winner are often
# spread thin); otherwise the assistant offers candidates instead of guessing.
ANSWER_CONFIDENCE = 0.5
ANSWER_MARGIN = 0.2
# Two sibling topics whose confidences differ by less than this are asked about, not guessed:
# their answers often contradict each other ("insured" vs "no insurance needed").
SIBLING_MARGIN = 0.3
SUGGESTION_COUNT = 3
# Candidates below this confidence (about three times chance among 33 topics) are not offered:
# for "tamam" or "hmm" three random topics would only confuse.
SUGGESTION_FLOOR = 0.1

# Questions that differ mainly by program type, by accepted/rejected or by quit/withdraw.
SIBLINGS = frozenset(
    frozenset(pair)
    for pair in (
        ("internship_after_final_approval", "shadowing_training_after_final_approval"),
        ("internship_duration", "shadowing_training_duration"),
        ("internship_insurance", "shadowing_training_insurance"),
        ("offers_after_accepting", "offers_after_rejecting"),
        ("quit_program_early", "withdraw_before_start"),
    )
)

Ranking = list[tuple[str, float]]


class FaqMove(str, enum.Enum):
    """What the assistant does with an FAQ question."""

    ANSWER = "answer"
    ASK_SIBLING = "ask_sibling"
    SUGGEST = "suggest"


@dataclass(frozen=True)
class FaqDecision:
    """A move and the FAQ keys it concerns (one to answer, two to ask, up to three to offer)."""

    move: FaqMove
    keys: tuple[str, ...]


def decide(ranking: Ranking) -> FaqDecision:
    """Asks between close siblings; answers a confident or clear winner; otherwise suggests."""
    if not ranking:
        return FaqDecision(FaqMove.SUGGEST, ())
    first, first_score = ranking[0]
    second, second_score = ranking[1] if len(ranking) > 1 else ("", 0.0)
    lead = first_score - second_score
    if frozenset((first, second)) in SIBLINGS and lead < SIBLING_MARGIN:
        return FaqDecision(FaqMove.ASK_SIBLING, (first, second))
    if first_score >= ANSWER_CONFIDENCE or lead >= ANSWER_MARGIN:
        return FaqDecision(FaqMove.ANSWER, (first,))
    return FaqDecision(FaqMove.SUGGEST, suggestions(ranking))


def suggestions(ranking: Ranking) -> tuple[str, ...]:
    """The candidates worth offering as buttons, best first (possibly none)."""
    plausible = [key for key, score in ranking if score >= SUGGESTION_FLOOR]
    return tuple(plausible[:SUGGESTION_COUNT])


def ranking_from_parse(parse_data: dict) -> Ranking:
    """The FAQ candidates in a Rasa parse result, best first.

    A ResponseSelector configured without `retrieval_intent` reports under "default" (as
    Rasa's own retrieval action reads it).
    """
    selectors = parse_data.get("response_selector") or {}
    selector = selectors.get("faq") or selectors.get("default") or {}
    ranking: Ranking = []
    for candidate in selector.get("ranking") or []:
        _, _, key = (candidate.get("intent_response_key") or "").partition("/")
        if key:
            ranking.append((key, float(candidate.get("confidence") or 0.0)))
    return ranking
