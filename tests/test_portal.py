"""The demo portal: its chat token, its page, and the widget in headless chromium on a phone."""

from __future__ import annotations

import datetime as dt
import http.cookiejar
import json
import re
import urllib.parse
import urllib.request

import pytest

from bot.config import PROJECT_ROOT
from bot.portal import token as portal_token
from tests.webchat_fixtures import REPLY_TIMEOUT, WebStack

SECRET = "test-secret-of-the-portal-32-bytes-long"
NOW = dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.timezone.utc)
SCREENSHOTS = PROJECT_ROOT / "var"


# --- the token ---------------------------------------------------------------------------------


def test_a_token_names_the_student_for_fifteen_minutes() -> None:
    token = portal_token.issue(7, SECRET, dt.datetime.now(dt.timezone.utc))
    claims = portal_token.verify(token, SECRET)
    assert claims["sub"] == "7"
    assert claims["exp"] - claims["iat"] == 15 * 60


@pytest.mark.parametrize(
    ("token", "secret"),
    [
        (portal_token.issue(7, SECRET, NOW), SECRET),  # long expired
        (portal_token.issue(7, SECRET, dt.datetime.now(dt.timezone.utc)), "x" + SECRET),
        ("", SECRET),
        ("a.b.c", SECRET),
        (portal_token.issue(7, SECRET, dt.datetime.now(dt.timezone.utc)), ""),
    ],
    ids=["expired", "wrong-secret", "empty", "malformed", "no-secret"],
)
def test_bad_tokens_are_rejected(token: str, secret: str) -> None:
    with pytest.raises(portal_token.InvalidPortalToken):
        portal_token.verify(token, secret)


def test_no_token_is_issued_without_a_secret() -> None:
    with pytest.raises(ValueError, match="PORTAL_JWT_SECRET"):
        portal_token.issue(7, "", NOW)


# --- the portal server -------------------------------------------------------------------------


def portal_client() -> urllib.request.OpenerDirector:
    """A browser-like HTTP client with its own cookies."""
    return urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
    )


def chat_token(client: urllib.request.OpenerDirector, stack: WebStack) -> dict:
    with client.open(f"{stack.portal_url}/api/chat-token", timeout=30) as reply:
        assert reply.headers["Cache-Control"] == "no-store"
        return json.load(reply)


def test_the_portal_issues_a_token_only_for_the_logged_in_student(web_stack: WebStack) -> None:
    client = portal_client()
    assert chat_token(client, web_stack) == {"token": None, "name": None}
    form = urllib.parse.urlencode({"student": "2"}).encode()
    with client.open(f"{web_stack.portal_url}/giris", data=form, timeout=30) as reply:
        assert "Mert Kaya" in reply.read().decode()  # redirected back to the page
    body = chat_token(client, web_stack)
    assert body["name"] == "Mert Kaya"
    assert portal_token.verify(body["token"], web_stack.settings.portal_jwt_secret)["sub"] == "2"
    # An unknown student id logs out instead of issuing anything.
    form = urllib.parse.urlencode({"student": "999999"}).encode()
    client.open(f"{web_stack.portal_url}/giris", data=form, timeout=30).close()
    assert chat_token(client, web_stack)["token"] is None


def test_the_page_loads_nothing_from_elsewhere(web_stack: WebStack) -> None:
    with urllib.request.urlopen(web_stack.portal_url, timeout=30) as reply:
        page = reply.read().decode()
        policy = reply.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and web_stack.rasa_url.removeprefix("http://") in policy
    assert set(re.findall(r'(?:src|href)="([^"]+)"', page)) == {
        "/static/portal.css",
        "/static/webchat.css",
        "/vendor/socket.io/socket.io.min.js",
        "/static/webchat.js",
    }
    with urllib.request.urlopen(
        f"{web_stack.portal_url}/vendor/socket.io/socket.io.min.js", timeout=30
    ) as reply:
        assert b"Socket.IO v4.8.4" in reply.read()


# --- the widget in a phone-sized headless chromium ---------------------------------------------


def bot_messages(page):
    return page.locator(".sa-log .sa-bot")


def ask(page, text: str, expected: str) -> str:
    """Types a question into the widget, sends it with Enter; the new answers' text."""
    from playwright.sync_api import expect

    before = bot_messages(page).count()
    matching = bot_messages(page).filter(has_text=expected)
    matching_before = matching.count()
    page.get_by_label("Mesajın").fill(text)
    page.get_by_label("Mesajın").press("Enter")
    expect(matching).to_have_count(matching_before + 1, timeout=REPLY_TIMEOUT * 1000)
    return "\n".join(bot_messages(page).all_inner_texts()[before:])


def test_a_student_uses_the_widget_on_a_phone(web_stack: WebStack, page) -> None:
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(web_stack.portal_url)
    page.get_by_label("Öğrenci").select_option(label="Elif Demir (öğrenci 1)")
    page.get_by_role("button", name="Giriş yap").click()
    page.get_by_text("Giriş yapan öğrenci: Elif Demir").wait_for()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "portal-360-page.png"))

    page.get_by_role("button", name="Staj Asistanı").click()
    page.get_by_role("status").filter(has_text="Elif Demir olarak bağlandın").wait_for(
        timeout=REPLY_TIMEOUT * 1000
    )
    assert page.get_by_label("Mesajın").evaluate("node => node === document.activeElement")

    assert "20 iş günü" in ask(page, "staj süresi kaç gün", "20 iş günü")
    assert "Cevap bekleyen 2 teklifin var" in ask(
        page, "bekleyen tekliflerim neler", "Cevap bekleyen"
    )

    ask(page, "yardım", "Sık sorulanlardan birini")
    choices = page.locator(".sa-log .sa-choice")
    title = choices.first.inner_text()
    before = bot_messages(page).count()
    choices.first.click()
    page.locator(".sa-log .sa-user").filter(has_text=title).wait_for()
    bot_messages(page).nth(before).wait_for(timeout=REPLY_TIMEOUT * 1000)
    assert choices.first.is_disabled()
    assert "Mesajın" not in bot_messages(page).nth(before).inner_text()

    typed = '<b>kalın</b><img src=x onerror="window.hacked=1"> staj ücreti'
    ask(page, typed, "")
    assert page.locator(".sa-log .sa-user .sa-text").last.inner_text() == typed
    assert page.locator(".sa-log b, .sa-log img").count() == 0
    assert page.evaluate("window.hacked") is None

    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    send = page.get_by_role("button", name="Gönder").bounding_box()
    assert send["x"] + send["width"] <= 360 and send["height"] >= 44
    page.screenshot(path=str(SCREENSHOTS / "portal-360-chat.png"))


def test_a_visitor_who_is_not_logged_in_gets_the_faq_only(web_stack: WebStack, page) -> None:
    sockets: list[str] = []
    polls: list[str] = []
    page.on("websocket", lambda socket: sockets.append(socket.url))
    page.on(
        "request",
        lambda request: polls.append(request.url) if "transport=polling" in request.url else None,
    )
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(web_stack.portal_url)
    page.get_by_text("Giriş yapılmamış: asistan yalnızca genel soruları yanıtlar.").wait_for()
    page.get_by_role("button", name="Staj Asistanı").click()
    page.get_by_role("status").filter(has_text="yalnızca genel soruları").wait_for(
        timeout=REPLY_TIMEOUT * 1000
    )
    assert "20 iş günü" in ask(page, "staj süresi kaç gün", "20 iş günü")
    assert "doğrulayabildiğim" in ask(page, "bekleyen tekliflerim neler", "doğrulayabildiğim")
    # one WebSocket from the start, no long-polling: the chat works with several Sanic workers
    assert [url for url in sockets if "/socket.io/" in url] and not polls
    page.get_by_role("button", name="Sohbeti kapat").click()
    assert page.get_by_role("button", name="Staj Asistanı").evaluate(
        "node => node === document.activeElement"
    )
