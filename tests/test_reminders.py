"""Offer deadline reminders: due offers, one claim per offer, and the real scheduler end to end."""

from __future__ import annotations

import datetime as dt
import json
import urllib.request
from collections.abc import Iterator

import pytest

from actions.offers import PROGRAM_NAMES
from actions.student_data import local_time
from bot.db import demo, linking, offers, reminders
from bot.db.models import OfferStatus
from bot.db.session import Database
from tests.conftest import free_port
from tests.db_fixtures import World
from tests.telegram_fixtures import (
    FakeBotApi,
    RasaStack,
    Sent,
    TelegramProcess,
    button_press,
    message,
    rasa_stack,
    seeded_database,
)

ELIF = demo.NAMED_STUDENTS[0].student_id  # two pending offers, one due tomorrow
DAY = dt.timedelta(hours=24)
CHECK_DONE = "reminder check done"


def now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def link(db: Database, student_id: int, telegram_user_id: str) -> None:
    result = linking.redeem_code(
        db, "telegram", telegram_user_id, linking.issue_code(db, student_id, now()), now()
    )
    assert result.outcome is linking.LinkOutcome.LINKED


# --- the repository, on SQLite and PostgreSQL ------------------------------------------------


def test_due_reminders_are_pending_offers_of_linked_chats_within_the_window(
    database: Database,
) -> None:
    world = World(database)
    employer = world.employer()
    linked, unlinked = world.student(), world.student()
    link(database, linked, "111")
    due = world.offer(linked, employer, deadline=now() + dt.timedelta(hours=5))
    world.offer(linked, employer, deadline=now() + dt.timedelta(hours=30))  # outside the window
    world.offer(linked, employer, deadline=now() - dt.timedelta(hours=1))  # already past
    world.offer(
        linked, employer, status=OfferStatus.REJECTED, deadline=now() + dt.timedelta(hours=5)
    )
    world.offer(unlinked, employer, deadline=now() + dt.timedelta(hours=5))
    assert reminders.due_reminders(database, now(), DAY) == [reminders.DueReminder(due, "111")]
    link(database, linked, "222")  # the most recently linked chat gets it
    assert reminders.due_reminders(database, now(), DAY) == [reminders.DueReminder(due, "222")]
    linking.unlink(database, "telegram", "222")
    linking.unlink(database, "telegram", "111")
    assert reminders.due_reminders(database, now(), DAY) == []


def test_an_offer_is_claimed_once_and_a_failed_delivery_is_released(database: Database) -> None:
    world = World(database)
    student = world.student()
    link(database, student, "333")
    offer = world.offer(student, world.employer(), deadline=now() + dt.timedelta(hours=2))
    [due] = reminders.due_reminders(database, now(), DAY)
    assert reminders.claim(database, due, now())
    assert not reminders.claim(database, due, now())  # a second process, or a second check
    assert reminders.due_reminders(database, now(), DAY) == []
    reminders.release(database, offer)
    assert reminders.due_reminders(database, now(), DAY) == [due]
    assert reminders.claim(database, due, now())
    reminders.mark_sent(database, offer, now())
    reminders.release(database, offer)  # a sent reminder stays recorded
    assert reminders.due_reminders(database, now(), DAY) == []


def test_demo_refresh_still_works_after_reminders(database: Database) -> None:
    demo.seed(database, 5, now(), progress=False)
    link(database, ELIF, "444")
    [due] = reminders.due_reminders(database, now() + dt.timedelta(minutes=1), DAY)
    assert reminders.claim(database, due, now())
    demo.seed(database, 5, now(), progress=False)  # re-creates Elif's offers
    assert len(offers.pending_offers(database, ELIF, now())) == 2


# --- end to end: scheduler in the Telegram process, Rasa, action server ----------------------


@pytest.fixture(scope="module")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return seeded_database(tmp_path_factory.mktemp("reminders") / "demo.db")


@pytest.fixture(scope="module")
def stack(database_url: str) -> Iterator[RasaStack]:
    with rasa_stack(database_url) as running:
        yield running


@pytest.fixture()
def api() -> Iterator[FakeBotApi]:
    fake = FakeBotApi()
    fake.start()
    yield fake
    fake.close()


def reminders_to(api: FakeBotApi, chat_id: int) -> list[Sent]:
    return [sent for sent in api.messages_to(chat_id) if sent.text.startswith("⏰ Hatırlatma")]


def link_on_telegram(api: FakeBotApi, db: Database, user_id: int) -> None:
    """The student opens the portal's t.me link: /start <code>."""
    code = linking.issue_code(db, ELIF, now())
    before = len(api.messages_to(user_id))
    api.push(message(user_id, f"/start {code}"))
    api.wait_for(
        lambda: any("bağlandı" in s.text for s in api.messages_to(user_id)[before:]),
        "the link confirmation",
    )


def tracker_events(stack: RasaStack, sender_id: str) -> list[dict]:
    port = stack.environment["RASA_PORT"]
    with urllib.request.urlopen(
        f"http://127.0.0.1:{port}/conversations/{sender_id}/tracker", timeout=60
    ) as response:
        return json.load(response)["events"]


def test_one_reminder_per_offer_only_to_linked_chats_and_never_again_after_a_restart(
    stack: RasaStack, api: FakeBotApi, database_url: str
) -> None:
    db = Database(database_url)
    chat_a, chat_b = 920_001, 920_002
    every_second = {"REMINDER_INTERVAL_SECONDS": "1", "REMINDER_WINDOW_HOURS": "24"}
    first = TelegramProcess(stack, api, **every_second)
    try:
        link_on_telegram(api, db, chat_a)
        [reminder] = api.wait_for(lambda: reminders_to(api, chat_a), "the reminder")
        tomorrow, later = offers.pending_offers(db, ELIF, now())
        assert later.response_deadline - now() > dt.timedelta(days=3)  # outside the window
        assert reminder.text.startswith(
            f"⏰ Hatırlatma: {tomorrow.employer_name} — "
            f"{PROGRAM_NAMES[tomorrow.program_type]} teklifine"
        )
        assert local_time(tomorrow.response_deadline) in reminder.text  # Istanbul time
        assert "saat" in reminder.text and "kaldı" in reminder.text
        assert reminder.buttons[0]["callback_data"] == "/check_pending_offers"
        first.wait_for_lines(CHECK_DONE, count=3)
        assert len(reminders_to(api, chat_a)) == 1

        # It is in the transcript, as an external event followed by the bot's message.
        events = tracker_events(stack, f"tg:{chat_a}")
        external = [
            e
            for e in events
            if e["event"] == "user"
            and e["parse_data"]["intent"]["name"] == "EXTERNAL_offer_reminder"
        ]
        assert len(external) == 1
        assert any(e["event"] == "bot" and e["text"] == reminder.text for e in events)

        # The button shows the offers.
        before = len(api.messages_to(chat_a))
        api.push(button_press(chat_a, "/check_pending_offers"))
        api.wait_for(lambda: len(api.messages_to(chat_a)) > before, "the offers")
        assert "Cevap bekleyen 2 teklifin var" in api.messages_to(chat_a)[before].text
    finally:
        first.stop()

    # After a restart, with a second process beside it (webhook mode, so it does not poll):
    # nothing is sent again.
    restarted = TelegramProcess(stack, api, **every_second)
    second = TelegramProcess(
        stack,
        api,
        TELEGRAM_WEBHOOK_URL="http://127.0.0.1:9/none",
        TELEGRAM_WEBHOOK_PORT=str(free_port()),
        **every_second,
    )
    try:
        restarted.wait_for_lines(CHECK_DONE, count=2)
        second.wait_for_lines(CHECK_DONE, count=2)
        assert len(reminders_to(api, chat_a)) == 1

        # Chat A unlinks; a new offer due in 12 hours is not sent there.
        before = len(api.messages_to(chat_a))
        api.push(message(chat_a, "hesabımın bağlantısını kaldır"))
        api.wait_for(lambda: len(api.messages_to(chat_a)) > before, "the unlink answer")
        assert "bağlantısı kaldırıldı" in api.messages_to(chat_a)[before].text
        world = World(db)
        world.offer(
            ELIF, world.employer("Yeni İşveren A.Ş."), deadline=now() + dt.timedelta(hours=12)
        )
        checks = sum(CHECK_DONE in line for line in restarted.lines)
        restarted.wait_for_lines(CHECK_DONE, count=checks + 2)
        assert len(reminders_to(api, chat_a)) == 1

        # Chat B links the same student: the new offer's reminder goes there, once.
        link_on_telegram(api, db, chat_b)
        [to_b] = api.wait_for(lambda: reminders_to(api, chat_b), "the new offer's reminder")
        assert "Yeni İşveren A.Ş." in to_b.text
        for process in (restarted, second):
            checks = sum(CHECK_DONE in line for line in process.lines)
            process.wait_for_lines(CHECK_DONE, count=checks + 2)
        assert len(reminders_to(api, chat_b)) == 1
        assert len(reminders_to(api, chat_a)) == 1
    finally:
        restarted.stop()
        second.stop()
        db.dispose()
