"""Transcripts: stored through the masking SQL tracker store, on SQLite and PostgreSQL; purge."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import func, select, text

from bot.db import linking, review
from bot.db.migrate import upgrade
from bot.db.models import ReviewConversation, ReviewMessage
from bot.db.session import Database
from bot.tracker_store import MaskingSQLTrackerStore
from tests.conftest import Conversation, start_agent
from tests.db_fixtures import World, _postgres_database

PHONE = "0532 123 45 67"
EMAIL = "deniz.test@ogr.example.edu.tr"
NATIONAL_ID = "10000000146"


def _all_stored_text(db: Database) -> str:
    """Everything the transcript tables hold, as one string."""
    with db.engine.connect() as connection:
        events = connection.execute(text("SELECT data FROM events")).scalars().all()
        messages = connection.execute(text("SELECT text FROM review_messages")).scalars().all()
    return "\n".join([*events, *messages])


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def agent_on_store(request, tmp_path_factory) -> Iterator[tuple[Any, Any, Database]]:
    """The trained agent saving through MaskingSQLTrackerStore into a fresh database."""
    if request.param == "sqlite":
        urls: Iterator[str] = iter([f"sqlite:///{tmp_path_factory.mktemp('store') / 's.db'}"])
    else:
        urls = _postgres_database()
    url = next(urls)
    upgrade(url)
    db = Database(url)
    store = MaskingSQLTrackerStore(host=url)
    try:
        for agent, loop in start_agent(url, tracker_store=store):
            yield agent, loop, db
    finally:
        store.engine.dispose()
        store.review_db.engine.dispose()
        db.engine.dispose()
        for _ in urls:
            pass


def test_raw_personal_data_never_reaches_the_database(agent_on_store) -> None:
    agent, loop, db = agent_on_store
    student = World(db).student()
    code = linking.issue_code(db, student, dt.datetime.now(dt.timezone.utc))
    chat = Conversation(agent, loop, sender_id="tg:5550001")

    linked = chat.say(f"hesabımı bağla {code}")
    chat.say(f"telefonum {PHONE}, e-postam {EMAIL}, TC kimlik no {NATIONAL_ID}")

    # Within the turn the action saw the raw code: the chat is linked to the student.
    assert linking.linked_student(db, "telegram", "5550001") == student, linked.text
    stored = _all_stored_text(db)
    assert "[bağlantı kodu]" in stored and "[telefon]" in stored
    for raw in (code, code.lower(), PHONE, PHONE.replace(" ", ""), EMAIL, NATIONAL_ID):
        assert raw not in stored
    with db.session() as session:
        conversation = session.scalars(select(ReviewConversation)
                                       .where(ReviewConversation.sender_id == "tg:5550001")).one()
    assert conversation.channel == "tg" and conversation.turns == 2 and conversation.linked


def test_transcripts_survive_a_restart(agent_on_store) -> None:
    agent, loop, db = agent_on_store
    chat = Conversation(agent, loop, sender_id="rest:restart-check")
    chat.say("staj ücreti ne zaman yatar")
    reopened = MaskingSQLTrackerStore(host=db.engine.url.render_as_string(hide_password=False),
                                      domain=agent.domain)
    try:
        tracker = asyncio.run(reopened.retrieve("rest:restart-check"))
    finally:
        reopened.engine.dispose()
        reopened.review_db.engine.dispose()
    assert tracker is not None
    assert [e.text for e in tracker.events if isinstance(e, UserUttered)] == [
        "staj ücreti ne zaman yatar"]
    with db.session() as session:
        faq_keys = session.scalars(select(ReviewMessage.faq_key).join(ReviewConversation).where(
            ReviewConversation.sender_id == "rest:restart-check")).all()
    assert any(faq_keys)


# --- purge ---------------------------------------------------------------------------------


def _tracker(sender_id: str, start: dt.datetime, texts: list[str]) -> DialogueStateTracker:
    events: list[Any] = [ActionExecuted("action_session_start", timestamp=start.timestamp()),
                         SessionStarted(timestamp=start.timestamp())]
    for offset, message in enumerate(texts):
        when = (start + dt.timedelta(minutes=offset)).timestamp()
        events += [UserUttered(message, {"name": "greet", "confidence": 0.9}, timestamp=when),
                   ActionExecuted("utter_greet", timestamp=when),
                   BotUttered("Merhaba!", timestamp=when)]
    return DialogueStateTracker.from_events(sender_id, events)


def test_purge_deletes_old_conversations_completely(database: Database) -> None:
    url = database.engine.url.render_as_string(hide_password=False)
    store = MaskingSQLTrackerStore(host=url)
    now = dt.datetime.now(dt.timezone.utc)
    try:
        asyncio.run(store.save(_tracker("rest:old", now - dt.timedelta(days=200), ["eski"])))
        asyncio.run(store.save(_tracker("rest:new", now - dt.timedelta(days=3), ["yeni"])))
        review.add_tag(database, _conversation_id(database, "rest:old"), "eski")

        gone = review.purge(database, now - dt.timedelta(days=180))
    finally:
        store.engine.dispose()
        store.review_db.engine.dispose()

    assert gone == 1
    with database.engine.connect() as connection:
        senders = connection.execute(text("SELECT DISTINCT sender_id FROM events")).scalars()
        assert set(senders) == {"rest:new"}
        assert connection.execute(text("SELECT count(*) FROM review_tags")).scalar() == 0
    with database.session() as session:
        assert session.scalars(select(ReviewConversation.sender_id)).all() == ["rest:new"]
        assert session.scalar(select(func.count()).select_from(ReviewMessage)) == 2


def _conversation_id(db: Database, sender_id: str) -> int:
    with db.session() as session:
        return session.scalar(select(ReviewConversation.id)
                              .where(ReviewConversation.sender_id == sender_id))
