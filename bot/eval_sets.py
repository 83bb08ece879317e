"""The independent evaluation sets: their labels, their frozen files, and how they are read.

The sets under `tests/data/eval/` were written by people who never saw `data/nlu/`, from the FAQ
text (`docs/source/usp_sss_ocr.txt`) and a description of how students write, one writer per
style. Each writer's messages are split by a hash of the text: about a third is *sealed*
(gzip-compressed, only ever read by `make eval`, which prints nothing but aggregate figures for
it), the rest is the *dev* part that tuning may look at. Frozen files are listed with their
SHA-256 in `tests/data/eval/FROZEN.sha256`; a test fails if one changes.

Pure Python (PyYAML only): no Rasa import, so the freezing tool and the tests stay light.

Usage (the writers run it; nobody edits a frozen file):

    python -m bot.eval_sets freeze-messages RAW.yml --style ascii --author "..."
    python -m bot.eval_sets freeze-dialogues RAW.yml --part dev|sealed --author "..."
"""

from __future__ import annotations

import argparse
import fcntl
import gzip
import hashlib
import io
import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

PROJECT_ROOT = Path(__file__).resolve().parent.parent
EVAL_DIR = PROJECT_ROOT / "tests" / "data" / "eval"
MESSAGES_DIR = EVAL_DIR / "messages"
SEALED_DIR = EVAL_DIR / "sealed"
DIALOGUE_DEV = PROJECT_ROOT / "tests" / "data" / "dialogue_test.yml"
DIALOGUE_SEALED = SEALED_DIR / "dialogues.yml.gz"
MANIFEST = EVAL_DIR / "FROZEN.sha256"

STYLES = ("ascii", "typos", "long", "greeting", "numbers", "colloquial", "formal")

FAQ_KEYS = (
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
)
STATUS_INTENTS = (
    "check_pending_offers",
    "check_offer_details",
    "check_calendar",
    "check_insurance_status",
    "check_rights_left",
    "check_interviews",
    "check_stipend",
    "link_account",
    "unlink_account",
)
CHITCHAT_INTENTS = (
    "greet",
    "goodbye",
    "thank",
    "acknowledge",
    "bot_challenge",
    "help",
    "human_handoff",
)
OUT_OF_SCOPE = "out_of_scope"
CONTENT_GAP = "content_gap"
NONE_OF_THESE = "none_of_these"


def kind_of(label: str) -> str:
    """`faq`, `status`, `chitchat`, `out_of_scope` or `content_gap`; ValueError if unknown."""
    if label.startswith("faq/") and label.removeprefix("faq/") in FAQ_KEYS:
        return "faq"
    if label in STATUS_INTENTS:
        return "status"
    if label in CHITCHAT_INTENTS:
        return "chitchat"
    if label in (OUT_OF_SCOPE, CONTENT_GAP):
        return label
    raise ValueError(f"unknown label {label!r}")


@dataclass(frozen=True)
class Message:
    """One test message: its text, the expected label and what else would fully answer it."""

    text: str
    label: str
    style: str
    also: tuple[str, ...] = ()
    near: bool = False  # out-of-scope that shares words or setting with the program

    @property
    def kind(self) -> str:
        return kind_of(self.label)

    @property
    def accepted(self) -> tuple[str, ...]:
        return (self.label, *self.also)


@dataclass(frozen=True)
class Turn:
    """One student turn of a dialogue; `expect` is set on the scored (last) turn only.

    `expect` lists the labels of the reply, in order (two for a message with two questions);
    `case` names the case of a multi-case answer the reply must open with (for example
    `{"program": "shadowing_training"}` for pay in job shadowing).
    """

    text: str
    expect: tuple[str, ...] = ()
    case: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Dialogue:
    """A short conversation; only its last turn is scored."""

    name: str
    kind: str
    turns: tuple[Turn, ...]
    linked: bool = False  # the student's chat is linked (verified) when true


def _message_from(raw: dict, style: str) -> Message:
    text = str(raw["text"]).strip()
    label = str(raw["label"]).strip()
    also = tuple(str(a).strip() for a in raw.get("also") or ())
    for name in (label, *also):
        kind_of(name)
    if not text:
        raise ValueError("empty text")
    return Message(text, label, style, also, bool(raw.get("near", False)))


def parse_messages(document: dict) -> list[Message]:
    """The messages of one style file (raw or frozen); ValueError on any unknown label."""
    style = str(document["style"])
    if style not in STYLES:
        raise ValueError(f"unknown style {style!r}; one of {STYLES}")
    return [_message_from(raw, style) for raw in document["messages"]]


def parse_dialogues(document: dict) -> list[Dialogue]:
    """The dialogues of one file (raw or frozen); ValueError on a malformed one."""
    dialogues = []
    for raw in document["dialogues"]:
        turns = []
        for raw_turn in raw["turns"]:
            raw_turn = {"text": raw_turn} if isinstance(raw_turn, str) else raw_turn
            expect = raw_turn.get("expect") or ()
            expect = (expect,) if isinstance(expect, str) else tuple(expect)
            for label in expect:
                if label != NONE_OF_THESE:
                    kind_of(label)
            turns.append(Turn(str(raw_turn["text"]), expect, dict(raw_turn.get("case") or {})))
        if not turns or not turns[-1].expect:
            raise ValueError(f"dialogue {raw.get('name')!r}: the last turn needs `expect`")
        dialogues.append(
            Dialogue(str(raw["name"]), str(raw["kind"]), tuple(turns), bool(raw.get("linked")))
        )
    return dialogues


def is_sealed(text: str) -> bool:
    """About a third of the messages, chosen by a hash of the text (not by anyone's choice)."""
    return int(hashlib.sha256(text.encode("utf-8")).hexdigest(), 16) % 3 == 0


def _dump(document: dict) -> str:
    return yaml.safe_dump(document, allow_unicode=True, sort_keys=False, width=100)


def _write_gz(path: Path, text: str) -> None:
    # mtime=0: the same content gives the same bytes, so the manifest hash is reproducible
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as gz:
        gz.write(text.encode("utf-8"))
    path.write_bytes(buffer.getvalue())


def _record(paths: Iterable[Path]) -> None:
    EVAL_DIR.mkdir(parents=True, exist_ok=True)
    with (EVAL_DIR / ".manifest.lock").open("w") as lock:  # writers may freeze at the same time
        fcntl.flock(lock, fcntl.LOCK_EX)
        lines = MANIFEST.read_text(encoding="utf-8").splitlines() if MANIFEST.exists() else []
        entries = dict(line.split("  ", 1)[::-1] for line in lines if line.strip())
        for path in paths:
            name = os.path.relpath(path, EVAL_DIR)
            entries[name] = hashlib.sha256(path.read_bytes()).hexdigest()
        MANIFEST.write_text(
            "".join(f"{digest}  {name}\n" for name, digest in sorted(entries.items())),
            encoding="utf-8",
        )


def _refuse_overwrite(*paths: Path) -> None:
    for path in paths:
        if path.exists():
            raise SystemExit(f"{path} is frozen; a frozen set is never rewritten")


def freeze_messages(raw_path: Path, style: str, author: str) -> tuple[int, int]:
    """Splits a writer's raw file into the dev and sealed parts; returns (dev, sealed) counts."""
    document = yaml.safe_load(raw_path.read_text(encoding="utf-8"))
    document["style"] = style
    messages = parse_messages(document)
    dev_path, sealed_path = MESSAGES_DIR / f"{style}.yml", SEALED_DIR / f"{style}.yml.gz"
    _refuse_overwrite(dev_path, sealed_path)
    seen: set[str] = set()
    dev, sealed = [], []
    for raw, message in zip(document["messages"], messages, strict=True):
        if message.text.casefold() in seen:
            continue
        seen.add(message.text.casefold())
        (sealed if is_sealed(message.text) else dev).append(raw)
    header = {"style": style, "author": author}
    MESSAGES_DIR.mkdir(parents=True, exist_ok=True)
    SEALED_DIR.mkdir(parents=True, exist_ok=True)
    dev_path.write_text(_dump({**header, "part": "dev", "messages": dev}), encoding="utf-8")
    _write_gz(sealed_path, _dump({**header, "part": "sealed", "messages": sealed}))
    _record([dev_path, sealed_path])
    return len(dev), len(sealed)


def freeze_dialogues(raw_path: Path, part: str, author: str) -> int:
    """Freezes a writer's dialogue file as the dev or the sealed dialogue set."""
    document = yaml.safe_load(raw_path.read_text(encoding="utf-8"))
    dialogues = parse_dialogues(document)
    target = DIALOGUE_DEV if part == "dev" else DIALOGUE_SEALED
    _refuse_overwrite(target)
    body = {"author": author, "part": part, "dialogues": document["dialogues"]}
    if part == "dev":
        target.write_text(_dump(body), encoding="utf-8")
    else:
        SEALED_DIR.mkdir(parents=True, exist_ok=True)
        _write_gz(target, _dump(body))
    _record([target])
    return len(dialogues)


def _read(path: Path) -> dict:
    if path.suffix == ".gz":
        return yaml.safe_load(gzip.decompress(path.read_bytes()).decode("utf-8"))
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def load_messages(part: str) -> list[Message]:
    """Every frozen message of `part` ("dev" or "sealed"), style by style."""
    folder, suffix = (MESSAGES_DIR, ".yml") if part == "dev" else (SEALED_DIR, ".yml.gz")
    messages: list[Message] = []
    for style in STYLES:
        path = folder / f"{style}{suffix}"
        if path.exists():
            messages += parse_messages(_read(path))
    return messages


def load_dialogues(part: str) -> list[Dialogue]:
    """The frozen dialogue set `part` ("dev" or "sealed"); empty if not written yet."""
    path = DIALOGUE_DEV if part == "dev" else DIALOGUE_SEALED
    return parse_dialogues(_read(path)) if path.exists() else []


def frozen_files() -> dict[str, str]:
    """Relative path -> recorded SHA-256 of every frozen file."""
    if not MANIFEST.exists():
        return {}
    return {
        name: digest
        for digest, name in (line.split("  ", 1) for line in MANIFEST.read_text().splitlines())
    }  # names relative to tests/data/eval/ (the dev dialogues are ../dialogue_test.yml)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.eval_sets", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    freeze = commands.add_parser("freeze-messages", help="freeze one style's messages")
    freeze.add_argument("raw", type=Path)
    freeze.add_argument("--style", choices=STYLES, required=True)
    freeze.add_argument("--author", required=True)
    dialogues = commands.add_parser("freeze-dialogues", help="freeze a dialogue set")
    dialogues.add_argument("raw", type=Path)
    dialogues.add_argument("--part", choices=("dev", "sealed"), required=True)
    dialogues.add_argument("--author", required=True)
    check = commands.add_parser("check", help="validate a raw file without freezing it")
    check.add_argument("raw", type=Path)
    args = parser.parse_args(argv)
    if args.command == "freeze-messages":
        dev, sealed = freeze_messages(args.raw, args.style, args.author)
        print(f"frozen {args.style}: {dev} dev, {sealed} sealed")
    elif args.command == "freeze-dialogues":
        print(f"frozen {args.part} dialogues: {freeze_dialogues(args.raw, args.part, args.author)}")
    else:
        document = yaml.safe_load(args.raw.read_text(encoding="utf-8"))
        if "dialogues" in document:
            print(f"{len(parse_dialogues(document))} dialogues, valid")
        else:
            messages = parse_messages(document)
            kinds: dict[str, int] = {}
            for message in messages:
                kinds[message.kind] = kinds.get(message.kind, 0) + 1
            faq = {m.label for m in messages if m.kind == "faq"}
            status = {m.label for m in messages if m.kind == "status"}
            print(
                f"{len(messages)} messages, valid; per kind {kinds}; "
                f"FAQ topics {len(faq)}/33; status intents {len(status)}/{len(STATUS_INTENTS)}; "
                f"near out-of-scope {sum(m.near for m in messages)}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
