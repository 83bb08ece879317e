"""Status action: the student's availability calendars (TAKVİMLERİM)."""

from __future__ import annotations

import datetime as dt

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.student_data import StudentDataAction, local_date
from bot.db import calendar
from bot.db.models import MAX_CALENDARS
from bot.db.session import Database


class ActionCheckCalendar(StudentDataAction):
    """Calendars by priority, how many of five are used, and that other dates may come."""

    def name(self) -> str:
        """Action name in the domain."""
        return "action_check_calendar"

    def answer(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        db: Database,
        student_id: int,
        now: dt.datetime,
    ) -> None:
        """Lists the calendars or says there are none."""
        entries = calendar.calendars(db, student_id)
        if not entries:
            dispatcher.utter_message(response="utter_no_calendars", max_calendars=MAX_CALENDARS)
            return
        lines = "\n".join(
            f"{c.priority}. öncelik: {local_date(c.start_date)} – {local_date(c.end_date)}"
            for c in entries
        )
        dispatcher.utter_message(
            response="utter_calendars",
            used=len(entries),
            max_calendars=MAX_CALENDARS,
            calendars=lines,
        )
