"""Status actions about offers: pending offers, rights left this year, interviews."""

from __future__ import annotations

import datetime as dt

from rasa_sdk.executor import CollectingDispatcher

from actions.student_data import (
    ISTANBUL,
    StudentDataAction,
    local_date,
    local_time,
    time_left,
)
from bot.db import offers
from bot.db.models import InterviewMode, OfferRank, ProgramType
from bot.db.session import Database

PROGRAM_NAMES = {
    ProgramType.INTERNSHIP: "Staj",
    ProgramType.JOB_SHADOWING: "İş gölgeleme",
    ProgramType.TRAINING: "Eğitim",
}
# The FAQ's own explanation of asil and yedek offers.
RANK_LINES = {
    OfferRank.MAIN: "Asil teklif: işverenin öncelikli tercihisin.",
    OfferRank.RESERVE: "Yedek teklif: asil teklif gönderilen aday reddederse sen seçilirsin.",
}
INTERVIEW_MODES = {
    InterviewMode.ONLINE: "çevrim içi",
    InterviewMode.IN_PERSON: "yüz yüze",
    InterviewMode.PHONE: "telefonla",
}


def describe_offer(number: int, offer: offers.PendingOffer, now: dt.datetime) -> str:
    """One pending offer, as a short block of lines."""
    contact = offer.responsible
    lines = [
        f"{number}) {offer.employer_name} — {PROGRAM_NAMES[offer.program_type]}",
        f"   {RANK_LINES[offer.rank]}",
        f"   Tarih ve şehir: {local_date(offer.start_date)} – {local_date(offer.end_date)}, "
        f"{offer.city}",
        f"   Son cevap: {local_time(offer.response_deadline)} "
        f"({time_left(offer.response_deadline, now)} kaldı)",
        f"   Sorumlu kişi: {contact.full_name} ({contact.title}), {contact.email}, "
        f"{contact.phone}",
    ]
    if offer.note:
        lines.append(f"   Not: {offer.note}")
    return "\n".join(lines)


class ActionCheckPendingOffers(StudentDataAction):
    """The student's pending offers, soonest deadline first."""

    def name(self) -> str:
        """Action name in the domain."""
        return "action_check_pending_offers"

    def answer(self, dispatcher: CollectingDispatcher, db: Database, student_id: int,
               now: dt.datetime) -> None:
        """Lists the offers or says there are none."""
        pending = offers.pending_offers(db, student_id, now)
        if not pending:
            dispatcher.utter_message(response="utter_no_pending_offers")
            return
        blocks = "\n\n".join(describe_offer(i, o, now) for i, o in enumerate(pending, start=1))
        dispatcher.utter_message(response="utter_pending_offers", count=len(pending),
                                 offers=blocks)


class ActionCheckRightsLeft(StudentDataAction):
    """Which programs the student can still join this year."""

    def name(self) -> str:
        """Action name in the domain."""
        return "action_check_rights_left"

    def answer(self, dispatcher: CollectingDispatcher, db: Database, student_id: int,
               now: dt.datetime) -> None:
        """One line per program type: used (where) or still available."""
        year = now.astimezone(ISTANBUL).year
        used = offers.rights_used(db, student_id, year)
        lines = [
            f"• {name}: " + (f"hakkını kullandın ({used[kind]})" if kind in used
                             else "hakkın var")
            for kind, name in PROGRAM_NAMES.items()
        ]
        dispatcher.utter_message(response="utter_rights_left", year=year,
                                 rights="\n".join(lines))


class ActionCheckInterviews(StudentDataAction):
    """The student's upcoming interviews."""

    def name(self) -> str:
        """Action name in the domain."""
        return "action_check_interviews"

    def answer(self, dispatcher: CollectingDispatcher, db: Database, student_id: int,
               now: dt.datetime) -> None:
        """Lists them or says there are none."""
        interviews = offers.upcoming_interviews(db, student_id, now)
        if not interviews:
            dispatcher.utter_message(response="utter_no_interviews")
            return
        lines = "\n".join(
            f"• {i.employer_name}: {local_time(i.scheduled_at)}, {INTERVIEW_MODES[i.mode]}"
            for i in interviews
        )
        dispatcher.utter_message(response="utter_interviews", interviews=lines)
