"""`make bench-review`: review pages on 100,000 conversations / 2,000,000 events in PostgreSQL.

Creates a throwaway database on TEST_POSTGRES_URL's server, bulk-loads realistic masked
transcripts with COPY (Rasa's `events` table and the review index), serves the review app on
a free port and times its list page (with each filter) and conversation pages over HTTP.
Writes the figures to docs/BENCHMARKS.md (own section) and drops the database.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import json
import os
import random
import re
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import httpx
import yaml
from sqlalchemy import create_engine, text

from bot import senders
from bot.benchmarks.report import BENCHMARKS, percentile, write_section
from bot.config import PROJECT_ROOT, load_settings
from bot.db import staff
from bot.db.migrate import upgrade
from bot.db.models import StaffRole
from bot.db.session import Database
from bot.review.nlu_export import NLU_DIR, training_examples
from bot.runner import free_port
from bot.text.turkish import normalize

ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
CONVERSATIONS = 100_000
BATCH = 5_000
RUNS = 40
FLOOR_MS = 200.0
PASSWORD = "bench-parola-123"
TAGS = ["ücret", "sigorta", "kapsam dışı", "şikayet", "eğitim verisi"]
CHANNEL_WEIGHTS = {senders.TELEGRAM: 35, senders.WEB: 25, senders.WEB_ANON: 25, senders.REST: 15}
FALLBACK_TEXTS = [
    "ya bu ne şimdi",
    "anlamadım",
    "kpss tercih robotu",
    "yurt başvurusu ne zaman",
    "burs çıktı mı",
    "hocam not ortalamam düşük",
    "asdfgh",
    "sınav sonuçları",
    "askerlik tecili",
    "erasmus başvurusu",
    "okul kaydı yenileme",
    "harç iadesi",
]
INDEX_NOTE = (
    "Indexes the queries use (migration 0003): `review_conversations` on `started_at`, "
    "`(channel, started_at)`, `(sender_id, started_at)`, `min_confidence`, `last_event_at`; "
    "`review_messages` on `(conversation_id, position)`, `intent`, `faq_key`, `sent_at`; "
    "`review_tags` on `tag`. The list is newest first with `LIMIT 51` and no `COUNT`, so "
    "most filters read a few index pages. The FAQ-topic filter and the text search check "
    "the messages of each conversation (`EXISTS`); that is where their time goes. The "
    "misunderstood queue groups every unhandled fallback or low-confidence message and is "
    "the slowest page; it has no floor."
)
SEARCHES = ["sigorta", "ücret", "teklif", "kpss", "takvim", "iş gölgeleme", "mülakat", "harç"]


def _intent_mix(examples: dict[str, list[str]]) -> list[tuple[str, int]]:
    """Training intents with realistic weights: the FAQ dominates, a few topics most."""
    faq = sorted(name for name in examples if name.startswith("faq/"))
    mix = [(name, max(60 // (rank + 1), 2)) for rank, name in enumerate(faq)]
    other = {
        "greet": 40,
        "thank": 30,
        "goodbye": 10,
        "acknowledge": 15,
        "help": 10,
        "human_handoff": 6,
        "out_of_scope": 12,
        "check_pending_offers": 15,
        "check_calendar": 8,
        "check_insurance_status": 8,
        "link_account": 5,
    }
    mix += [(name, weight) for name, weight in other.items() if name in examples]
    return [*mix, ("nlu_fallback", 25), ("none_of_these", 3)]


def _faq_answers() -> dict[str, str]:
    responses = yaml.safe_load((PROJECT_ROOT / "domain" / "faq.yml").read_text("utf-8"))
    return {
        name.removeprefix("utter_faq/"): variants[0]["text"]
        for name, variants in responses["responses"].items()
        if name.startswith("utter_faq/")
    }


@dataclasses.dataclass
class Generator:
    """Realistic masked transcripts, written as CSV for COPY."""

    rng: random.Random
    examples: dict[str, list[str]]
    answers: dict[str, str]
    now: dt.datetime

    def __post_init__(self) -> None:
        mix = _intent_mix(self.examples)
        self.intents = [name for name, _ in mix]
        self.weights = [weight for _, weight in mix]
        self.folded: dict[str, str] = {}
        self.answer_texts = list(self.answers.values())

    def fold(self, message: str) -> str:
        """Turkish folding, cached (the generator repeats texts)."""
        if message not in self.folded:
            self.folded[message] = normalize(message)
        return self.folded[message]

    def conversation(self, conversation_id: int, writers: dict[str, Any]) -> int:
        """Writes one conversation's events and index rows; returns its event count."""
        rng = self.rng
        channel = rng.choices(list(CHANNEL_WEIGHTS), list(CHANNEL_WEIGHTS.values()))[0]
        user = rng.randrange(60_000)
        sender = channel.sender_id(
            {
                senders.TELEGRAM: f"{10_000_000 + user}",
                senders.WEB: f"{user}",
                senders.WEB_ANON: f"{user:08x}",
                senders.REST: f"{user:06x}",
            }[channel]
        )
        linked = channel.names_student or (channel is senders.TELEGRAM and user % 10 < 7)
        started = self.now - dt.timedelta(seconds=rng.randrange(180 * 86400))
        turns = min(1 + int(rng.expovariate(1 / 4.4)), 12)
        stamp = started.timestamp()
        events = writers["events"]
        for name in ("action_session_start", "session_started", "action_listen"):
            kind = "session_started" if name == "session_started" else "action"
            data = {"event": kind, "timestamp": stamp}
            if kind == "action":
                data.update(name=name, policy=None, confidence=1.0)
            events.writerow([sender, kind, stamp, None, data.get("name"), json.dumps(data)])
        min_confidence, fell_back, asked_human = 1.0, False, False
        for turn in range(turns):
            when = started + dt.timedelta(seconds=20 * turn + rng.randrange(15))
            stamp = when.timestamp()
            intent_name = rng.choices(self.intents, self.weights)[0]
            intent, _, faq_key = intent_name.partition("/")
            if intent == "nlu_fallback":
                message = rng.choice(FALLBACK_TEXTS)
                confidence = rng.uniform(0.1, 0.4)
            elif intent == "none_of_these":
                message, confidence = "/none_of_these", 1.0
            else:
                message = rng.choice(self.examples[intent_name])
                confidence = rng.betavariate(8, 1.2)
            if rng.random() < 0.03:
                message += " numaram [telefon]"
            action = (
                "action_answer_faq"
                if intent == "faq"
                else ("action_default_fallback" if intent == "nlu_fallback" else f"utter_{intent}")
            )
            answer = self.answers.get(faq_key) or rng.choice(self.answer_texts)[:200]
            parse = {
                "intent": {"name": intent, "confidence": confidence},
                "entities": [],
                "text": message,
                "intent_ranking": [{"name": intent, "confidence": confidence}],
            }
            if faq_key:
                parse["response_selector"] = {
                    "faq": {
                        "response": {
                            "intent_response_key": intent_name,
                            "confidence": confidence,
                            "utter_action": f"utter_{intent_name}",
                        }
                    }
                }
            user_event = {
                "event": "user",
                "timestamp": stamp,
                "text": message,
                "parse_data": parse,
                "input_channel": channel.name,
                "message_id": uuid.UUID(int=rng.getrandbits(128)).hex,
            }
            bot_event = {
                "event": "bot",
                "timestamp": stamp,
                "text": answer,
                "data": {},
                "metadata": {"utter_action": f"utter_{intent_name}"},
            }
            events.writerow([sender, "user", stamp, intent, None, json.dumps(user_event)])
            events.writerow(
                [
                    sender,
                    "action",
                    stamp,
                    None,
                    action,
                    json.dumps(
                        {
                            "event": "action",
                            "timestamp": stamp,
                            "name": action,
                            "policy": "RulePolicy",
                            "confidence": 1.0,
                        }
                    ),
                ]
            )
            events.writerow([sender, "bot", stamp, None, None, json.dumps(bot_event)])
            events.writerow(
                [
                    sender,
                    "action",
                    stamp,
                    None,
                    "action_listen",
                    json.dumps({"event": "action", "timestamp": stamp, "name": "action_listen"}),
                ]
            )
            iso = when.isoformat()
            low = intent == "nlu_fallback"
            message_id = conversation_id * 100 + turn * 2
            writers["messages"].writerow(
                [
                    message_id,
                    conversation_id,
                    turn * 2 + 1,
                    iso,
                    "user",
                    message,
                    self.fold(message),
                    intent,
                    faq_key or None,
                    round(confidence, 4),
                    low,
                    None,
                ]
            )
            writers["messages"].writerow(
                [
                    message_id + 1,
                    conversation_id,
                    turn * 2 + 2,
                    iso,
                    "bot",
                    answer,
                    "",
                    None,
                    None,
                    None,
                    False,
                    action,
                ]
            )
            if (low or confidence < 0.5) and rng.random() < 0.05:
                writers["corrections"].writerow([message_id, "out_of_scope", None, 1, iso])
            min_confidence = min(min_confidence, confidence)
            fell_back = fell_back or low
            asked_human = asked_human or intent in ("human_handoff", "none_of_these")
        last = started + dt.timedelta(seconds=20 * turns)
        reviewed = rng.random() < 0.1
        writers["conversations"].writerow(
            [
                conversation_id,
                sender,
                channel.prefix,
                started.isoformat(),
                last.isoformat(),
                turns,
                round(min_confidence, 4),
                fell_back,
                asked_human,
                linked,
                last.isoformat() if reviewed else None,
                1 if reviewed else None,
            ]
        )
        if rng.random() < 0.02:
            writers["tags"].writerow([conversation_id, rng.choice(TAGS)])
        return 3 + 4 * turns


COPY_COLUMNS = {
    "events": "events (sender_id, type_name, timestamp, intent_name, action_name, data)",
    "conversations": (
        "review_conversations (id, sender_id, channel, started_at, last_event_at, "
        "turns, min_confidence, fell_back, asked_human, linked, reviewed_at, "
        "reviewed_by)"
    ),
    "messages": (
        "review_messages (id, conversation_id, position, sent_at, kind, text, "
        "folded_text, intent, faq_key, confidence, fell_back, action)"
    ),
    "corrections": "review_corrections (message_id, intent, faq_key, staff_id, created_at)",
    "tags": "review_tags (conversation_id, tag)",
}


def load(db: Database, conversations: int, progress: Callable[[str], None]) -> int:
    """Generates and COPYs the transcripts; returns the number of events."""
    generator = Generator(
        random.Random(7),
        training_examples(NLU_DIR),
        _faq_answers(),
        dt.datetime.now(dt.timezone.utc),
    )
    total_events = 0
    raw = db.engine.raw_connection()
    try:
        cursor = raw.cursor()
        for start in range(1, conversations + 1, BATCH):
            buffers = {name: io.StringIO() for name in COPY_COLUMNS}
            writers = {name: csv.writer(buffer) for name, buffer in buffers.items()}
            for conversation_id in range(start, min(start + BATCH, conversations + 1)):
                total_events += generator.conversation(conversation_id, writers)
            for name in ("events", "conversations", "messages", "corrections", "tags"):
                buffers[name].seek(0)
                options = ", FORCE_NOT_NULL (text, folded_text)" if name == "messages" else ""
                cursor.copy_expert(
                    f"COPY {COPY_COLUMNS[name]} FROM STDIN WITH (FORMAT csv{options})",
                    buffers[name],
                )
            raw.commit()
            progress(
                f"  {min(start + BATCH - 1, conversations):>7} conversations, "
                f"{total_events:>9} events"
            )
        for table in ("review_conversations", "review_messages"):
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT max(id) FROM {table}))"
            )
        raw.commit()
        raw.set_isolation_level(0)
        cursor.execute("VACUUM ANALYZE")
    finally:
        raw.close()
    return total_events


def serving(db: Database) -> AbstractContextManager[str]:
    """The review app on `db` in a background thread, on a free port."""
    from bot.review.server import serving_in_thread

    return serving_in_thread(db, dataclasses.replace(load_settings(), review_port=free_port()))


def _login(base: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=30)
    token = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text).group(1)
    client.post("/login", data={"username": "bench", "password": PASSWORD, "csrf": token})
    return client


def _time(
    client: httpx.Client, paths: Callable[[], tuple[str, dict[str, str]]], runs: int
) -> list[float]:
    for _ in range(3):  # warm-up
        path, params = paths()
        client.get(path, params=params)
    timings = []
    for _ in range(runs):
        path, params = paths()
        started = time.perf_counter()
        answer = client.get(path, params=params)
        timings.append((time.perf_counter() - started) * 1000)
        if answer.status_code != 200:
            raise RuntimeError(f"{path} {params} answered {answer.status_code}")
    return timings


def scenarios(rng: random.Random, conversations: int, now: dt.date) -> dict[str, Any]:
    """What to time: the list page with each filter, and conversation pages."""
    faq_keys = sorted(k for k in training_examples(NLU_DIR) if k.startswith("faq/"))

    def week() -> dict[str, str]:
        end = now - dt.timedelta(days=rng.randrange(170))
        return {"from": str(end - dt.timedelta(days=7)), "to": str(end)}

    return {
        "list, no filter (pages 1–5)": lambda: ("/conversations", {"page": str(rng.randint(1, 5))}),
        "list, page 40": lambda: ("/conversations", {"page": "40"}),
        "list, 7-day date range": lambda: ("/conversations", week()),
        "list, channel": lambda: (
            "/conversations",
            {"channel": rng.choice(list(CHANNEL_WEIGHTS)).prefix},
        ),
        "list, FAQ topic (any of 33)": lambda: ("/conversations", {"topic": rng.choice(faq_keys)}),
        "list, intent human_handoff": lambda: ("/conversations", {"topic": "human_handoff"}),
        "list, misunderstood": lambda: ("/conversations", {"misunderstood": "1"}),
        "list, asked for a person": lambda: ("/conversations", {"human": "1"}),
        "list, tag": lambda: ("/conversations", {"tag": rng.choice(TAGS)}),
        "list, not reviewed": lambda: ("/conversations", {"reviewed": "no"}),
        "list, reviewed": lambda: ("/conversations", {"reviewed": "yes"}),
        "list, text search": lambda: ("/conversations", {"q": rng.choice(SEARCHES)}),
        "list, channel + misunderstood + date range": lambda: (
            "/conversations",
            {"channel": senders.TELEGRAM.prefix, "misunderstood": "1", **week()},
        ),
        "conversation page": lambda: (f"/conversations/{rng.randint(1, conversations)}", {}),
        "misunderstood queue (not floored)": lambda: ("/misunderstood", {}),
        "dashboard data, 30 days (not floored)": lambda: ("/api/dashboard", {}),
    }


def main(conversations: int = CONVERSATIONS, runs: int = RUNS) -> int:
    """Loads, measures, records, drops the database."""
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"staj_bench_review_{uuid.uuid4().hex[:8]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin.url.set(database=name).render_as_string(hide_password=False)
    try:
        return _measure(url, conversations, runs)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _measure(url: str, conversations: int, runs: int) -> int:
    from rasa.core.tracker_store import SQLTrackerStore

    upgrade(url)
    db = Database(url)
    SQLTrackerStore.Base.metadata.create_all(db.engine)
    staff.add_staff(db, "bench", PASSWORD, StaffRole.REVIEWER, dt.datetime.now(dt.timezone.utc))
    print(f"Generating {conversations} conversations into PostgreSQL (COPY)...", flush=True)
    started = time.perf_counter()
    events = load(db, conversations, lambda line: print(line, flush=True))
    load_seconds = time.perf_counter() - started
    with db.engine.connect() as connection:
        messages = connection.execute(text("SELECT count(*) FROM review_messages")).scalar()
        size = connection.execute(
            text("SELECT pg_size_pretty(pg_database_size(current_database()))")
        ).scalar()
    print(
        f"Loaded {events} events, {messages} review messages in {load_seconds:.0f} s ({size}).",
        flush=True,
    )
    rng = random.Random(11)
    results = []
    with serving(db) as base:
        client = _login(base)
        for label, paths in scenarios(rng, conversations, dt.date.today()).items():
            timings = _time(client, paths, runs)
            results.append(
                (label, statistics.median(timings), percentile(timings, 0.95), max(timings))
            )
            print(
                f"  {label:<45} p50 {results[-1][1]:6.1f} ms  p95 {results[-1][2]:6.1f} ms",
                flush=True,
            )
        client.close()
    db.dispose()
    floored = [r for r in results if "not floored" not in r[0]]
    worst = max(r[2] for r in floored)
    lines = [
        "## Staff review pages (`make bench-review`)",
        "",
        f"Measured {dt.date.today()} with `make bench-review` (`bot/review/benchmark.py`): a "
        f"throwaway PostgreSQL 15 database with {conversations:,} conversations, "
        f"{events:,} Rasa events and {messages:,} review messages ({size}), generated from "
        f"the training examples and FAQ answers and bulk-loaded with COPY in "
        f"{load_seconds:.0f} s. Each figure is {runs} HTTP requests (after 3 warm-ups) to "
        "the review app, logged in, including template rendering; filter values vary per "
        "request. Floor: p95 < 200 ms for the list page with every filter and for a "
        "conversation page.",
        "",
        "| page | p50 | p95 | max |",
        "|---|---|---|---|",
        *[
            f"| {label} | {p50:.1f} ms | {p95:.1f} ms | {top:.1f} ms |"
            for label, p50, p95, top in results
        ],
        "",
        f"Worst floored p95: {worst:.1f} ms ({'meets' if worst < FLOOR_MS else 'MISSES'} "
        "the floor).",
        "",
        INDEX_NOTE,
    ]
    write_section("bench-review", "\n".join(lines))
    print(f"Written to {BENCHMARKS.relative_to(PROJECT_ROOT)}")
    return 0 if worst < FLOOR_MS else 1


if __name__ == "__main__":
    sys.exit(main())
