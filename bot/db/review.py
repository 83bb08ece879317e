"""Repository of the staff review: the transcript index, tags, notes, corrections, purge.

The transcript is Rasa's `events` table (written by bot/tracker_store.py, already masked and
valid Unicode); `index_events` mirrors each saved user and bot message into `review_messages`,
grouped by conversation session in `review_conversations`, so the review app lists and filters
without parsing event JSON.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    and_,
    bindparam,
    case,
    column,
    delete,
    exists,
    func,
    insert,
    or_,
    select,
    table,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from bot import senders
from bot.db.models import (
    ChatIdentity,
    ReviewConversation,
    ReviewCorrection,
    ReviewMessage,
    ReviewNote,
    ReviewTag,
    StaffUser,
)
from bot.db.session import Database
from bot.identity import identity_of
from bot.masking import mask_text
from bot.text.turkish import normalize

FALLBACK_INTENT = "nlu_fallback"
FALLBACK_ACTIONS = frozenset({"action_default_fallback"})
HUMAN_INTENTS = frozenset({"human_handoff", "none_of_these"})
HUMAN_FAQ_KEYS = frozenset({"other_questions_contact"})
PAGE_SIZE = 50

# Rasa's own table (rasa.core.tracker_store.SQLTrackerStore.SQLEvent), for purge and delete.
RASA_EVENTS = table("events", column("sender_id"), column("timestamp"))


def _timestamp(event: dict[str, Any]) -> dt.datetime:
    return dt.datetime.fromtimestamp(float(event.get("timestamp") or 0), dt.timezone.utc)


def _understanding(parse_data: dict[str, Any]) -> tuple[str | None, str | None, float | None]:
    """Intent, FAQ topic key and confidence (the lower of intent and topic) of a parse.

    A pressed topic button (`choose_faq`) carries its topic as the `faq_key` entity.
    """
    intent = (parse_data.get("intent") or {}).get("name")
    confidence = (parse_data.get("intent") or {}).get("confidence")
    faq_key = None
    if intent == "choose_faq":
        faq_key = next(
            (
                entity.get("value")
                for entity in parse_data.get("entities") or []
                if entity.get("entity") == "faq_key"
            ),
            None,
        )
    if intent == "faq":
        response = ((parse_data.get("response_selector") or {}).get("faq") or {}).get(
            "response"
        ) or {}
        key = response.get("intent_response_key") or ""
        faq_key = key.removeprefix("faq/") or None
        if response.get("confidence") is not None and confidence is not None:
            confidence = min(confidence, response["confidence"])
    if not isinstance(faq_key, str):  # a payload may have carried anything
        faq_key = None
    return intent, faq_key, None if confidence is None else float(confidence)


# The index's statements, built once, on the tables themselves (no ORM work per message).
_CONVERSATIONS = ReviewConversation.__table__
_MESSAGES = ReviewMessage.__table__
_CHAT_LINKED = select(ChatIdentity.__table__.c.student_id).where(
    ChatIdentity.__table__.c.channel == bindparam("channel"),
    ChatIdentity.__table__.c.external_user_id == bindparam("external_user_id"),
)
_LATEST_CONVERSATION = (
    select(
        _CONVERSATIONS.c.id,
        _CONVERSATIONS.c.last_event_at,
        _CONVERSATIONS.c.turns,
        _CONVERSATIONS.c.min_confidence,
        _CONVERSATIONS.c.fell_back,
        _CONVERSATIONS.c.asked_human,
        _CONVERSATIONS.c.linked,
        select(func.coalesce(func.max(_MESSAGES.c.position), 0))
        .where(_MESSAGES.c.conversation_id == _CONVERSATIONS.c.id)
        .scalar_subquery()
        .label("position"),
    )
    .where(_CONVERSATIONS.c.sender_id == bindparam("sender_id"))
    .order_by(_CONVERSATIONS.c.started_at.desc(), _CONVERSATIONS.c.id.desc())
    .limit(1)
)
_INSERT_CONVERSATION = insert(_CONVERSATIONS)
_UPDATE_CONVERSATION = (
    update(_CONVERSATIONS)
    .where(_CONVERSATIONS.c.id == bindparam("conversation_id"))
    .values(
        last_event_at=bindparam("last_event_at"),
        turns=bindparam("turns"),
        min_confidence=bindparam("min_confidence"),
        fell_back=bindparam("fell_back"),
        asked_human=bindparam("asked_human"),
        linked=bindparam("linked"),
    )
)
_INSERT_MESSAGE = insert(_MESSAGES)


def _is_linked(connection: Connection, sender_id: str) -> bool:
    """Whether the sender acts for a student (bot.db.linking.student_of's rule, in the
    transaction of `connection`)."""
    identity = identity_of(sender_id)
    if identity is None:
        return False
    if identity.channel.names_student:
        return True
    found = connection.execute(
        _CHAT_LINKED,
        {"channel": identity.channel.name, "external_user_id": identity.external_user_id},
    )
    return found.first() is not None


@dataclasses.dataclass
class _IndexedConversation:
    """A review conversation's row while new events are folded into it."""

    id: int | None
    last_event_at: dt.datetime
    position: int = 0
    turns: int = 0
    min_confidence: float | None = None
    fell_back: bool = False
    asked_human: bool = False
    linked: bool = False

    def values(self) -> dict[str, Any]:
        """The columns the index keeps up to date."""
        return {
            "last_event_at": self.last_event_at,
            "turns": self.turns,
            "min_confidence": self.min_confidence,
            "fell_back": self.fell_back,
            "asked_human": self.asked_human,
            "linked": self.linked,
        }


def record_events(db: Database, sender_id: str, events: Sequence[dict[str, Any]]) -> None:
    """Mirrors newly saved (masked) Rasa events of one sender into the review index."""
    with db.session() as session:
        index_events(session.connection(), sender_id, events)


def index_events(connection: Connection, sender_id: str, events: Sequence[dict[str, Any]]) -> None:
    """Mirrors newly saved (masked) Rasa events of one sender into the review index, in
    `connection`'s transaction."""
    if not any(event.get("event") in ("user", "bot") for event in events):
        return
    latest = connection.execute(_LATEST_CONVERSATION, {"sender_id": sender_id}).first()
    conversation: _IndexedConversation | None = None
    if latest is not None:
        conversation = _IndexedConversation(
            latest.id,
            latest.last_event_at,
            latest.position,
            latest.turns,
            latest.min_confidence,
            latest.fell_back,
            latest.asked_human,
            latest.linked,
        )
    linked = conversation.linked if conversation is not None and conversation.linked else None
    new_session = conversation is None
    last_action: str | None = None
    messages: list[dict[str, Any]] = []

    def store(finished: _IndexedConversation | None) -> None:
        if finished is not None and finished.id is not None:
            connection.execute(
                _UPDATE_CONVERSATION, {"conversation_id": finished.id, **finished.values()}
            )
        if messages:
            connection.execute(_INSERT_MESSAGE, messages)
            messages.clear()

    for event in events:
        kind = event.get("event")
        if kind == "session_started":
            new_session = True
        elif kind == "action":
            last_action = event.get("name")
            if last_action in FALLBACK_ACTIONS and conversation is not None:
                conversation.fell_back = True
        if kind not in ("user", "bot"):
            continue
        when = _timestamp(event)
        if new_session:
            store(conversation)
            if linked is None:
                linked = _is_linked(connection, sender_id)
            conversation = _IndexedConversation(None, when, linked=linked)
            conversation.id = connection.execute(
                _INSERT_CONVERSATION,
                {
                    "sender_id": sender_id,
                    "channel": senders.prefix_of(sender_id),
                    "started_at": when,
                    **conversation.values(),
                },
            ).inserted_primary_key[0]
            new_session = False
        assert conversation is not None  # a message always belongs to a conversation here
        if not conversation.linked:
            if linked is None:
                linked = _is_linked(connection, sender_id)
            conversation.linked = linked
        conversation.position += 1
        conversation.last_event_at = max(conversation.last_event_at, when)
        message = {
            "conversation_id": conversation.id,
            "position": conversation.position,
            "sent_at": when,
            "kind": kind,
            "text": event.get("text") or "",
            "folded_text": "",
            "intent": None,
            "faq_key": None,
            "confidence": None,
            "fell_back": False,
            "action": None,
        }
        if kind == "user":
            intent, faq_key, confidence = _understanding(event.get("parse_data") or {})
            message.update(
                # masked again after folding: folding turns fullwidth or other digits into
                # plain ones, and the search column must not hold what the text hides
                folded_text=mask_text(normalize(message["text"])),
                intent=intent,
                faq_key=faq_key,
                confidence=confidence,
                fell_back=intent == FALLBACK_INTENT,
            )
            conversation.turns += 1
            if confidence is not None:
                conversation.min_confidence = (
                    confidence
                    if conversation.min_confidence is None
                    else min(conversation.min_confidence, confidence)
                )
            conversation.fell_back = conversation.fell_back or message["fell_back"]
            conversation.asked_human = conversation.asked_human or (
                intent in HUMAN_INTENTS or faq_key in HUMAN_FAQ_KEYS
            )
        else:
            message["action"] = last_action or (event.get("metadata") or {}).get("utter_action")
        messages.append(message)
    store(conversation)


# --- listing -------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Filters:
    """What a reviewer narrowed the conversation list to; None means "any"."""

    date_from: dt.date | None = None
    date_to: dt.date | None = None
    channel: str | None = None
    topic: str | None = None  # an intent name, or "faq/<key>"
    misunderstood: bool = False  # fell back, or a message below the confidence threshold
    asked_human: bool = False
    tag: str | None = None
    reviewed: bool | None = None
    search: str | None = None


@dataclasses.dataclass(frozen=True)
class ConversationRow:
    """One line of the conversation list."""

    id: int
    sender_id: str
    channel: str
    started_at: dt.datetime
    turns: int
    min_confidence: float | None
    fell_back: bool
    asked_human: bool
    linked: bool
    reviewed: bool
    tags: tuple[str, ...]


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), dt.timezone.utc)


def _conditions(filters: Filters, threshold: float) -> list[Any]:
    conv = ReviewConversation
    conditions: list[Any] = []
    if filters.date_from:
        conditions.append(conv.started_at >= _day_start(filters.date_from))
    if filters.date_to:
        conditions.append(conv.started_at < _day_start(filters.date_to + dt.timedelta(days=1)))
    if filters.channel:
        conditions.append(conv.channel == filters.channel)
    if filters.misunderstood:
        conditions.append(or_(conv.fell_back.is_(True), conv.min_confidence < threshold))
    if filters.asked_human:
        conditions.append(conv.asked_human.is_(True))
    if filters.reviewed is not None:
        conditions.append(
            conv.reviewed_at.isnot(None) if filters.reviewed else conv.reviewed_at.is_(None)
        )
    if filters.tag:
        conditions.append(
            exists().where(ReviewTag.conversation_id == conv.id, ReviewTag.tag == filters.tag)
        )
    if filters.topic:
        if filters.topic.startswith("faq/"):
            topic = ReviewMessage.faq_key == filters.topic.removeprefix("faq/")
        else:
            topic = ReviewMessage.intent == filters.topic
        conditions.append(exists().where(ReviewMessage.conversation_id == conv.id, topic))
    if filters.search and normalize(filters.search):
        pattern = f"%{_escape_like(normalize(filters.search))}%"
        conditions.append(
            exists().where(
                ReviewMessage.conversation_id == conv.id,
                ReviewMessage.kind == "user",
                ReviewMessage.folded_text.like(pattern, escape="\\"),
            )
        )
    return conditions


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def list_conversations(
    db: Database, filters: Filters, threshold: float, page: int = 1, page_size: int = PAGE_SIZE
) -> tuple[list[ConversationRow], bool]:
    """A page of conversations, newest first, and whether there is a next page."""
    conv = ReviewConversation
    query = (
        select(conv)
        .where(*_conditions(filters, threshold))
        .order_by(conv.started_at.desc(), conv.id.desc())
        .offset((max(page, 1) - 1) * page_size)
        .limit(page_size + 1)
    )
    with db.session() as session:
        conversations = list(session.scalars(query))
        ids = [c.id for c in conversations[:page_size]]
        tags: dict[int, list[str]] = {}
        if ids:
            for conversation_id, tag in session.execute(
                select(ReviewTag.conversation_id, ReviewTag.tag)
                .where(ReviewTag.conversation_id.in_(ids))
                .order_by(ReviewTag.tag)
            ):
                tags.setdefault(conversation_id, []).append(tag)
        rows = [
            ConversationRow(
                c.id,
                c.sender_id,
                c.channel,
                c.started_at,
                c.turns,
                c.min_confidence,
                c.fell_back,
                c.asked_human,
                c.linked,
                c.reviewed_at is not None,
                tuple(tags.get(c.id, ())),
            )
            for c in conversations[:page_size]
        ]
    return rows, len(conversations) > page_size


def conversation_ids(
    db: Database, filters: Filters, threshold: float, limit: int = 5000
) -> list[int]:
    """Ids of the conversations matching the filters, newest first (for exports)."""
    conv = ReviewConversation
    with db.session() as session:
        return list(
            session.scalars(
                select(conv.id)
                .where(*_conditions(filters, threshold))
                .order_by(conv.started_at.desc(), conv.id.desc())
                .limit(limit)
            )
        )


# --- one conversation ----------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class MessageView:
    """A message of the transcript with what the assistant understood and any correction."""

    id: int
    kind: str
    sent_at: dt.datetime
    text: str
    intent: str | None
    faq_key: str | None
    confidence: float | None
    fell_back: bool
    action: str | None
    corrected_intent: str | None
    corrected_faq_key: str | None


@dataclasses.dataclass(frozen=True)
class NoteView:
    """A staff note."""

    author: str | None
    text: str
    created_at: dt.datetime


@dataclasses.dataclass(frozen=True)
class ConversationView:
    """A whole conversation for the review page and exports."""

    row: ConversationRow
    last_event_at: dt.datetime
    messages: list[MessageView]
    notes: list[NoteView]


def get_conversation(db: Database, conversation_id: int) -> ConversationView | None:
    """The conversation with its messages in order, tags, notes and corrections."""
    with db.session() as session:
        c = session.get(ReviewConversation, conversation_id)
        if c is None:
            return None
        tags = tuple(
            session.scalars(
                select(ReviewTag.tag)
                .where(ReviewTag.conversation_id == c.id)
                .order_by(ReviewTag.tag)
            )
        )
        messages = [
            MessageView(
                m.id,
                m.kind,
                m.sent_at,
                m.text,
                m.intent,
                m.faq_key,
                m.confidence,
                m.fell_back,
                m.action,
                k_intent,
                k_faq,
            )
            for m, k_intent, k_faq in session.execute(
                select(ReviewMessage, ReviewCorrection.intent, ReviewCorrection.faq_key)
                .outerjoin(ReviewCorrection, ReviewCorrection.message_id == ReviewMessage.id)
                .where(ReviewMessage.conversation_id == c.id)
                .order_by(ReviewMessage.position)
            )
        ]
        notes = [
            NoteView(author, n.text, n.created_at)
            for n, author in session.execute(
                select(ReviewNote, StaffUser.username)
                .outerjoin(StaffUser, StaffUser.id == ReviewNote.staff_id)
                .where(ReviewNote.conversation_id == c.id)
                .order_by(ReviewNote.created_at)
            )
        ]
        row = ConversationRow(
            c.id,
            c.sender_id,
            c.channel,
            c.started_at,
            c.turns,
            c.min_confidence,
            c.fell_back,
            c.asked_human,
            c.linked,
            c.reviewed_at is not None,
            tags,
        )
        return ConversationView(row, c.last_event_at, messages, notes)


def conversation_exists(db: Database, conversation_id: int) -> bool:
    """True if there is such a conversation."""
    with db.session() as session:
        return session.get(ReviewConversation, conversation_id) is not None


def add_tag(db: Database, conversation_id: int, tag: str) -> None:
    """Tags the conversation (once)."""
    with db.session() as session:
        if session.get(ReviewTag, (conversation_id, tag)) is None:
            session.add(ReviewTag(conversation_id=conversation_id, tag=tag))


def remove_tag(db: Database, conversation_id: int, tag: str) -> None:
    """Removes a tag from the conversation."""
    with db.session() as session:
        session.execute(
            delete(ReviewTag).where(
                ReviewTag.conversation_id == conversation_id, ReviewTag.tag == tag
            )
        )


def all_tags(db: Database) -> list[str]:
    """Every tag in use, alphabetically."""
    with db.session() as session:
        return list(session.scalars(select(ReviewTag.tag).distinct().order_by(ReviewTag.tag)))


def add_note(
    db: Database, conversation_id: int, staff_id: int, text: str, now: dt.datetime
) -> None:
    """Leaves a note on the conversation."""
    with db.session() as session:
        session.add(
            ReviewNote(
                conversation_id=conversation_id, staff_id=staff_id, text=text, created_at=now
            )
        )


def set_reviewed(
    db: Database, conversation_id: int, staff_id: int | None, now: dt.datetime
) -> None:
    """Marks the conversation reviewed by the staff member, or not reviewed (staff_id None)."""
    with db.session() as session:
        session.execute(
            update(ReviewConversation)
            .where(ReviewConversation.id == conversation_id)
            .values(reviewed_at=now if staff_id else None, reviewed_by=staff_id)
        )


def delete_conversation(db: Database, conversation_id: int) -> bool:
    """Deletes a conversation completely: its Rasa events and its review rows."""
    with db.session() as session:
        c = session.get(ReviewConversation, conversation_id)
        if c is None:
            return False
        if _has_rasa_events(session):
            session.execute(
                delete(RASA_EVENTS).where(
                    RASA_EVENTS.c.sender_id == c.sender_id,
                    RASA_EVENTS.c.timestamp >= c.started_at.timestamp() - 1,
                    RASA_EVENTS.c.timestamp <= c.last_event_at.timestamp() + 1,
                )
            )
        session.delete(c)
    return True


# --- corrections and the misunderstood queue -----------------------------------------------


def set_correction(
    db: Database, message_id: int, intent: str, faq_key: str | None, staff_id: int, now: dt.datetime
) -> None:
    """Records the intent (and FAQ topic) a user message really had; replaces an earlier one."""
    with db.session() as session:
        message = session.get(ReviewMessage, message_id)
        if message is None or message.kind != "user":
            raise LookupError(f"no user message {message_id}")
        correction = session.get(ReviewCorrection, message_id)
        if correction is None:
            correction = ReviewCorrection(message_id=message_id)
            session.add(correction)
        correction.intent, correction.faq_key = intent, faq_key if intent == "faq" else None
        correction.staff_id, correction.created_at = staff_id, now


def corrected_examples(db: Database) -> list[tuple[str, str]]:
    """(training intent, text) of every corrected or confirmed message, oldest first.

    The training intent of an FAQ topic is the retrieval intent `faq/<key>`.
    """
    with db.session() as session:
        rows = session.execute(
            select(ReviewCorrection.intent, ReviewCorrection.faq_key, ReviewMessage.text)
            .join(ReviewMessage, ReviewMessage.id == ReviewCorrection.message_id)
            .order_by(ReviewCorrection.created_at, ReviewCorrection.message_id)
        )
        return [
            (f"faq/{faq_key}" if intent == "faq" and faq_key else intent, text)
            for intent, faq_key, text in rows
        ]


@dataclasses.dataclass(frozen=True)
class MisunderstoodGroup:
    """User messages that fold to the same text, fell back or scored low, not yet handled."""

    folded_text: str
    count: int
    message_id: int  # the latest of them
    text: str
    conversation_id: int
    intent: str | None
    faq_key: str | None
    confidence: float | None


def misunderstood(db: Database, threshold: float, limit: int = 100) -> list[MisunderstoodGroup]:
    """Fallbacks and low-confidence messages without a correction, most frequent first."""
    m = ReviewMessage
    unhandled = and_(
        m.kind == "user",
        or_(m.fell_back.is_(True), m.confidence < threshold),
        ~exists().where(ReviewCorrection.message_id == m.id),
    )
    with db.session() as session:
        groups = session.execute(
            select(m.folded_text, func.count().label("n"), func.max(m.id).label("latest"))
            .where(unhandled)
            .group_by(m.folded_text)
            .order_by(func.count().desc(), func.max(m.id).desc())
            .limit(limit)
        ).all()
        latest = {
            message.id: message
            for message in session.scalars(select(m).where(m.id.in_([g.latest for g in groups])))
        }
        return [
            MisunderstoodGroup(
                g.folded_text,
                g.n,
                g.latest,
                latest[g.latest].text,
                latest[g.latest].conversation_id,
                latest[g.latest].intent,
                latest[g.latest].faq_key,
                latest[g.latest].confidence,
            )
            for g in groups
        ]


# --- dashboard -----------------------------------------------------------------------------


def dashboard(db: Database, since: dt.datetime, threshold: float) -> dict[str, Any]:
    """Figures for the dashboard charts, from `since` on."""
    conv = ReviewConversation
    day = func.date(conv.started_at)
    misunderstood_conv = or_(conv.fell_back.is_(True), conv.min_confidence < threshold)
    with db.session() as session:
        per_day = session.execute(
            select(day, func.count(), func.sum(case((misunderstood_conv, 1), else_=0)))
            .where(conv.started_at >= since)
            .group_by(day)
            .order_by(day)
        ).all()
        topics = session.execute(
            select(ReviewMessage.faq_key, func.count())
            .where(ReviewMessage.sent_at >= since, ReviewMessage.faq_key.isnot(None))
            .group_by(ReviewMessage.faq_key)
            .order_by(func.count().desc())
            .limit(10)
        ).all()
        linked = dict(
            session.execute(
                select(conv.linked, func.count())
                .where(conv.started_at >= since)
                .group_by(conv.linked)
            ).all()
        )
        channels = session.execute(
            select(conv.channel, func.count())
            .where(conv.started_at >= since)
            .group_by(conv.channel)
            .order_by(conv.channel)
        ).all()
    return {
        "days": [str(d) for d, _, _ in per_day],
        "conversations_per_day": [n for _, n, _ in per_day],
        "fallback_rate": [round((bad or 0) / n, 3) if n else 0 for _, n, bad in per_day],
        "top_topics": [{"key": key, "count": n} for key, n in topics],
        "linked": {"linked": linked.get(True, 0), "anonymous": linked.get(False, 0)},
        "channels": [{"channel": c, "count": n} for c, n in channels],
    }


# --- retention -----------------------------------------------------------------------------


def _has_rasa_events(session: Session) -> bool:
    from sqlalchemy import inspect

    return inspect(session.connection()).has_table("events")


def purge(db: Database, older_than: dt.datetime) -> int:
    """Deletes everything of the transcripts from before `older_than`; returns conversations.

    Whole conversations whose last message is older go (tags, notes, corrections with them),
    as do older messages of conversations still going on and Rasa's older events.
    """
    keep_session = {"synchronize_session": False}
    with db.session() as session:
        old = select(ReviewConversation.id).where(ReviewConversation.last_event_at < older_than)
        gone = session.scalar(select(func.count()).select_from(old.subquery()))
        old_messages = select(ReviewMessage.id).where(
            or_(ReviewMessage.sent_at < older_than, ReviewMessage.conversation_id.in_(old))
        )
        for statement in (
            delete(ReviewTag).where(ReviewTag.conversation_id.in_(old)),
            delete(ReviewNote).where(ReviewNote.conversation_id.in_(old)),
            delete(ReviewCorrection).where(ReviewCorrection.message_id.in_(old_messages)),
            delete(ReviewMessage).where(ReviewMessage.id.in_(old_messages)),
            delete(ReviewConversation).where(ReviewConversation.last_event_at < older_than),
        ):
            session.execute(statement, execution_options=keep_session)
        if _has_rasa_events(session):
            session.execute(
                delete(RASA_EVENTS).where(RASA_EVENTS.c.timestamp < older_than.timestamp())
            )
    return gone or 0
