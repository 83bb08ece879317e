"""Helpers for the staff review tests: transcripts as the tracker store saves them, a live app."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from contextlib import AbstractContextManager
from typing import Any

import httpx

from bot.config import load_settings
from bot.db import review, staff
from bot.db.models import StaffRole
from bot.db.session import Database
from tests.conftest import free_port

PASSWORD = "doğru-parola-123"
NOW = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


@dataclasses.dataclass(frozen=True)
class Said:
    """One user message, what the assistant understood, and its answer."""

    text: str
    intent: str
    confidence: float = 0.95
    faq_key: str | None = None
    answer: str = "Cevap."
    action: str = "action_answer_faq"


def user_event(said: Said, when: dt.datetime) -> dict[str, Any]:
    """A serialised UserUttered as Rasa stores it."""
    parse: dict[str, Any] = {
        "text": said.text,
        "intent": {"name": said.intent, "confidence": said.confidence},
    }
    if said.faq_key:
        parse["response_selector"] = {
            "faq": {
                "response": {
                    "intent_response_key": f"faq/{said.faq_key}",
                    "confidence": said.confidence,
                }
            }
        }
    return {"event": "user", "timestamp": when.timestamp(), "text": said.text, "parse_data": parse}


def seed_conversation(
    db: Database, sender_id: str, started: dt.datetime, messages: list[Said]
) -> int:
    """Records a conversation session as the tracker store would; returns its review id."""
    events: list[dict[str, Any]] = [
        {"event": "action", "name": "action_session_start", "timestamp": started.timestamp()},
        {"event": "session_started", "timestamp": started.timestamp()},
    ]
    for offset, said in enumerate(messages):
        when = started + dt.timedelta(seconds=offset * 10)
        events += [
            user_event(said, when),
            {"event": "action", "name": said.action, "timestamp": when.timestamp()},
            {"event": "bot", "text": said.answer, "timestamp": when.timestamp()},
        ]
    review.record_events(db, sender_id, events)
    rows, _ = review.list_conversations(db, review.Filters(), 0.5, page_size=10000)
    return next(
        row.id
        for row in rows
        if row.sender_id == sender_id and abs((row.started_at - started).total_seconds()) < 1
    )


def add_staff(db: Database, username: str, role: StaffRole = StaffRole.REVIEWER) -> None:
    """A staff account with PASSWORD."""
    staff.add_staff(db, username, PASSWORD, role, NOW)


def serving(db: Database, purge_daily: bool = False) -> AbstractContextManager[str]:
    """The review app on `db`, served on a free port in a background thread."""
    from bot.review.server import serving_in_thread

    settings = dataclasses.replace(load_settings(), review_port=free_port())
    return serving_in_thread(db, settings, purge_daily=purge_daily)


def csrf_of(html: str) -> str:
    """The CSRF token of the first form on a page."""
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, html
    return match.group(1)


def login(base: str, username: str, password: str = PASSWORD) -> tuple[httpx.Client, str]:
    """A client signed in as the staff member, and the session's CSRF token."""
    client = httpx.Client(base_url=base, follow_redirects=False)
    token = csrf_of(client.get("/login").text)
    answer = client.post("/login", data={"username": username, "password": password, "csrf": token})
    assert answer.status_code == 303, answer.text
    return client, csrf_of(client.get("/conversations").text)
