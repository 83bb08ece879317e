"""The minimum stipend of the student's accepted internships (3308 s. Kanun md. 25, per the FAQ)."""

from __future__ import annotations

import datetime as dt

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.student_data import StudentDataAction, local_date
from bot import stipend
from bot.config import NetMinimumWage, load_settings
from bot.db import offers
from bot.db.session import Database

# "%30'u" (otuzu), "%15'i" (on beşi): the suffix follows how the number is read.
PERCENT_WITH_SUFFIX = {30: "%30'u", 15: "%15'i"}


def workplace_size(employee_count: int) -> str:
    """The headcount and which side of the rule's line it falls on."""
    side = (
        "yirmi ve üzerinde personel"
        if employee_count >= stipend.LARGE_WORKPLACE_EMPLOYEES
        else "yirmiden az personel"
    )
    return f"{employee_count} çalışan, {side}"


def stipend_line(internship: offers.OfferDetails, wage: NetMinimumWage | None) -> str:
    """One internship's lower limit, in lira when the wage is configured."""
    percent = stipend.stipend_percent(internship.employee_count)
    line = (
        f"• {internship.employer_name} ({workplace_size(internship.employee_count)}): "
        f"asgari ücretin net tutarının en az {PERCENT_WITH_SUFFIX[percent]}"
    )
    if wage is not None:
        amount = stipend.minimum_stipend(internship.employee_count, wage.amount)
        line += f", yani aylık en az {stipend.format_lira(amount)}"
    return line


def wage_line(wage: NetMinimumWage | None) -> str:
    """Which net minimum wage the figures use, or why there are no figures."""
    if wage is None:
        return (
            "Net asgari ücret tutarı bana tanımlanmadığı için TL karşılığını "
            "hesaplayamıyorum; oranlar yukarıdaki gibidir."
        )
    return (
        f"Hesapta kullanılan net asgari ücret: {stipend.format_lira(wage.amount)} "
        f"({wage.source}, {local_date(wage.effective_date)} itibarıyla)."
    )


class ActionCheckStipend(StudentDataAction):
    """The least the employer must pay for each accepted internship."""

    def name(self) -> str:
        """Action name in the domain."""
        return "action_check_stipend"

    def answer(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        db: Database,
        student_id: int,
        now: dt.datetime,
    ) -> None:
        """One line per accepted internship, or the rule when there is none."""
        internships = offers.accepted_internships(db, student_id)
        if not internships:
            dispatcher.utter_message(response="utter_no_accepted_internship")
            return
        wage = load_settings().net_minimum_wage
        lines = "\n".join(stipend_line(internship, wage) for internship in internships)
        dispatcher.utter_message(response="utter_stipend", internships=lines, wage=wage_line(wage))
