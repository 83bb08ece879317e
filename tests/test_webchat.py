"""The web chat channel against a real `rasa run`, with real python-socketio clients."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time
import urllib.error
import urllib.request
from collections.abc import Awaitable, Callable
from typing import Any

import jwt
import pytest
import socketio

from bot.db import demo, offers
from bot.db.session import Database
from bot.portal import token as portal_token
from tests.webchat_fixtures import ChatClient, WebStack

ELIF, MERT, ZEYNEP, CAN = (named.student_id for named in demo.NAMED_STUDENTS)
FAQ_QUESTION, FAQ_ANSWER = "staj süresi kaç gün", "20 iş günü"
OFFERS_QUESTION = "bekleyen tekliflerim neler"
ELIF_OFFERS = "Cevap bekleyen 2 teklifin var"
NEEDS_VERIFIED = "doğrulayabildiğim"


def now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def token_for(stack: WebStack, student_id: int) -> str:
    return portal_token.issue(student_id, stack.settings.portal_jwt_secret, now())


def run(scenario: Callable[..., Awaitable[None]], clients: int = 1) -> None:
    """Runs a scenario with `clients` fresh chat clients, always disconnecting them."""

    async def main() -> None:
        chats = [ChatClient() for _ in range(clients)]
        try:
            await scenario(*chats)
        finally:
            for chat in chats:
                await chat.close()

    asyncio.run(main())


@pytest.fixture(scope="module")
def elif_employers(demo_database_url: str) -> set[str]:
    """Names of Elif's pending offers' employers, from the database."""
    db = Database(demo_database_url)
    try:
        return {offer.employer_name for offer in offers.pending_offers(db, ELIF, now())}
    finally:
        db.dispose()


def http_api(stack: WebStack, path: str, token: str | None) -> tuple[int, Any]:
    """GET on Rasa's HTTP API; (status, JSON body)."""
    query = f"?token={token}" if token is not None else ""
    try:
        with urllib.request.urlopen(f"{stack.rasa_url}{path}{query}", timeout=30) as reply:
            return reply.status, json.load(reply)
    except urllib.error.HTTPError as error:
        return error.code, None


def stored_tracker(stack: WebStack, student: int, user_messages: int) -> dict:
    """The student's conversation from Rasa's HTTP API, once it holds `user_messages` messages
    of the student and the turn is over: Rasa stores a turn just after its last reply goes out,
    so a test asking at once may be early."""
    deadline = time.monotonic() + 30
    while True:
        status, tracker = http_api(
            stack, f"/conversations/web:{student}/tracker", stack.settings.rasa_auth_token
        )
        assert status == 200
        events = tracker["events"]
        stored = sum(e["event"] == "user" for e in events)
        if (
            stored >= user_messages and events[-1].get("name") == "action_listen"
        ) or time.monotonic() > deadline:
            return tracker
        time.sleep(0.1)


def user_events_of(stack: WebStack, student: int) -> list[dict]:
    """The student's messages Rasa has stored so far."""
    status, tracker = http_api(
        stack, f"/conversations/web:{student}/tracker", stack.settings.rasa_auth_token
    )
    assert status == 200
    return [e for e in tracker["events"] if e["event"] == "user"]


# --- identity ------------------------------------------------------------------------------


def test_a_verified_student_gets_her_own_offers_in_her_own_conversation(
    web_stack: WebStack, elif_employers: set[str]
) -> None:
    async def scenario(elif_chat: ChatClient) -> None:
        await elif_chat.connect(web_stack.rasa_url, token_for(web_stack, ELIF))
        text = await elif_chat.ask(OFFERS_QUESTION, ELIF_OFFERS)
        assert elif_employers and all(name in text for name in elif_employers)
        assert "Sorumlu kişi:" in text

    before = len(user_events_of(web_stack, ELIF))
    run(scenario)
    tracker = stored_tracker(web_stack, ELIF, before + 1)
    user_events = [e for e in tracker["events"] if e["event"] == "user"]
    assert user_events[-1]["text"] == OFFERS_QUESTION
    assert user_events[-1]["input_channel"] == "webchat"
    assert user_events[-1]["metadata"]["webchat"] == {"verified": True}


def test_two_students_at_once_each_get_only_their_own_replies(
    web_stack: WebStack, elif_employers: set[str]
) -> None:
    async def scenario(elif_chat: ChatClient, can_chat: ChatClient) -> None:
        await elif_chat.connect(web_stack.rasa_url, token_for(web_stack, ELIF))
        await can_chat.connect(web_stack.rasa_url, token_for(web_stack, CAN))
        _, can_text = await asyncio.gather(
            elif_chat.ask(OFFERS_QUESTION, ELIF_OFFERS),
            can_chat.ask(OFFERS_QUESTION, "cevap bekleyen bir teklifin yok"),
        )
        assert ELIF_OFFERS not in can_text
        # Both sockets' streams are ordered: anything misrouted would arrive before these.
        await elif_chat.ask(FAQ_QUESTION, FAQ_ANSWER)
        await can_chat.ask(FAQ_QUESTION, FAQ_ANSWER)
        assert ELIF_OFFERS not in can_chat.texts()
        assert not any(name in can_chat.texts() for name in elif_employers)
        assert elif_chat.texts().count(FAQ_ANSWER) == 1  # Can's answers never reach Elif
        assert can_text not in elif_chat.texts()

    run(scenario, 2)


def test_a_client_chosen_session_id_never_joins_another_students_conversation(
    web_stack: WebStack, elif_employers: set[str]
) -> None:
    async def scenario(elif_chat: ChatClient, intruder: ChatClient) -> None:
        await elif_chat.connect(web_stack.rasa_url, token_for(web_stack, ELIF))
        await intruder.connect(web_stack.rasa_url)
        # What the stock SocketIOInput would have trusted: session_request and session_id.
        await intruder.sio.emit("session_request", {"session_id": f"web:{ELIF}"})
        forged = {
            "session_id": f"web:{ELIF}",
            "sender": f"web:{ELIF}",
            "customData": {"sender": f"web:{ELIF}"},
            "metadata": {"sender": f"web:{ELIF}"},
        }
        text = await intruder.ask(OFFERS_QUESTION, NEEDS_VERIFIED, **forged)
        assert ELIF_OFFERS not in text
        # Elif's own question is answered to Elif only.
        await elif_chat.ask(OFFERS_QUESTION, ELIF_OFFERS)
        await intruder.ask(FAQ_QUESTION, FAQ_ANSWER)
        assert not any(name in intruder.texts() for name in elif_employers)
        assert NEEDS_VERIFIED not in elif_chat.texts()

    before = len(user_events_of(web_stack, ELIF))
    run(scenario, 2)
    tracker = stored_tracker(web_stack, ELIF, before + 1)
    assert all(
        e.get("metadata", {}).get("webchat", {}).get("verified")
        for e in tracker["events"]
        if e["event"] == "user"
    )


def forged_tokens(stack: WebStack) -> dict[str, str]:
    """Tokens that must not be accepted, by what is wrong with them."""
    secret = stack.settings.portal_jwt_secret
    claims = {
        "sub": str(ELIF),
        "iss": portal_token.ISSUER,
        "aud": portal_token.AUDIENCE,
        "iat": now(),
        "exp": now() + dt.timedelta(minutes=5),
    }
    return {
        "expired": portal_token.issue(ELIF, secret, now() - dt.timedelta(hours=1)),
        "other secret": portal_token.issue(ELIF, "not-the-portal-secret-but-32-bytes-long", now()),
        "unsigned": jwt.encode(claims, None, algorithm="none"),
        "sender id as subject": jwt.encode({**claims, "sub": f"web:{ELIF}"}, secret),
        "other audience": jwt.encode({**claims, "aud": "someone-else"}, secret),
        "no expiry": jwt.encode({k: v for k, v in claims.items() if k != "exp"}, secret),
        "garbage": "not-a-token",
    }


def test_forged_or_expired_tokens_are_refused_with_a_turkish_explanation(
    web_stack: WebStack,
) -> None:
    tokens = forged_tokens(web_stack)

    async def scenario(*clients: ChatClient) -> None:
        for client, (problem, token) in zip(clients, tokens.items(), strict=True):
            with pytest.raises(ConnectionRefusedError, match="Oturumun doğrulanamadı"):
                await client.connect(web_stack.rasa_url, token)
            assert client.received == [], problem

    run(scenario, len(tokens))


def test_only_the_portal_origin_may_open_the_chat_from_a_browser(web_stack: WebStack) -> None:
    async def scenario(portal: ChatClient, foreign: ChatClient) -> None:
        await portal.connect(web_stack.rasa_url, headers={"Origin": web_stack.portal_url})
        assert await portal.ask(FAQ_QUESTION, FAQ_ANSWER)
        with pytest.raises(socketio.exceptions.ConnectionError):
            await foreign.connect(
                web_stack.rasa_url,
                token_for(web_stack, ELIF),
                headers={"Origin": "http://evil.example"},
            )
        assert not foreign.sio.connected

    run(scenario, 2)


# --- anonymous visitors and bad input ------------------------------------------------------


def test_anonymous_visitors_get_the_faq_but_no_student_data(web_stack: WebStack) -> None:
    async def scenario(visitor: ChatClient) -> None:
        await visitor.connect(web_stack.rasa_url)
        assert FAQ_ANSWER in await visitor.ask(FAQ_QUESTION, FAQ_ANSWER)
        for question in (
            OFFERS_QUESTION,
            "takvimlerimi göster",
            "benim sigorta girişim yapıldı mı",
        ):
            await visitor.ask(question, NEEDS_VERIFIED)

    run(scenario)


def test_bot_buttons_carry_payloads_that_answer_when_sent(web_stack: WebStack) -> None:
    async def scenario(visitor: ChatClient) -> None:
        await visitor.connect(web_stack.rasa_url)
        start = len(visitor.received)
        await visitor.sio.emit("user_uttered", {"message": "yardım"})
        menu = await visitor.wait_for(lambda m: bool(m.get("buttons")), start)
        button = next(b for b in menu["buttons"] if b["payload"].startswith("/choose_faq{"))
        assert button["title"] and button["title"] != button["payload"]
        start = len(visitor.received)
        await visitor.sio.emit("user_uttered", {"message": button["payload"]})
        answer = await visitor.wait_for(lambda m: bool(m.get("text")), start)
        assert "Mesajın" not in answer["text"] and answer["text"] != menu["text"]

    run(scenario)


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ({"message": ""}, "Mesajın boş görünüyor"),
        ({"message": "   \n\t "}, "Mesajın boş görünüyor"),
        ({"message": "\x00\x07\x1b\x7f\u200b"}, "Mesajın boş görünüyor"),
        ({"message": "staj\x00 süresi\x1b kaç\x07 gün"}, FAQ_ANSWER),
        ({"message": "🙂🙂🙂"}, "Mesajında yazı göremedim"),
        ({"message": "staj " * 4000}, "Mesajın çok uzun (19999 karakter)"),
        ({"message": 42}, "Mesajın boş görünüyor"),
        ({}, "Mesajın boş görünüyor"),
        ("düz bir metin, sözlük değil", "Mesajın boş görünüyor"),
        (
            {
                "message": "<script>alert(1)</script>'; DROP TABLE students; --",
                "metadata": "not an object",
            },
            None,
        ),
    ],
    ids=[
        "empty",
        "blank",
        "control",
        "control-in-text",
        "emoji",
        "huge",
        "number",
        "no-message",
        "not-an-object",
        "injection",
    ],
)
def test_bad_input_gets_a_turkish_answer(
    web_stack: WebStack, payload: Any, expected: str | None
) -> None:
    async def scenario(visitor: ChatClient) -> None:
        await visitor.connect(web_stack.rasa_url, token_for(web_stack, CAN))
        await visitor.sio.emit("user_uttered", payload)
        reply = await visitor.wait_for(lambda m: bool(m.get("text")))
        assert expected is None or expected in reply["text"], visitor.received
        assert "Traceback" not in visitor.texts()
        assert FAQ_ANSWER in await visitor.ask(FAQ_QUESTION, FAQ_ANSWER)  # the chat goes on

    run(scenario)


# --- the HTTP API ------------------------------------------------------------------------------


def test_the_http_api_refuses_transcripts_without_the_token(web_stack: WebStack) -> None:
    path = f"/conversations/web:{ELIF}/tracker"
    assert http_api(web_stack, path, None)[0] == 401
    assert http_api(web_stack, path, "wrong-token")[0] == 401
    assert http_api(web_stack, path, web_stack.settings.rasa_auth_token)[0] == 200
