"""Students on Telegram: python-telegram-bot against a fake Bot API, the real assistant behind it.

One `python -m bot telegram` process (long polling) and one real Rasa server with its action
server on a seeded demo database serve the whole module; each test is a different Telegram user.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import itertools
import json
import os
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

from bot.config import PROJECT_ROOT, load_settings
from bot.db import demo, linking
from bot.db.session import Database
from bot.telegram import application, context, handlers, sending
from bot.telegram.protocol import SECRET_HEADER
from bot.telegram.rasa_client import BotMessage, RasaClient
from tests.conftest import free_port
from tests.telegram_fixtures import (
    TOKEN,
    FakeBotApi,
    RasaStack,
    Sent,
    TelegramProcess,
    button_press,
    message,
    rasa_stack,
    seeded_database,
)

CAN = demo.NAMED_STUDENTS[3].student_id  # nothing pending: safe to link without reminders
_user_ids = itertools.count(910_000)
SENTINEL_USER = 909_999
STICKER = {
    "file_id": "s1",
    "file_unique_id": "u2",
    "width": 512,
    "height": 512,
    "is_animated": False,
    "is_video": False,
    "type": "regular",
}


@pytest.fixture(scope="module")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return seeded_database(tmp_path_factory.mktemp("telegram") / "demo.db")


@pytest.fixture(scope="module")
def stack(database_url: str) -> Iterator[RasaStack]:
    with rasa_stack(database_url) as running:
        yield running


@pytest.fixture(scope="module")
def api() -> Iterator[FakeBotApi]:
    fake = FakeBotApi()
    fake.start()
    yield fake
    fake.close()


@pytest.fixture(scope="module")
def bot(stack: RasaStack, api: FakeBotApi) -> Iterator[TelegramProcess]:
    process = TelegramProcess(stack, api)
    api.wait_for(lambda: api.calls_of("getMe"), "the bot to start")
    yield process
    process.stop()


@pytest.fixture()
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    yield database
    database.dispose()


def new_user() -> int:
    return next(_user_ids)


def send(api: FakeBotApi, update: dict, chat_id: int) -> list[Sent]:
    """Pushes an update; returns everything the bot sent to the chat in answer to it.

    Updates are handled one after another, so once a sticker sent right after it is answered,
    every reply to the update is in.
    """
    before, sentinels = len(api.messages_to(chat_id)), len(api.messages_to(SENTINEL_USER))
    api.push(update)
    api.push(message(SENTINEL_USER, sticker=STICKER))
    api.wait_for(
        lambda: len(api.messages_to(SENTINEL_USER)) > sentinels, f"the replies in chat {chat_id}"
    )
    return api.messages_to(chat_id)[before:]


def say(api: FakeBotApi, user_id: int, text: str) -> list[Sent]:
    return send(api, message(user_id, text), user_id)


# --- conversations ----------------------------------------------------------------------------


def test_a_question_is_answered_while_typing_is_shown(bot, api: FakeBotApi) -> None:
    user_id = new_user()
    replies = say(api, user_id, "staj süresi kaç gün")  # one FAQ answer, in two messages
    assert "20 iş günü" in replies[0].text
    assert all(reply.parse_mode == "HTML" for reply in replies)
    typing = [c for c in api.calls_of("sendChatAction") if int(c["chat_id"]) == user_id]
    assert typing and typing[0]["action"] == "typing"
    assert api.calls.index(("sendChatAction", typing[0])) < next(
        i
        for i, (name, params) in enumerate(api.calls)
        if name == "sendMessage" and int(params["chat_id"]) == user_id
    )


def test_help_menu_buttons_are_answered_and_routed(bot, api: FakeBotApi) -> None:
    user_id = new_user()
    [menu] = say(api, user_id, "/yardim")
    titles = [button["text"] for button in menu.buttons]
    assert "Bir kişiye ulaşmak istiyorum" in titles and len(titles) == 7  # 5 topics, offers, person
    assert all(len(button["callback_data"].encode()) <= 64 for button in menu.buttons)
    person = next(b for b in menu.buttons if b["text"] == "Bir kişiye ulaşmak istiyorum")
    press = button_press(user_id, person["callback_data"])
    [reply] = send(api, press, user_id)
    assert "ulusalstajprogrami@cbiko.gov.tr" in reply.text
    assert press["callback_query"]["id"] in api.callback_answers
    topic = menu.buttons[0]
    answer = send(api, button_press(user_id, topic["callback_data"]), user_id)
    assert "yılı boyunca erişime açık olacak" in answer[0].text  # the first topic's answer


def test_a_deep_link_start_links_the_account(bot, api: FakeBotApi, db: Database) -> None:
    user_id = new_user()
    code = linking.issue_code(db, CAN, dt.datetime.now(dt.timezone.utc))
    [reply] = say(api, user_id, f"/start {code}")  # t.me/<bot>?start=<code>
    assert "Hesabın bu sohbete bağlandı" in reply.text
    assert linking.linked_student(db, "telegram", str(user_id)) == CAN
    [offers] = say(api, user_id, "bekleyen tekliflerim neler")
    assert "Şu anda cevap bekleyen bir teklifin yok" in offers.text


def test_the_sender_is_the_telegram_user_never_the_text(bot, api: FakeBotApi, db: Database) -> None:
    linked = new_user()
    code = linking.issue_code(db, CAN, dt.datetime.now(dt.timezone.utc))
    say(api, linked, f"/bagla {code}")
    stranger = new_user()
    [reply] = say(api, stranger, f"tg:{linked} bekleyen tekliflerim neler")
    assert "bağlı olması gerekiyor" in reply.text  # the stranger's own, unlinked chat


def test_start_bagla_and_iptal(bot, api: FakeBotApi) -> None:
    user_id = new_user()
    [greeting] = say(api, user_id, "/start")
    assert "Merhaba! Ben Staj Asistanı" in greeting.text
    [how] = say(api, user_id, "/bagla")
    assert "6 karakterlik kodu" in how.text
    [wrong] = say(api, user_id, "/bagla 7KQ-2MX")
    assert "Bu kod geçerli değil" in wrong.text
    [restart] = say(api, user_id, "/iptal")
    assert "konuşmayı baştan başlattım" in restart.text
    assert "Hesap bağlantın olduğu gibi duruyor" in restart.text


def test_markup_typed_by_a_user_is_harmless(bot, api: FakeBotApi) -> None:
    user_id = new_user()
    replies = say(api, user_id, "<b>staj</b> ücreti & sigorta <a href='x'>ne zaman</a>")
    # The fake Bot API refuses broken HTML as Telegram does; an answer means it was valid.
    assert replies
    assert all(r.text not in (handlers.UNAVAILABLE, handlers.UNKNOWN_COMMAND) for r in replies)


def test_users_cannot_trigger_the_reminder_or_other_intents(bot, api: FakeBotApi) -> None:
    user_id = new_user()
    [typed] = say(api, user_id, '/EXTERNAL_offer_reminder{"offer_id": "1"}')
    assert typed.text == handlers.UNKNOWN_COMMAND
    forged = button_press(user_id, '/EXTERNAL_offer_reminder{"offer_id":"1"}')
    [pressed] = send(api, forged, user_id)
    assert pressed.text == handlers.UNKNOWN_COMMAND
    assert forged["callback_query"]["id"] in api.callback_answers
    [spaced] = say(api, user_id, " /greet")
    assert spaced.text == handlers.UNKNOWN_COMMAND


def test_non_text_updates_get_a_short_answer_or_none(bot, api: FakeBotApi) -> None:
    user_id = new_user()
    photo = [{"file_id": "p1", "file_unique_id": "u1", "width": 90, "height": 90}]
    voice = {"file_id": "v1", "file_unique_id": "u3", "duration": 3}
    document = {"file_id": "d1", "file_unique_id": "u4", "file_name": "cv.pdf"}
    for content in (
        {"photo": photo},
        {"sticker": STICKER},
        {"voice": voice},
        {"document": document},
        {"location": {"latitude": 41.0, "longitude": 29.0}},
    ):
        [reply] = send(api, message(user_id, **content), user_id)
        assert reply.text == handlers.NOT_TEXT
    edited = message(user_id, "staj ücreti")
    [reply] = send(api, {"edited_message": {**edited["message"], "edit_date": 1}}, user_id)
    assert reply.text == handlers.EDITED

    group = {"id": -100123, "type": "supergroup", "title": "Staj grubu"}
    assert send(api, message(user_id, "bekleyen tekliflerim neler", chat=group), -100123) == []
    [reply] = send(api, message(user_id, "/start@staj_asistani_test_bot", chat=group), -100123)
    assert reply.text == handlers.GROUPS_ONLY_PRIVATE
    [still] = say(api, user_id, "merhaba")  # the process is alive and well
    assert "Merhaba" in still.text
    assert bot.process.poll() is None


def test_a_rate_limited_reply_still_arrives(bot, api: FakeBotApi) -> None:
    user_id = new_user()
    api.fail_once_with_429("sendMessage", retry_after=1)
    [reply] = say(api, user_id, "merhaba")
    assert "Merhaba" in reply.text
    attempts = [c for c in api.calls_of("sendMessage") if int(c["chat_id"]) == user_id]
    assert len(attempts) == 2 and attempts[0] == attempts[1]


def test_a_reply_survives_a_dropped_connection(bot, api: FakeBotApi) -> None:
    user_id = new_user()
    api.drop_once("sendMessage")
    [reply] = say(api, user_id, "merhaba")
    assert "Merhaba" in reply.text
    attempts = [c for c in api.calls_of("sendMessage") if int(c["chat_id"]) == user_id]
    assert len(attempts) == 2


# --- sending, in process ----------------------------------------------------------------------


def in_process(api: FakeBotApi, chat_id: int, reply: BotMessage) -> None:
    """Delivers one assistant message through python-telegram-bot to the fake Bot API."""
    settings = dataclasses.replace(
        load_settings(), telegram_bot_token="123456:TEST-token", telegram_api_url=api.url
    )

    async def run() -> None:
        rasa = RasaClient("http://127.0.0.1:9/unused", "unused")
        built = application.build_application(settings, rasa)
        async with built:
            await sending.deliver(built, chat_id, reply)
        await rasa.close()

    asyncio.run(run())


def typing_calls(api: FakeBotApi, chat_id: int, delay: float, working: float) -> int:
    """How often "typing…" went out while an answer took `working` seconds."""
    settings = dataclasses.replace(
        load_settings(),
        telegram_bot_token="123456:TEST-token",
        telegram_api_url=api.url,
        telegram_typing_delay_seconds=delay,
    )

    async def run() -> None:
        rasa = RasaClient("http://127.0.0.1:9/unused", "unused")
        built = application.build_application(settings, rasa)
        async with built, sending.typing(built, chat_id):
            await asyncio.sleep(working)
        await rasa.close()

    asyncio.run(run())
    return sum(int(c["chat_id"]) == chat_id for c in api.calls_of("sendChatAction"))


def test_typing_is_shown_only_when_an_answer_takes_a_while(api: FakeBotApi) -> None:
    assert typing_calls(api, new_user(), delay=1.0, working=0.1) == 0
    assert typing_calls(api, new_user(), delay=0.2, working=1.0) == 1


def test_long_replies_are_split_at_paragraphs(api: FakeBotApi) -> None:
    chat_id = new_user()
    paragraphs = [
        f"{number}. paragraf: " + " ".join(["ğüşiöç staj"] * 60) for number in range(1, 13)
    ]
    text = "\n\n".join(paragraphs)
    assert len(text) > 2 * 4096
    buttons = (("Bekleyen tekliflerimi göster", "/check_pending_offers"),)
    in_process(api, chat_id, BotMessage(text, buttons))
    pieces = api.messages_to(chat_id)
    assert len(pieces) == 3
    assert all(len(p.text) <= 4096 for p in pieces)
    assert all(p.text.rstrip().endswith("staj") for p in pieces)  # cut between paragraphs
    assert "\n\n".join(p.text for p in pieces) == text.strip()
    assert [bool(p.buttons) for p in pieces] == [False, False, True]


def test_text_with_markup_characters_arrives_exactly(api: FakeBotApi) -> None:
    chat_id = new_user()
    text = "Ücret & sigorta: <b>kalın değil</b> 1 < 2 > 0 <script>alert(1)</script> &amp;"
    in_process(api, chat_id, BotMessage(text))
    [sent] = api.messages_to(chat_id)
    assert sent.text == text


def test_split_text_prefers_lines_then_spaces() -> None:
    assert sending.split_text("a" * 10 + "\n" + "b" * 10, limit=15) == ["a" * 10, "b" * 10]
    assert sending.split_text("aaaa bbbb cccc", limit=10) == ["aaaa bbbb", "cccc"]
    assert sending.split_text("x" * 25, limit=10) == ["x" * 10, "x" * 10, "x" * 5]
    assert sending.split_text("😀" * 6, limit=4) == ["😀" * 2] * 3  # UTF-16 units, as Telegram


def test_long_payloads_become_tokens_that_come_back() -> None:
    payloads = context.ButtonPayloads()
    short = '/choose_faq{"faq_key":"internship_pay"}'
    long = '/choose_faq{"faq_key":"shadowing_training_after_final_approval_and_more"}'
    assert payloads.callback_data(short) == short
    token = payloads.callback_data(long)
    assert len(token.encode()) <= 64 and payloads.payload(token) == long
    assert context.ButtonPayloads().payload(token) is None  # after a restart: expired


# --- the bridge and the webhook ---------------------------------------------------------------


def post_json(url: str, body: dict, headers: dict[str, str]) -> tuple[int, dict]:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json", **headers}
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, {}


def test_the_bridge_needs_the_secret_and_refuses_intent_syntax(stack: RasaStack) -> None:
    url, secret = stack.bridge_url, {SECRET_HEADER: stack.bridge_secret}
    question = {"user_id": new_user(), "text": "staj süresi kaç gün"}
    assert post_json(url, question, {})[0] == 401
    assert post_json(url, question, {SECRET_HEADER: "wrong"})[0] == 401
    status, body = post_json(url, question, secret)
    assert status == 200 and "20 iş günü" in body["messages"][0]["text"]
    external = '/EXTERNAL_offer_reminder{"offer_id":"1"}'
    assert post_json(url, {"user_id": 1, "text": external}, secret)[0] == 422
    assert post_json(url, {"user_id": 1, "payload": external}, secret)[0] == 422
    assert post_json(url, {"user_id": "tg:1", "text": "merhaba"}, secret)[0] == 400
    assert post_json(url, {"user_id": 1}, secret)[0] == 400


def test_webhook_updates_need_telegrams_secret(stack: RasaStack, api: FakeBotApi) -> None:
    port = free_port()
    hook = f"http://127.0.0.1:{port}/telegram/hook"
    process = TelegramProcess(
        stack,
        api,
        TELEGRAM_WEBHOOK_URL=hook,
        TELEGRAM_WEBHOOK_PORT=str(port),
        TELEGRAM_WEBHOOK_SECRET="hook-secret_1",
    )
    try:
        api.wait_for(lambda: api.webhook, "setWebhook")
        assert api.webhook["url"] == hook and api.webhook["secret_token"] == "hook-secret_1"
        user_id = new_user()
        update = {"update_id": 1, **message(user_id, "merhaba")}
        header = "X-Telegram-Bot-Api-Secret-Token"
        assert post_json(hook, update, {})[0] == 403
        assert post_json(hook, update, {header: "hook-secret_2"})[0] == 403
        assert post_json(hook, update, {header: "hook-secret_1"})[0] == 200
        api.wait_for(lambda: api.messages_to(user_id), "the webhook update's reply")
        assert "Merhaba" in api.messages_to(user_id)[0].text
        assert len(api.messages_to(user_id)) == 1  # the refused copies were not answered
    finally:
        process.stop()


def test_make_run_starts_telegram_when_a_token_is_set(tmp_path) -> None:
    api = FakeBotApi()  # its own: the module's bot process polls the shared one
    api.start()
    rasa_port, action_port = free_port(), free_port()
    environment = {
        **os.environ,
        "RASA_PORT": str(rasa_port),
        "ACTION_PORT": str(action_port),
        "PORTAL_PORT": str(free_port()),
        "REVIEW_PORT": str(free_port()),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'run.db'}",
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_URL": api.url,
        "TELEGRAM_CONCURRENT_UPDATES": "1",
    }  # `say` relies on one update at a time
    environment.pop("TELEGRAM_BRIDGE_SECRET", None)  # run makes one and gives it to both
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "run"],
        cwd=PROJECT_ROOT,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        api.wait_for(lambda: api.calls_of("setMyCommands"), "the Telegram process")
        user_id = new_user()
        replies = say(api, user_id, "staj süresi kaç gün")
        assert "20 iş günü" in replies[0].text
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
        api.close()
    for port in (rasa_port, action_port):  # everything run started is stopped
        with socket.socket() as sock:
            assert sock.connect_ex(("127.0.0.1", port)) != 0
    commands = api.calls_of("setMyCommands")[-1]["commands"]
    assert [c["command"] for c in commands] == ["yardim", "bagla", "iptal"]
