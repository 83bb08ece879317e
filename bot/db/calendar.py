"""Availability calendars (TAKVİMLERİM) of one student."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select

from bot.db.models import AvailabilityCalendar
from bot.db.session import Database


@dataclass(frozen=True)
class CalendarEntry:
    """A date range the student is available in, with its priority (1 = first choice)."""

    priority: int
    start_date: dt.date
    end_date: dt.date


def calendars(db: Database, student_id: int) -> list[CalendarEntry]:
    """The student's calendars by priority."""
    query = (
        select(
            AvailabilityCalendar.priority,
            AvailabilityCalendar.start_date,
            AvailabilityCalendar.end_date,
        )
        .where(AvailabilityCalendar.student_id == student_id)
        .order_by(AvailabilityCalendar.priority)
    )
    with db.reading() as session:
        return [CalendarEntry(*row) for row in session.execute(query)]
