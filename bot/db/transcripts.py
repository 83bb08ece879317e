"""Repository of the transcript: Rasa's `events` table, as the masking tracker store writes it.

Rasa's SQLTrackerStore owns the table's schema (it creates it); this module reads and appends
its rows with statements built once, and appends the staff review index (bot/db/review.py) in
the same transaction, so a message's events and its index are stored together or not at all.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam, column, func, insert, or_, select, table

from bot.db import review
from bot.db.session import Database

logger = logging.getLogger(__name__)
EVENTS = table(
    "events",
    column("id"),
    column("sender_id"),
    column("type_name"),
    column("timestamp"),
    column("intent_name"),
    column("action_name"),
    column("data"),
)
SESSION_STARTED = "session_started"

# The latest session's events, as Rasa's SQLTrackerStore selects them: from the timestamp of the
# latest `session_started` on, or all events if there is none.
_SESSION_START = (
    select(func.max(EVENTS.c.timestamp))
    .where(EVENTS.c.sender_id == bindparam("sender_id"), EVENTS.c.type_name == SESSION_STARTED)
    .scalar_subquery()
)
_LATEST_SESSION = (
    select(EVENTS.c.id, EVENTS.c.data)
    .where(
        EVENTS.c.sender_id == bindparam("sender_id"),
        or_(EVENTS.c.timestamp >= _SESSION_START, _SESSION_START.is_(None)),
    )
    .order_by(EVENTS.c.id)
)
_LATEST_SESSION_COUNT = select(func.count(EVENTS.c.id)).where(
    EVENTS.c.sender_id == bindparam("sender_id"),
    or_(EVENTS.c.timestamp >= _SESSION_START, _SESSION_START.is_(None)),
)
_STORED_FROM = select(func.count(EVENTS.c.id), func.max(EVENTS.c.id)).where(
    EVENTS.c.sender_id == bindparam("sender_id"), EVENTS.c.id >= bindparam("first_id")
)
_INSERT = insert(EVENTS)


@dataclasses.dataclass(frozen=True)
class StoredSession:
    """Where a conversation's latest session stands in the table: the id of its first stored
    event, how many are stored from there on, and the id of the last one. Any write by another
    process (or a deletion) changes `count` or `last_id`."""

    first_id: int
    count: int
    last_id: int


def latest_session(db: Database, sender_id: str) -> tuple[StoredSession | None, list[dict]]:
    """The latest session's stored events (as Rasa serialised them) and where it stands."""
    with db.read_engine.connect() as connection:
        rows = connection.execute(_LATEST_SESSION, {"sender_id": sender_id}).all()
    if not rows:
        return None, []
    return StoredSession(rows[0].id, len(rows), rows[-1].id), [json.loads(r.data) for r in rows]


def stored_from(db: Database, sender_id: str, first_id: int) -> StoredSession | None:
    """Where the session starting at event `first_id` stands now; None if nothing is left."""
    with db.read_engine.connect() as connection:
        count, last_id = connection.execute(
            _STORED_FROM, {"sender_id": sender_id, "first_id": first_id}
        ).one()
    return StoredSession(first_id, count, last_id) if count else None


def latest_session_count(db: Database, sender_id: str) -> int:
    """How many events of the latest session are stored (Rasa's count before appending)."""
    with db.read_engine.connect() as connection:
        return connection.execute(_LATEST_SESSION_COUNT, {"sender_id": sender_id}).scalar_one()


def _row(sender_id: str, event: dict[str, Any]) -> dict[str, Any]:
    return {
        "sender_id": sender_id,
        "type_name": event.get("event"),
        "timestamp": event.get("timestamp"),
        "intent_name": ((event.get("parse_data") or {}).get("intent") or {}).get("name"),
        "action_name": event.get("name"),
        "data": json.dumps(event),
    }


def append(
    db: Database, sender_id: str, events: Sequence[dict[str, Any]], first_id: int | None = None
) -> StoredSession | None:
    """Stores events (already masked) and their review index in one transaction; should the
    index fail, the events are stored without it (and the failure logged).

    With `first_id` (the first stored event of the session they continue), returns where that
    session stands afterwards, read in the same transaction.
    """
    rows = [_row(sender_id, event) for event in events]
    try:
        return _insert(db, sender_id, rows, first_id, events)
    except Exception:  # the transcript matters more than its index: store it alone
        logger.exception("could not index the conversation of %s for staff review", sender_id)
    return _insert(db, sender_id, rows, first_id, None)


def _insert(
    db: Database,
    sender_id: str,
    rows: list[dict[str, Any]],
    first_id: int | None,
    indexed: Sequence[dict[str, Any]] | None,
) -> StoredSession | None:
    with db.engine.begin() as connection:
        connection.execute(_INSERT, rows)
        if indexed is not None:
            review.index_events(connection, sender_id, indexed)
        if first_id is None:
            return None
        count, last_id = connection.execute(
            _STORED_FROM, {"sender_id": sender_id, "first_id": first_id}
        ).one()
    return StoredSession(first_id, count, last_id)
