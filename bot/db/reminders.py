"""Offer deadline reminders: which are due, and a claim so each offer is reminded at most once.

The claim is a row keyed by the offer id: inserting it is atomic on every backend, so of two
processes that find the same due offer only one can claim it, and a restarted process sees
what was already sent.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from bot.db.models import ChatIdentity, Offer, OfferReminder, OfferStatus
from bot.db.session import Database
from bot.senders import TELEGRAM


@dataclass(frozen=True)
class DueReminder:
    """A pending offer whose deadline is near, and the linked Telegram chat to remind."""

    offer_id: int
    telegram_user_id: str


def due_reminders(db: Database, now: dt.datetime, window: dt.timedelta) -> list[DueReminder]:
    """Pending offers due within `window` of linked Telegram students, not reminded yet.

    A student linked from several chats is reminded in the most recently linked one.
    """
    query = (
        select(Offer.id, ChatIdentity.external_user_id)
        .join(ChatIdentity, ChatIdentity.student_id == Offer.student_id)
        .outerjoin(OfferReminder, OfferReminder.offer_id == Offer.id)
        .where(
            Offer.status == OfferStatus.PENDING,
            Offer.response_deadline > now,
            Offer.response_deadline <= now + window,
            ChatIdentity.channel == TELEGRAM.name,
            OfferReminder.offer_id.is_(None),
        )
        .order_by(
            Offer.response_deadline, Offer.id, ChatIdentity.linked_at.desc(), ChatIdentity.id.desc()
        )
    )
    with db.session() as session:
        due: dict[int, DueReminder] = {}
        for offer_id, telegram_user_id in session.execute(query):
            due.setdefault(offer_id, DueReminder(offer_id, telegram_user_id))
        return list(due.values())


def claim(db: Database, reminder: DueReminder, now: dt.datetime) -> bool:
    """Claims the offer's reminder for this chat; False if it was claimed already."""
    try:
        with db.session() as session:
            session.add(
                OfferReminder(
                    offer_id=reminder.offer_id,
                    channel=TELEGRAM.name,
                    external_user_id=reminder.telegram_user_id,
                    claimed_at=now,
                )
            )
    except IntegrityError:
        return False
    return True


def mark_sent(db: Database, offer_id: int, now: dt.datetime) -> None:
    """Records that the claimed reminder reached the chat."""
    with db.session() as session:
        session.execute(
            update(OfferReminder).where(OfferReminder.offer_id == offer_id).values(sent_at=now)
        )


def release(db: Database, offer_id: int) -> None:
    """Gives up a claim whose reminder was not delivered, so a later check may try again."""
    with db.session() as session:
        session.execute(
            delete(OfferReminder).where(
                OfferReminder.offer_id == offer_id, OfferReminder.sent_at.is_(None)
            )
        )
