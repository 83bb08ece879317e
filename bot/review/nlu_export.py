"""What a reviewer can correct a message to, and the corrections as Rasa NLU training data."""

from __future__ import annotations

import dataclasses
import functools
import re
from pathlib import Path

import yaml

from bot.config import PROJECT_ROOT
from bot.db import review
from bot.db.session import Database
from bot.text.turkish import normalize

NLU_DIR = PROJECT_ROOT / "data" / "nlu"
DOMAIN_DIR = PROJECT_ROOT / "domain"
# Rasa reads "[text](entity)", "[text]{...}" and "[text][...]" in examples as annotations.
_ANNOTATION = re.compile(r"\][(\[{]")


@dataclasses.dataclass(frozen=True)
class Topic:
    """A training intent a message can be corrected to: an intent, or `faq/<key>`."""

    name: str
    label: str

    @property
    def intent(self) -> str:
        """The intent part: "faq" for every FAQ topic."""
        return self.name.partition("/")[0]

    @property
    def faq_key(self) -> str | None:
        """The FAQ topic key, for `faq/<key>`."""
        return self.name.partition("/")[2] or None


def training_examples(nlu_dir: Path) -> dict[str, list[str]]:
    """The examples of every training intent in data/nlu/, by intent."""
    examples: dict[str, list[str]] = {}
    for path in sorted(nlu_dir.glob("*.yml")):
        for item in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu", []):
            if "intent" in item:
                lines = (item.get("examples") or "").splitlines()
                examples.setdefault(item["intent"], []).extend(
                    line.strip()[2:] for line in lines if line.strip().startswith("- ")
                )
    return examples


@functools.lru_cache(maxsize=1)
def topics() -> tuple[Topic, ...]:
    """Every intent with training data, FAQ topics labelled with their question."""
    titles: dict[str, str] = {}
    for path in sorted(DOMAIN_DIR.glob("*.yml")):
        responses = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("responses", {})
        for name, variants in (responses or {}).items():
            if name.startswith("utter_faq/") and variants:
                title = (variants[0].get("metadata") or {}).get("title")
                titles[name.removeprefix("utter_")] = title or name
    names = sorted(training_examples(NLU_DIR), key=lambda n: (not n.startswith("faq/"), n))
    return tuple(Topic(name, titles.get(name, name)) for name in names)


def topic_named(name: str) -> Topic | None:
    """The topic of this name, if the assistant has one."""
    return next((topic for topic in topics() if topic.name == name), None)


def export_yaml(db: Database, nlu_dir: Path = NLU_DIR) -> tuple[str, int]:
    """The corrected examples as a Rasa NLU file, and how many examples it holds.

    Examples already in the training data (after Turkish folding) and repeated corrections
    are left out; so are button payloads ("/intent") and texts Rasa would read as entity
    annotations.
    """
    seen = {
        normalize(text) for examples in training_examples(nlu_dir).values() for text in examples
    }
    by_intent: dict[str, list[str]] = {}
    for intent, raw in review.corrected_examples(db):
        text = " ".join(raw.split())
        folded = normalize(text)
        if not folded or folded in seen or text.startswith("/") or _ANNOTATION.search(text):
            continue
        seen.add(folded)
        by_intent.setdefault(intent, []).append(text)
    lines = [
        "# Examples corrected by staff in the review app (python -m bot export-nlu).",
        "# Merge into data/nlu/ and retrain.",
        'version: "3.1"',
        "nlu:",
    ]
    if not by_intent:
        lines[-1] = "nlu: []"
    for intent in sorted(by_intent):
        lines += [f"- intent: {intent}", "  examples: |"]
        lines += [f"    - {text}" for text in by_intent[intent]]
    return "\n".join(lines) + "\n", sum(len(v) for v in by_intent.values())
