"""Rasa's SQL tracker store, masking personal data before anything is written.

Configured in endpoints.yml (`tracker_store: type: bot.tracker_store.MaskingSQLTrackerStore`,
`url: ${DATABASE_URL}`), so every channel's conversations survive restarts in the same
database as the offer data. NLU and actions see the raw text within the turn (a link code
must still link the chat); what is saved, and so what later turns and staff see, is masked
(bot/masking.py: `stored_event`, which also makes every string valid Unicode and bounds the
nesting of what a client sent, so no content can stop a turn from being stored). Each save also
updates the staff review index (bot/db/review.py), in the same transaction.

The database work, and with it serialising and masking the new events, runs in a thread, so the
server goes on with other conversations meanwhile. Every message loads its conversation and
saves it again. The latest session of the conversations this process served recently is kept in
memory, as the masked events the database holds, and used only after one small query shows the
database still holds exactly those events (another Rasa process, a purge or a deleted
conversation changes the count or the last id): several replicas stay correct, and a message
costs one read instead of the whole session. TRACKER_CACHE_SIZE conversations (0 turns the cache
off).
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import json
import logging
from typing import Any

from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import Event, SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy.orm import sessionmaker

from bot import log_masking, patches
from bot.config import absolute_database_url, load_settings
from bot.db import transcripts
from bot.db.session import Database
from bot.masking import stored_event

logger = logging.getLogger(__name__)


@dataclasses.dataclass
class CachedSession:
    """A conversation's latest session as stored: where it stands, and its masked events."""

    stored: transcripts.StoredSession
    events: list[Event]


class SessionCache:
    """The latest sessions of recently served conversations, least recently used dropped."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._sessions: collections.OrderedDict[str, CachedSession] = collections.OrderedDict()

    def get(self, sender_id: str) -> CachedSession | None:
        """The cached session, marked as just used."""
        cached = self._sessions.get(sender_id)
        if cached is not None:
            self._sessions.move_to_end(sender_id)
        return cached

    def put(self, sender_id: str, cached: CachedSession) -> None:
        """Caches a session (nothing when the cache is off)."""
        if self.size <= 0:
            return
        self._sessions[sender_id] = cached
        self._sessions.move_to_end(sender_id)
        while len(self._sessions) > self.size:
            self._sessions.popitem(last=False)

    def drop(self, sender_id: str) -> None:
        """Forgets a conversation."""
        self._sessions.pop(sender_id, None)


class MaskingSQLTrackerStore(SQLTrackerStore):
    """SQLTrackerStore on DATABASE_URL whose saved events have personal data masked."""

    def __init__(
        self,
        domain: Domain | None = None,
        host: str | None = None,
        event_broker: EventBroker | None = None,
        **kwargs: Any,
    ) -> None:
        """`host` is the database URL from endpoints.yml (Rasa passes `url` as `host`).

        Every Rasa process of the assistant creates this store (endpoints.yml), `rasa shell`
        too, whose app has none of our channels: so it installs our replacements of Rasa's
        internals (bot/patches/; once per process) and masks its log records
        (bot/log_masking.py) before the first message.
        """
        patches.install()
        log_masking.install()
        settings = load_settings()
        url = absolute_database_url(host) if host else settings.database_url
        super().__init__(domain=domain, host=url, event_broker=event_broker, **kwargs)
        # Rasa's engine created the events table; from here on one pooled engine serves the
        # events and the review index (Rasa's has no pool for SQLite).
        self.engine.dispose()
        self.db = Database(url)
        self.engine = self.db.engine
        self.sessionmaker = sessionmaker(bind=self.engine)
        self.sessions = SessionCache(settings.tracker_cache_size)

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        """The conversation's latest session, from memory when the database confirms it."""
        if self.domain is None:
            return await super().retrieve(sender_id)
        cached = self.sessions.get(sender_id)
        if cached is not None:
            now = await asyncio.to_thread(
                transcripts.stored_from, self.db, sender_id, cached.stored.first_id
            )
            if now == cached.stored and self.sessions.get(sender_id) is cached:
                return DialogueStateTracker.from_events(sender_id, cached.events, self.domain.slots)
            self.sessions.drop(sender_id)
        stored, serialised = await asyncio.to_thread(transcripts.latest_session, self.db, sender_id)
        if stored is None:
            return None
        tracker = DialogueStateTracker.from_dict(sender_id, serialised, self.domain.slots)
        self.sessions.put(sender_id, CachedSession(stored, list(tracker.events)))
        return tracker

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Stores the tracker's new events, masked, with their staff review index."""
        await self.stream_events(tracker)
        sender_id = tracker.sender_id
        cached = self.sessions.get(sender_id)
        if cached is not None and cached.stored.count <= len(tracker.events):
            stored = cached.stored.count
        else:  # not a session we hold: Rasa's count decides what is new
            self.sessions.drop(sender_id)
            cached = None
            stored = await asyncio.to_thread(transcripts.latest_session_count, self.db, sender_id)
        new_events = list(tracker.events)[stored:]
        if not new_events:
            return
        starts_session = any(isinstance(event, SessionStarted) for event in new_events)
        first_id = cached.stored.first_id if cached is not None and not starts_session else None
        try:
            now, reloaded = await asyncio.to_thread(
                self._store, sender_id, new_events, first_id, cached is not None
            )
        except Exception:
            self.sessions.drop(sender_id)
            raise
        if cached is None or self.sessions.get(sender_id) is not cached:
            return
        if now is None or now.count != cached.stored.count + len(reloaded):
            self.sessions.drop(sender_id)  # a new session, or someone else wrote too
            return
        cached.events.extend(reloaded)
        cached.stored = now

    def _store(
        self, sender_id: str, events: list[Event], first_id: int | None, reload: bool
    ) -> tuple[transcripts.StoredSession | None, list[Event]]:
        """In the database thread: serialises and masks the events, stores them with their
        review index, and (with `reload`) returns them as a later load would read them back
        (masked, JSON's types) for the cache."""
        masked = [stored_event(event.as_dict()) for event in events]
        now = transcripts.append(self.db, sender_id, masked, first_id)
        if not reload:
            return now, []
        return now, [Event.from_parameters(json.loads(json.dumps(data))) for data in masked]
