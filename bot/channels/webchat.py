"""The portal's web chat: a socket.io channel whose identity comes from a portal-signed token.

Rasa's stock SocketIOInput is not safe for student data: it lets the client choose the
conversation (`session_id`), forgets the token's claims after the connect check, and never
awaits `sio.enter_room` (RasaHQ/rasa#13027: with python-socketio >= 5.10 replies never arrive).
This channel instead:
- verifies the portal's token (bot.portal.token) in the connect handler and derives the sender
  id on the server: `web:<student id>` from the verified `sub` claim, `web-anon:<random>` when
  the widget brings no token (FAQ only, see bot.identity). A token that is forged or expired is
  refused with a Turkish explanation; it never falls back to anyone's conversation;
- keeps each socket's session (sender id and claims) by socket.io sid, and ignores every id a
  client sends (`session_id`, `sender`, metadata);
- joins the socket to the room of its sender id (awaited), so a student's replies reach only
  that student's sockets;
- reads optional client context from the message's `metadata` field only, under `client`.

credentials.yml: `bot.channels.webchat.WebChatInput:` (socket.io at /socket.io of Rasa's port,
health check at /webhooks/webchat/). Settings: PORTAL_JWT_SECRET, PORTAL_PORT (allowed origin).
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.core.channels.socketio import SocketBlueprint
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from socketio import AsyncServer
from socketio.exceptions import ConnectionRefusedError as SocketRefused

from bot.channels.server_start import with_start_listeners
from bot.config import load_settings
from bot.portal import token as portal_token
from bot.senders import WEB, WEB_ANON

logger = logging.getLogger(__name__)

USER_EVENT = "user_uttered"
BOT_EVENT = "bot_uttered"
# Larger socket.io packets close the connection; the widget never sends them (it says why).
MAX_PACKET_BYTES = 100_000
MAX_CLIENT_METADATA_CHARS = 2_000
REFUSED_TOKEN = (
    "Oturumun doğrulanamadı ya da süresi doldu. Sayfayı yenileyip tekrar dene; "
    "sorun sürerse portaldan çıkış yapıp yeniden giriş yap."
)


@dataclass(frozen=True)
class WebChatSession:
    """One connected socket: the server-made sender id and the verified token claims."""

    sender_id: str
    claims: dict[str, Any] | None

    @property
    def verified(self) -> bool:
        """Whether a portal token proved who the student is."""
        return self.claims is not None


def open_session(auth: Any, secret: str) -> WebChatSession:
    """The session of a connecting socket; refuses the connection for a bad token."""
    token = auth.get("token") if isinstance(auth, dict) else None
    if not token:
        return WebChatSession(WEB_ANON.sender_id(secrets.token_hex(16)), None)
    try:
        claims = portal_token.verify(token, secret)
    except portal_token.InvalidPortalToken as error:
        logger.info("web chat connection refused: %s", error)
        # socket.io sends this message to the client (the builtin exception would not)
        raise SocketRefused(REFUSED_TOKEN) from error
    return WebChatSession(WEB.sender_id(claims["sub"]), claims)


def message_metadata(session: WebChatSession, data: dict[str, Any]) -> dict[str, Any]:
    """What Rasa records with the message: the channel's own facts, then the client's context."""
    metadata: dict[str, Any] = {"webchat": {"verified": session.verified}}
    client = data.get("metadata")
    if isinstance(client, dict):
        encoded = json.dumps(client, ensure_ascii=False)
        if len(encoded) <= MAX_CLIENT_METADATA_CHARS:
            metadata["client"] = client
    return metadata


class WebChatOutput(OutputChannel):
    """Sends the assistant's messages to every socket in the room of the sender id."""

    @classmethod
    def name(cls) -> str:
        """The channel's name in Rasa."""
        return WEB.name

    def __init__(self, sio: AsyncServer) -> None:
        """Uses the channel's socket.io server."""
        self.sio = sio

    async def _emit(self, recipient_id: str, message: dict[str, Any]) -> None:
        await self.sio.emit(BOT_EVENT, message, room=recipient_id)

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        """A text; the widget shows it as text (never as HTML)."""
        await self._emit(recipient_id, {"text": text})

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        """A text with buttons; pressing one sends its payload."""
        await self._emit(
            recipient_id,
            {
                "text": text,
                "buttons": [
                    {"title": str(b.get("title", "")), "payload": str(b.get("payload", ""))}
                    for b in buttons
                ],
            },
        )


class WebChatInput(InputChannel):
    """socket.io input channel of the portal widget (see the module docstring)."""

    @classmethod
    def name(cls) -> str:
        """URL prefix /webhooks/webchat and Rasa's input_channel name."""
        return WEB.name

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        """Secret and allowed origins come from the settings, not from credentials.yml."""
        settings = load_settings()
        if not settings.portal_jwt_secret:
            logger.warning("PORTAL_JWT_SECRET is not set: every web chat visitor is anonymous")
        return cls(
            settings.portal_jwt_secret,
            settings.portal_origins,
            (credentials or {}).get("socketio_path", "/socket.io"),
        )

    def __init__(
        self, secret: str, allowed_origins: list[str], socketio_path: str = "/socket.io"
    ) -> None:
        """A channel verifying tokens with `secret`, open to browsers of `allowed_origins`."""
        self.secret = secret
        self.allowed_origins = allowed_origins
        self.socketio_path = socketio_path
        self.sio: AsyncServer | None = None
        self.sessions: dict[str, WebChatSession] = {}

    def get_output_channel(self) -> OutputChannel | None:
        """For messages Rasa sends on its own (e.g. triggered through the HTTP API)."""
        return WebChatOutput(self.sio) if self.sio is not None else None

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """The socket.io server, attached to Rasa's Sanic app, and a health route."""
        sio = AsyncServer(
            async_mode="sanic",
            cors_allowed_origins=self.allowed_origins,
            max_http_buffer_size=MAX_PACKET_BYTES,
        )
        self.sio = sio
        webhook = SocketBlueprint(sio, self.socketio_path, "webchat_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @sio.on("connect")
        async def connect(sid: str, environ: dict[str, Any], auth: Any = None) -> None:
            session = open_session(auth, self.secret)
            self.sessions[sid] = session
            await sio.enter_room(sid, session.sender_id)
            logger.debug("web chat socket %s connected as %s", sid, session.sender_id)

        @sio.on("disconnect")
        async def disconnect(sid: str, *args: Any) -> None:
            self.sessions.pop(sid, None)

        @sio.on(USER_EVENT)
        async def handle_message(sid: str, data: Any = None) -> None:
            session = self.sessions.get(sid)
            if session is None:
                return
            data = data if isinstance(data, dict) else {}
            text = data.get("message")
            await on_new_message(
                UserMessage(
                    text if isinstance(text, str) else "",
                    WebChatOutput(sio),
                    session.sender_id,
                    input_channel=self.name(),
                    metadata=message_metadata(session, data),
                )
            )

        return with_start_listeners(webhook)
