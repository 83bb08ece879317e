"""Rasa's SQL tracker store, masking personal data before anything is written.

Configured in endpoints.yml (`tracker_store: type: bot.tracker_store.MaskingSQLTrackerStore`,
`url: ${DATABASE_URL}`), so every channel's conversations survive restarts in the same
database as the offer data. NLU and actions see the raw text within the turn (a link code
must still link the chat); what is saved, and so what later turns and staff see, is masked.
Each save also updates the staff review index (bot/db/review.py).
"""

from __future__ import annotations

import itertools
import json
import logging
from pathlib import Path
from typing import Any

from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy.engine import make_url

from bot import rasa_speedups
from bot.config import PROJECT_ROOT
from bot.db import review
from bot.db.session import Database, database_url
from bot.masking import mask_event

logger = logging.getLogger(__name__)
rasa_speedups.apply()  # every Rasa process of the assistant loads this module (endpoints.yml)


def absolute_url(url: str) -> str:
    """The URL with a relative SQLite path made absolute (against the project root)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        path = Path(parsed.database)
        if not path.is_absolute():
            return str(parsed.set(database=str(PROJECT_ROOT / path)))
    return url


class MaskingSQLTrackerStore(SQLTrackerStore):
    """SQLTrackerStore on DATABASE_URL whose saved events have personal data masked."""

    def __init__(self, domain: Domain | None = None, host: str | None = None,
                 event_broker: EventBroker | None = None, **kwargs: Any) -> None:
        """`host` is the database URL from endpoints.yml (Rasa passes `url` as `host`)."""
        url = absolute_url(host or database_url())
        self.review_db = Database(url)
        super().__init__(domain=domain, host=url, event_broker=event_broker, **kwargs)

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Stores the tracker's new events, masked, and indexes them for staff review."""
        await self.stream_events(tracker)
        with self.session_scope() as session:
            stored = self._event_query(session, tracker.sender_id,
                                       fetch_events_from_all_sessions=False).count()
            new_events = list(itertools.islice(tracker.events, stored, len(tracker.events)))
            masked = [mask_event(event.as_dict()) for event in new_events]
            for event, data in zip(new_events, masked, strict=True):
                session.add(self.SQLEvent(
                    sender_id=tracker.sender_id,
                    type_name=event.type_name,
                    timestamp=data.get("timestamp"),
                    intent_name=((data.get("parse_data") or {}).get("intent") or {}).get("name"),
                    action_name=data.get("name"),
                    data=json.dumps(data),
                ))
            session.commit()
        try:
            review.record_events(self.review_db, tracker.sender_id, masked)
        except Exception:  # the transcript is saved; a failed index must not break the chat
            logger.exception("could not index the conversation for staff review")
