"""A fake Telegram Bot API server on 127.0.0.1, for the tests and `make bench-channels`.

`FakeBotApi` speaks enough of the Bot API (https://core.telegram.org/bots/api) for
python-telegram-bot: getMe, getUpdates (long polling), webhooks, sendMessage (checking HTML
entities and the length limit as Telegram does), sendChatAction, answerCallbackQuery,
setMyCommands. It can answer a method with 429 once, as Telegram's flood control does, and
tells listeners of every message the bot sends (the benchmark times replies with them).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import re
import threading
import time
from collections.abc import Callable
from html.parser import HTMLParser
from typing import Any

from aiohttp import web

from bot.runner import free_port

TOKEN = "123456:TEST-token"
BOT_USER = {
    "id": 123456,
    "is_bot": True,
    "first_name": "Staj Asistanı",
    "username": "staj_asistani_test_bot",
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}
WAIT_SECONDS = 180  # generous: the machine is shared; tests wait for events, never time them
TELEGRAM_TAGS = {
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ins",
    "s",
    "strike",
    "del",
    "code",
    "pre",
    "a",
    "tg-spoiler",
    "blockquote",
    "span",
}


class TelegramHtml(HTMLParser):
    """Telegram's HTML parse mode: known tags only, and the visible text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.visible: list[str] = []
        self.bad_tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag not in TELEGRAM_TAGS:
            self.bad_tags.append(tag)

    def handle_data(self, data: str) -> None:
        self.visible.append(data)


def parse_entities(text: str) -> str | None:
    """The visible text of an HTML-mode message, None where Telegram would refuse it."""
    if re.search(r"&(?!(lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);)", text):
        return None  # a bare "&" is refused
    parser = TelegramHtml()
    parser.feed(text)
    parser.close()
    if parser.bad_tags or re.search(r"<(?![a-zA-Z/])", text):
        return None
    return "".join(parser.visible)


@dataclasses.dataclass
class Sent:
    """A message the bot sent: its chat, the text users see, and its buttons."""

    chat_id: int
    text: str
    parse_mode: str | None
    buttons: list[dict[str, str]]


class FakeBotApi:
    """The Bot API on 127.0.0.1, in a thread of its own."""

    def __init__(self) -> None:
        self.port = free_port()
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.sent: list[Sent] = []
        self.callback_answers: list[str] = []
        self.webhook: dict[str, Any] | None = None
        # Called (in the server's thread) with every message the bot sends.
        self.listeners: list[Callable[[Sent], None]] = []
        self._new_update = asyncio.Event()
        self._updates: list[dict[str, Any]] = []
        self._update_ids = iter(range(1, 10**9))
        self._message_ids = iter(range(1, 10**9))
        self._fail_once: dict[str, int] = {}
        self._changed = threading.Condition()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        """TELEGRAM_API_URL for the bot process."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._serve(), self._loop).result(timeout=30)

    def close(self) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=30)

    async def _serve(self) -> None:
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    # --- what tests do ---

    def fail_once_with_429(self, method: str, retry_after: int = 1) -> None:
        """The next call of `method` gets Telegram's flood-control answer."""
        self._fail_once[method] = retry_after

    def drop_once(self, method: str) -> None:
        """The next call of `method` loses its connection before any answer."""
        self._fail_once[method] = 0

    def push(self, update: dict[str, Any]) -> dict[str, Any]:
        """Queues an update for getUpdates; returns it with its update_id."""
        update = {"update_id": next(self._update_ids), **update}
        with self._changed:
            self._updates.append(update)
            self._changed.notify_all()
        self._loop.call_soon_threadsafe(self._new_update.set)
        return update

    def wait_for(self, condition: Callable[[], Any], what: str) -> Any:
        """Waits until `condition()` is truthy (checked on every API call); returns it."""
        deadline = time.monotonic() + WAIT_SECONDS
        with self._changed:
            while not (result := condition()):
                if time.monotonic() > deadline:
                    raise AssertionError(
                        f"timed out waiting for {what}; calls: "
                        f"{[name for name, _ in self.calls][-30:]}"
                    )
                self._changed.wait(timeout=1)
        return result

    def messages_to(self, chat_id: int) -> list[Sent]:
        return [sent for sent in self.sent if sent.chat_id == chat_id]

    def calls_of(self, method: str) -> list[dict[str, Any]]:
        return [params for name, params in self.calls if name == method]

    # --- the API ---

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != TOKEN:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        method = request.match_info["method"]
        params = dict(await request.post()) if request.can_read_body else {}
        if request.content_type == "application/json":
            params = await request.json()
        params = {key: _decode(value) for key, value in params.items()}
        if method == "getUpdates":
            result = await self._get_updates(params)
            return web.json_response({"ok": True, "result": result})
        with self._changed:
            self.calls.append((method, params))
            retry_after = self._fail_once.pop(method, None)
            self._changed.notify_all()
        if retry_after == 0:
            request.transport.close()
            return web.Response(status=500)
        if retry_after is not None:
            return web.json_response(
                {
                    "ok": False,
                    "error_code": 429,
                    "description": f"Too Many Requests: retry after {retry_after}",
                    "parameters": {"retry_after": retry_after},
                },
                status=429,
            )
        try:
            result = self._answer(method, params)
        except ValueError as error:
            return web.json_response(
                {"ok": False, "error_code": 400, "description": f"Bad Request: {error}"}, status=400
            )
        with self._changed:
            self._changed.notify_all()
        return web.json_response({"ok": True, "result": result})

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        deadline = time.monotonic() + 1.0  # short long polls, so shutdowns stay quick
        while True:
            self._new_update.clear()
            with self._changed:
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
                if self._updates:
                    return list(self._updates)
            left = deadline - time.monotonic()
            if left <= 0:
                return []
            try:
                await asyncio.wait_for(self._new_update.wait(), left)
            except asyncio.TimeoutError:
                return []

    def _answer(self, method: str, params: dict[str, Any]) -> Any:
        if method == "getMe":
            return BOT_USER
        if method in {"setMyCommands", "sendChatAction", "deleteWebhook"}:
            return True
        if method == "setWebhook":
            self.webhook = params
            return True
        if method == "answerCallbackQuery":
            self.callback_answers.append(params["callback_query_id"])
            return True
        if method == "sendMessage":
            return self._send_message(params)
        raise ValueError(f"method {method} not supported by the fake")

    def _send_message(self, params: dict[str, Any]) -> dict[str, Any]:
        text = str(params["text"])
        visible = parse_entities(text) if params.get("parse_mode") == "HTML" else text
        if visible is None:
            raise ValueError("can't parse entities")
        if not visible.strip():
            raise ValueError("message text is empty")
        if len(visible.encode("utf-16-le")) // 2 > 4096:
            raise ValueError("message is too long")
        markup = params.get("reply_markup") or {}
        buttons = [button for row in markup.get("inline_keyboard", []) for button in row]
        chat_id = int(params["chat_id"])
        sent = Sent(chat_id, visible, params.get("parse_mode"), buttons)
        self.sent.append(sent)
        for listener in self.listeners:
            listener(sent)
        return {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private", "first_name": "Test"},
            "from": BOT_USER,
            "text": visible,
            **({"reply_markup": markup} if markup else {}),
        }


def _decode(value: Any) -> Any:
    """PTB sends nested objects as JSON strings in form fields."""
    if isinstance(value, str) and value[:1] in "[{":
        return json.loads(value)
    return value


# --- updates as Telegram sends them ---------------------------------------------------------


_message_ids = iter(range(1, 10**9))


def user(user_id: int) -> dict[str, Any]:
    return {"id": user_id, "is_bot": False, "first_name": "Öğrenci", "language_code": "tr"}


def private_chat(user_id: int) -> dict[str, Any]:
    return {"id": user_id, "type": "private", "first_name": "Öğrenci"}


def message(
    user_id: int, text: str | None = None, chat: dict | None = None, **content: Any
) -> dict[str, Any]:
    """A message update; a leading "/word" is marked as a bot command, as Telegram does."""
    body: dict[str, Any] = {
        "message_id": next(_message_ids),
        "date": int(time.time()),
        "chat": chat or private_chat(user_id),
        "from": user(user_id),
        **content,
    }
    if text is not None:
        body["text"] = text
        command = re.match(r"/[A-Za-z0-9_@]+", text)
        if command:
            body["entities"] = [
                {"type": "bot_command", "offset": 0, "length": len(command.group())}
            ]
    return {"message": body}


def button_press(user_id: int, data: str) -> dict[str, Any]:
    """A callback query from an inline button the bot sent to this user."""
    return {
        "callback_query": {
            "id": f"cq-{next(_message_ids)}",
            "from": user(user_id),
            "chat_instance": "1",
            "data": data,
            "message": {
                "message_id": next(_message_ids),
                "date": int(time.time()),
                "chat": private_chat(user_id),
                "from": BOT_USER,
                "text": "...",
            },
        }
    }
