"""`make eval`: NLU figures on the held-out set, our pipeline beside Rasa's default one.

The held-out set (tests/data/nlu_test.yml) is never used for training. Each message is scored by
what the student would get first: the answer of the right FAQ topic counts as correct; asking
between siblings or offering suggestions does not (it is reported separately as "reachable").
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import os
import platform
import shutil
import statistics
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from bot.benchmarks.report import BENCHMARKS, percentile, write_section
from bot.config import PROJECT_ROOT
from bot.faq import FaqMove, decide, ranking_from_parse, suggestions
from bot.model import ensure_trained, train, training_input_files, training_record

TEST_SET = PROJECT_ROOT / "tests" / "data" / "nlu_test.yml"
EVAL_DIR = PROJECT_ROOT / "var" / "eval"
OUT_OF_SCOPE = "out_of_scope"
FALLBACK = "nlu_fallback"


@dataclass
class Report:
    """Scores of one model on the held-out set."""

    name: str
    training_seconds: float | None
    outcomes: list[tuple[str, str, bool]] = field(default_factory=list)  # label, got, reachable
    latencies_ms: list[float] = field(default_factory=list)

    def _share(self, rows: list[tuple[str, str, bool]], ok) -> float:
        return sum(1 for row in rows if ok(row)) / len(rows) if rows else float("nan")

    @property
    def faq_rows(self) -> list[tuple[str, str, bool]]:
        return [row for row in self.outcomes if row[0].startswith("faq/")]

    @property
    def faq_accuracy(self) -> float:
        return self._share(self.faq_rows, lambda row: row[1] == row[0])

    @property
    def faq_reachable(self) -> float:
        return self._share(self.faq_rows, lambda row: row[1] == row[0] or row[2])

    @property
    def oos_rows(self) -> list[tuple[str, str, bool]]:
        return [row for row in self.outcomes if row[0] == OUT_OF_SCOPE]

    @property
    def oos_detected(self) -> float:
        """Out-of-scope messages not answered with an FAQ topic (out_of_scope or fallback)."""
        return self._share(self.oos_rows, lambda row: row[1] in (OUT_OF_SCOPE, FALLBACK))

    @property
    def oos_strict(self) -> float:
        return self._share(self.oos_rows, lambda row: row[1] == OUT_OF_SCOPE)

    @property
    def wrong_answers(self) -> int:
        """Messages answered with something else than what they asked (not a clarification)."""
        not_answers = (OUT_OF_SCOPE, FALLBACK, FaqMove.SUGGEST.value, FaqMove.ASK_SIBLING.value)
        return sum(1 for label, got, _ in self.outcomes if got != label and got not in not_answers)

    @property
    def other_accuracy(self) -> float:
        """Chit-chat and status intents: the predicted intent is the expected one."""
        rows = [r for r in self.outcomes if not r[0].startswith("faq/") and r[0] != OUT_OF_SCOPE]
        return self._share(rows, lambda row: row[1] == row[0])

    def per_key(self) -> dict[str, float]:
        by_key: dict[str, list[bool]] = defaultdict(list)
        for label, got, _ in self.faq_rows:
            by_key[label.removeprefix("faq/")].append(got == label)
        return {key: sum(hits) / len(hits) for key, hits in by_key.items()}

    def confusions(self, top: int = 10) -> list[tuple[tuple[str, str], int]]:
        wrong = Counter((label, got) for label, got, _ in self.outcomes if got != label)
        return wrong.most_common(top)

    def latency(self, quantile: float) -> float:
        return percentile(self.latencies_ms, quantile)


def load_test_set() -> list[tuple[str, str]]:
    """(message, label) pairs; FAQ labels are `faq/<key>`."""
    from rasa.shared.nlu.training_data.loading import load_data

    data = load_data(str(TEST_SET))
    return [(ex.get("text"), ex.get_full_intent()) for ex in data.intent_examples]


def outcome(parse: dict) -> tuple[str, bool, tuple[str, ...]]:
    """What the student gets first, as a label, and the topics offered if it is not an answer."""
    intent = (parse.get("intent") or {}).get("name") or ""
    ranking = ranking_from_parse(parse)
    if intent == FALLBACK:
        return FALLBACK, False, suggestions(ranking)
    if intent != "faq":
        return intent, False, ()
    decision = decide(ranking)
    if decision.move is FaqMove.ANSWER:
        return f"faq/{decision.keys[0]}", False, ()
    return decision.move.value, False, decision.keys


async def _score(name: str, model: Path, cases: list[tuple[str, str]]) -> Report:
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))
    for text, _ in cases[:5]:  # warm-up: the first TensorFlow calls build graphs
        await agent.parse_message(text)
    report = Report(name, training_record(model).get("training_seconds"))
    for text, label in cases:
        started = time.perf_counter()
        parse = await agent.parse_message(text)
        report.latencies_ms.append((time.perf_counter() - started) * 1000)
        got, _, offered = outcome(parse)
        reachable = label.startswith("faq/") and label.removeprefix("faq/") in offered
        report.outcomes.append((label, got, reachable))
    return report


def default_pipeline_model() -> Path:
    """Rasa's default pipeline (the config `rasa init` writes), trained on our NLU data."""
    import rasa.cli

    init_config = Path(rasa.cli.__file__).parent / "initial_project" / "config.yml"
    digest = hashlib.sha256(init_config.read_bytes())
    for path in training_input_files(PROJECT_ROOT):
        if path.parts[-3:-1] == ("data", "nlu") or "domain" in path.parts:
            digest.update(path.read_bytes())
    model = EVAL_DIR / f"default-pipeline-{digest.hexdigest()[:16]}.tar.gz"
    if model.exists():
        return model
    EVAL_DIR.mkdir(parents=True, exist_ok=True)
    config = EVAL_DIR / "default-config.yml"  # rasa rewrites the file it is given: use a copy
    shutil.copy(init_config, config)
    print("Training Rasa's default pipeline on the same NLU data ...", flush=True)
    command = [
        sys.executable,
        "-m",
        "rasa",
        "train",
        "nlu",
        "--config",
        str(config),
        "--domain",
        "domain",
        "--nlu",
        "data/nlu",
        "--out",
        str(EVAL_DIR),
        "--fixed-model-name",
        model.name.removesuffix(".tar.gz"),
    ]
    train(command, model, PROJECT_ROOT)
    return model


def _pct(value: float) -> str:
    return f"{value:.3f}"


def _seconds(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0f} s"


def markdown(ours: Report, default: Report | None, cases: int) -> str:
    """The `make eval` section of docs/BENCHMARKS.md."""
    reports = [ours] + ([default] if default else [])
    header = "| metric | floor | " + " | ".join(r.name for r in reports) + " |"
    rule = "|---|---|" + "---|" * len(reports)
    rows = [
        (
            "FAQ accuracy (first reply is the right answer)",
            ">= 0.95",
            [_pct(r.faq_accuracy) for r in reports],
        ),
        (
            "FAQ reachable (answer, or offered as a button)",
            "",
            [_pct(r.faq_reachable) for r in reports],
        ),
        (
            "out-of-scope detected (out_of_scope or fallback)",
            ">= 0.90",
            [_pct(r.oos_detected) for r in reports],
        ),
        ("out-of-scope as `out_of_scope` exactly", "", [_pct(r.oos_strict) for r in reports]),
        ("chit-chat and status intents", "", [_pct(r.other_accuracy) for r in reports]),
        (
            f"wrong answers given (of {len(ours.outcomes)} messages)",
            "",
            [str(r.wrong_answers) for r in reports],
        ),
        (
            "parse latency p50 (in-process)",
            "",
            [f"{statistics.median(r.latencies_ms):.1f} ms" for r in reports],
        ),
        (
            "parse latency p95 (in-process)",
            "<= 30 ms",
            [f"{r.latency(0.95):.1f} ms" for r in reports],
        ),
        ("training time", "<= 5 min", [_seconds(r.training_seconds) for r in reports]),
    ]
    lines = [
        "## NLU on the held-out set (`make eval`)",
        "",
        f"Measured {dt.date.today().isoformat()} on this machine ({os.cpu_count()} cores, "
        f"Python {platform.python_version()}), {cases} messages of `tests/data/nlu_test.yml` "
        '(never used for training). "ours" is `config.yml` (the full model, NLU and dialogue, '
        'training time included); "rasa default" is the config `rasa init` writes, NLU only, '
        "trained on the same `data/nlu`. Both are scored through the same answer / ask / "
        "suggest decision the FAQ action makes (`bot/faq.py`).",
        "",
        header,
        rule,
        *(f"| {name} | {floor} | " + " | ".join(values) + " |" for name, floor, values in rows),
        "",
        "### Accuracy per FAQ key",
        "",
        "| key | " + " | ".join(r.name for r in reports) + " |",
        "|---|" + "---|" * len(reports),
    ]
    per_key = [r.per_key() for r in reports]
    for key in per_key[0]:
        lines.append(f"| {key} | " + " | ".join(_pct(p.get(key, 0.0)) for p in per_key) + " |")
    lines += [
        "",
        f"### Worst confusions ({ours.name})",
        "",
        "| expected | got | count |",
        "|---|---|---|",
    ]
    lines += [f"| {label} | {got} | {count} |" for (label, got), count in ours.confusions()]
    return "\n".join(lines)


def main(skip_default: bool = False) -> int:
    """Trains (or reuses) both models, scores them, prints and records the figures."""
    cases = load_test_set()
    ours_model = ensure_trained()
    default_model = None if skip_default else default_pipeline_model()
    ours = asyncio.run(_score("ours", ours_model, cases))
    default = asyncio.run(_score("rasa default", default_model, cases)) if default_model else None
    section = markdown(ours, default, len(cases))
    print(section)
    write_section("eval", section)
    print(f"\nWritten to {BENCHMARKS.relative_to(PROJECT_ROOT)}")
    return 0
