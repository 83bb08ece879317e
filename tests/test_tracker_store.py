"""Transcripts: stored through the masking SQL tracker store, on SQLite and PostgreSQL; purge."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import func, select, text

from bot.config import ConfigError
from bot.db import linking, review
from bot.db.migrate import upgrade
from bot.db.models import ReviewConversation, ReviewMessage
from bot.db.session import Database
from bot.tracker_store import MaskingSQLTrackerStore
from tests.conftest import Conversation, Environment, start_agent
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
        store.db.dispose()
        db.dispose()
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
        conversation = session.scalars(
            select(ReviewConversation).where(ReviewConversation.sender_id == "tg:5550001")
        ).one()
    assert conversation.channel == "tg" and conversation.turns == 2 and conversation.linked


def test_transcripts_survive_a_restart(agent_on_store) -> None:
    agent, loop, db = agent_on_store
    chat = Conversation(agent, loop, sender_id="rest:restart-check")
    chat.say("staj ücreti ne zaman yatar")
    reopened = MaskingSQLTrackerStore(
        host=db.engine.url.render_as_string(hide_password=False), domain=agent.domain
    )
    try:
        tracker = asyncio.run(reopened.retrieve("rest:restart-check"))
    finally:
        reopened.db.dispose()
    assert tracker is not None
    assert [e.text for e in tracker.events if isinstance(e, UserUttered)] == [
        "staj ücreti ne zaman yatar"
    ]
    with db.session() as session:
        faq_keys = session.scalars(
            select(ReviewMessage.faq_key)
            .join(ReviewConversation)
            .where(ReviewConversation.sender_id == "rest:restart-check")
        ).all()
    assert any(faq_keys)


# --- purge ---------------------------------------------------------------------------------


def _tracker(sender_id: str, start: dt.datetime, texts: list[str]) -> DialogueStateTracker:
    events: list[Any] = [
        ActionExecuted("action_session_start", timestamp=start.timestamp()),
        SessionStarted(timestamp=start.timestamp()),
    ]
    for offset, message in enumerate(texts):
        when = (start + dt.timedelta(minutes=offset)).timestamp()
        events += [
            UserUttered(message, {"name": "greet", "confidence": 0.9}, timestamp=when),
            ActionExecuted("utter_greet", timestamp=when),
            BotUttered("Merhaba!", timestamp=when),
        ]
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
        store.db.dispose()

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
        return session.scalar(
            select(ReviewConversation.id).where(ReviewConversation.sender_id == sender_id)
        )


# --- the cache of recent sessions ----------------------------------------------------------


def _store(db: Database) -> MaskingSQLTrackerStore:
    url = db.engine.url.render_as_string(hide_password=False)
    return MaskingSQLTrackerStore(host=url, domain=Domain.empty())


def _turn(tracker: DialogueStateTracker, text_: str, when: float) -> None:
    """A user message and the bot's answer, appended as Rasa appends them."""
    tracker.update(UserUttered(text_, {"name": "greet", "confidence": 0.9}, timestamp=when))
    tracker.update(ActionExecuted("utter_greet", timestamp=when))
    tracker.update(BotUttered(f"yanıt: {text_}", timestamp=when))


def _dicts(tracker: DialogueStateTracker | None) -> list[dict[str, Any]]:
    return [] if tracker is None else [event.as_dict() for event in tracker.events]


def _talk(store: MaskingSQLTrackerStore, sender_id: str, texts: list[str]) -> None:
    """Each text a turn: the tracker loaded, a turn added, the tracker saved."""
    for text_ in texts:
        tracker = asyncio.run(store.retrieve(sender_id))
        if tracker is None:
            tracker = _tracker(sender_id, dt.datetime.now(dt.timezone.utc), [])
        _turn(tracker, text_, dt.datetime.now(dt.timezone.utc).timestamp())
        asyncio.run(store.save(tracker))


def test_a_cached_session_is_what_the_database_holds(database: Database) -> None:
    store, fresh = _store(database), _store(database)
    try:
        _talk(store, "rest:cache", ["bir", "iki", f"telefonum {PHONE}", "dört"])
        assert store.sessions.get("rest:cache") is not None  # served from memory
        cached = asyncio.run(store.retrieve("rest:cache"))
        loaded = asyncio.run(fresh.retrieve("rest:cache"))
    finally:
        store.db.dispose()
        fresh.db.dispose()
    assert _dicts(cached) == _dicts(loaded)
    assert [e.text for e in loaded.events if isinstance(e, UserUttered)][-2:] == [
        "telefonum [telefon]",
        "dört",
    ]  # masked in memory too


def test_another_process_writing_the_conversation_is_seen(database: Database) -> None:
    one, other = _store(database), _store(database)
    try:
        _talk(one, "rest:shared", ["bir", "iki"])
        _talk(other, "rest:shared", ["üç"])  # another Rasa replica took a message
        tracker = asyncio.run(one.retrieve("rest:shared"))
        _talk(one, "rest:shared", ["dört"])
        final = asyncio.run(_store(database).retrieve("rest:shared"))
    finally:
        one.db.dispose()
        other.db.dispose()
    texts = [e.text for e in tracker.events if isinstance(e, UserUttered)]
    assert texts == ["bir", "iki", "üç"]
    assert [e.text for e in final.events if isinstance(e, UserUttered)] == [
        "bir",
        "iki",
        "üç",
        "dört",
    ]
    with database.engine.connect() as connection:
        stored = connection.execute(
            text("SELECT count(*) FROM events WHERE sender_id = 'rest:shared'")
        ).scalar()
    assert stored == len(final.events)  # nothing stored twice


def test_a_deleted_conversation_is_not_served_from_memory(database: Database) -> None:
    store = _store(database)
    try:
        _talk(store, "rest:deleted", ["bir", "iki"])
        assert review.delete_conversation(database, _conversation_id(database, "rest:deleted"))
        assert asyncio.run(store.retrieve("rest:deleted")) is None
    finally:
        store.db.dispose()


def test_the_cache_keeps_only_the_most_recent_conversations(
    database: Database, environment: Environment
) -> None:
    environment.set(TRACKER_CACHE_SIZE="2")
    store = _store(database)
    try:
        for sender in ("rest:a", "rest:b", "rest:c"):
            _talk(store, sender, ["bir", "iki"])
        assert [store.sessions.get(s) is not None for s in ("rest:a", "rest:b", "rest:c")] == [
            False,
            True,
            True,
        ]
        environment.set(TRACKER_CACHE_SIZE="0")
        off = _store(database)
        _talk(off, "rest:d", ["bir", "iki"])
        assert off.sessions.get("rest:d") is None
        assert len(asyncio.run(off.retrieve("rest:d")).events) == len(
            asyncio.run(store.retrieve("rest:d")).events
        )
        off.db.dispose()
        with pytest.raises(ConfigError, match="TRACKER_CACHE_SIZE"):
            environment.set(TRACKER_CACHE_SIZE="many")
    finally:
        store.db.dispose()


def test_a_failing_review_index_loses_no_transcript(
    database: Database, monkeypatch, caplog
) -> None:
    store = _store(database)

    def broken(*args: Any) -> None:
        raise RuntimeError("index broken")

    monkeypatch.setattr(review, "index_events", broken)
    try:
        _talk(store, "rest:noindex", ["bir"])
        tracker = asyncio.run(_store(database).retrieve("rest:noindex"))
    finally:
        store.db.dispose()
    assert [e.text for e in tracker.events if isinstance(e, UserUttered)] == ["bir"]
    assert "could not index" in caplog.text
