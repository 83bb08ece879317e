"""Status actions about offers: pending offers, one offer's details, rights left, interviews."""

from __future__ import annotations

import datetime as dt
import json

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.student_data import (
    ISTANBUL,
    StudentDataAction,
    local_date,
    local_time,
    time_left,
)
from bot.db import offers
from bot.db.models import InterviewMode, OfferRank, OfferStatus, ProgramType
from bot.db.session import Database
from bot.text.turkish import normalize

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
# Statuses as the portal and the FAQ name them.
STATUS_NAMES = {
    OfferStatus.PENDING: "Cevabını bekliyor",
    OfferStatus.ACCEPTED: "Kabul ettin; işverenin değerlendirmesinde",
    OfferStatus.REJECTED: "Reddedildi",
    OfferStatus.EXPIRED: "Süresinde cevap verilmediği için reddedilmiş sayıldı",
    OfferStatus.ADDITIONAL_EVALUATION: "Ek değerlendirmede",
    OfferStatus.FINAL_APPROVAL: "İşveren son onayı verdi",
    OfferStatus.CANCELLED: "İptal Edilmiştir",
    OfferStatus.STARTED: "Program başladı",
    OfferStatus.COMPLETED: "Tamamlandı",
    OfferStatus.ABANDONED: "Yarıda Bıraktı/Tamamlamadı",
}
# Still in play: what a student most likely means by "my offer" when naming no employer.
ACTIVE_STATUSES = frozenset(
    {
        OfferStatus.PENDING,
        OfferStatus.ACCEPTED,
        OfferStatus.ADDITIONAL_EVALUATION,
        OfferStatus.FINAL_APPROVAL,
        OfferStatus.STARTED,
    }
)
# Words of company names that say nothing about which company is meant.
GENERIC_NAME_WORDS = frozenset({"ltd", "sti", "san", "tic", "sirketi", "holding"})
INTERVIEW_MODES = {
    InterviewMode.ONLINE: "çevrim içi",
    InterviewMode.IN_PERSON: "yüz yüze",
    InterviewMode.PHONE: "telefonla",
}


def contact_line(label: str, contact: offers.Contact) -> str:
    """A contact person on one line."""
    return f"{label}: {contact.full_name} ({contact.title}), {contact.email}, {contact.phone}"


def describe_offer(number: int, offer: offers.OfferDetails, now: dt.datetime) -> str:
    """One pending offer, as a short block of lines."""
    contact = offer.responsible
    lines = [
        f"{number}) {offer.employer_name} — {PROGRAM_NAMES[offer.program_type]}",
        f"   {RANK_LINES[offer.rank]}",
        f"   Tarih ve şehir: {local_date(offer.start_date)} – {local_date(offer.end_date)}, "
        f"{offer.city}",
        f"   Son cevap: {local_time(offer.response_deadline)} "
        f"({time_left(offer.response_deadline, now)} kaldı)",
        "   " + contact_line("Sorumlu kişi", contact),
    ]
    if offer.note:
        lines.append(f"   Not: {offer.note}")
    return "\n".join(lines)


class ActionCheckPendingOffers(StudentDataAction):
    """The student's pending offers, soonest deadline first."""

    def name(self) -> str:
        """Action name in the domain."""
        return "action_check_pending_offers"

    def answer(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        db: Database,
        student_id: int,
        now: dt.datetime,
    ) -> None:
        """Lists the offers or says there are none."""
        pending = offers.pending_offers(db, student_id, now)
        if not pending:
            dispatcher.utter_message(response="utter_no_pending_offers")
            return
        blocks = "\n\n".join(describe_offer(i, o, now) for i, o in enumerate(pending, start=1))
        dispatcher.utter_message(response="utter_pending_offers", count=len(pending), offers=blocks)


def offer_details(offer: offers.OfferDetails, now: dt.datetime) -> str:
    """Everything the student may want to know about one offer."""
    lines = [
        f"{offer.employer_name} — {PROGRAM_NAMES[offer.program_type]}",
        f"Durum: {STATUS_NAMES[offer.status]}",
        RANK_LINES[offer.rank],
        f"Tarih ve şehir: {local_date(offer.start_date)} – {local_date(offer.end_date)}, "
        f"{offer.city}",
    ]
    if offer.status is OfferStatus.PENDING and offer.response_deadline > now:
        lines.append(
            f"Son cevap: {local_time(offer.response_deadline)} "
            f"({time_left(offer.response_deadline, now)} kaldı)"
        )
    if offer.note:
        lines.append(f"Not: {offer.note}")
    lines.append(contact_line("Sorumlu kişi", offer.responsible))
    if offer.sender != offer.responsible:
        lines.append(contact_line("Teklifi gönderen", offer.sender))
    return "\n".join(lines)


def name_words(text: str) -> list[str]:
    """The telling words of a text, normalised as the NLU pipeline does."""
    return [
        word
        for word in normalize(text).split()
        if len(word) >= 3 and word not in GENERIC_NAME_WORDS
    ]


def offers_named_in(
    message: str, candidates: list[offers.OfferDetails]
) -> list[offers.OfferDetails]:
    """The offers whose employer the message names ("Atlas'taki teklif", "atlastaki teklif")."""
    said = name_words(message)

    def mentions(word: str) -> bool:
        # A word with a Turkish suffix glued on ("atlastaki") still names the company.
        return any(token == word or (len(word) >= 4 and token.startswith(word)) for token in said)

    scores = {o.offer_id: sum(mentions(w) for w in name_words(o.employer_name)) for o in candidates}
    best = max(scores.values(), default=0)
    return [o for o in candidates if best and scores[o.offer_id] == best]


def offer_button(offer: offers.OfferDetails) -> dict[str, str]:
    """A button that shows one offer's details."""
    payload = json.dumps({"offer_id": str(offer.offer_id)}, separators=(",", ":"))
    return {
        "title": f"{offer.employer_name} ({PROGRAM_NAMES[offer.program_type]})",
        "payload": f"/check_offer_details{payload}",
    }


class ActionCheckOfferDetails(StudentDataAction):
    """One offer in full, picked by the employer's name (or a button), among the student's own."""

    def name(self) -> str:
        """Action name in the domain."""
        return "action_check_offer_details"

    def answer(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        db: Database,
        student_id: int,
        now: dt.datetime,
    ) -> None:
        """Shows the offer(s) meant, or asks which one."""
        own = offers.student_offers(db, student_id)
        if not own:
            dispatcher.utter_message(response="utter_no_offers")
            return
        offer_id = next(tracker.get_latest_entity_values("offer_id"), None)
        if offer_id is not None:
            chosen = [o for o in own if str(o.offer_id) == str(offer_id)]
        else:
            chosen = offers_named_in(tracker.latest_message.get("text") or "", own)
            active = [o for o in own if o.status in ACTIVE_STATUSES]
            if not chosen and len(active) == 1:
                chosen = active
            elif not chosen:
                dispatcher.utter_message(
                    response="utter_which_offer",
                    buttons=[offer_button(o) for o in (active or own)[:8]],
                )
                return
        if not chosen:
            dispatcher.utter_message(
                response="utter_offer_not_found", buttons=[offer_button(o) for o in own[:8]]
            )
            return
        details = "\n\n".join(offer_details(o, now) for o in chosen)
        dispatcher.utter_message(response="utter_offer_details", details=details)


class ActionCheckRightsLeft(StudentDataAction):
    """Which programs the student can still join this year."""

    def name(self) -> str:
        """Action name in the domain."""
        return "action_check_rights_left"

    def answer(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        db: Database,
        student_id: int,
        now: dt.datetime,
    ) -> None:
        """One line per program type: used (where) or still available."""
        year = now.astimezone(ISTANBUL).year
        used = offers.rights_used(db, student_id, year)
        lines = [
            f"• {name}: " + (f"hakkını kullandın ({used[kind]})" if kind in used else "hakkın var")
            for kind, name in PROGRAM_NAMES.items()
        ]
        dispatcher.utter_message(response="utter_rights_left", year=year, rights="\n".join(lines))


class ActionCheckInterviews(StudentDataAction):
    """The student's upcoming interviews."""

    def name(self) -> str:
        """Action name in the domain."""
        return "action_check_interviews"

    def answer(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        db: Database,
        student_id: int,
        now: dt.datetime,
    ) -> None:
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
