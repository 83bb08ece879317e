"""The demo portal (aiohttp): pick a demo student, get the chat widget as the portal embeds it.

Picking a student stands in for the real portal's login: it sets a session cookie, and
`/api/chat-token` then issues that student's short-lived chat token (bot.portal.token), signed
with PORTAL_JWT_SECRET, which the assistant verifies. Without a login the token is null and
the widget connects anonymously (FAQ only). The widget's assets are ours (static/) and
socket.io-client comes from node_modules (npm ci); nothing is loaded from a CDN.
"""

from __future__ import annotations

import datetime as dt
import html
import string
from pathlib import Path

from aiohttp import web

from bot.config import PROJECT_ROOT, Settings, load_settings
from bot.db.demo import NAMED_STUDENTS
from bot.portal import token as portal_token

HERE = Path(__file__).resolve().parent
SOCKET_IO_CLIENT = PROJECT_ROOT / "node_modules" / "socket.io-client" / "dist"
SESSION_COOKIE = "portal_student"
STUDENT_NAMES = {
    named.student_id: f"{named.first_name} {named.last_name}" for named in NAMED_STUDENTS
}
SETTINGS_KEY = web.AppKey("settings", Settings)


def logged_in_student(request: web.Request) -> int | None:
    """The demo student of this browser's portal session, if one is picked."""
    raw = request.cookies.get(SESSION_COOKIE, "")
    return int(raw) if raw.isdigit() and int(raw) in STUDENT_NAMES else None


def render_page(settings: Settings, student_id: int | None) -> str:
    """The portal page: the student picker and the widget's mount point."""
    options = ['<option value="">Giriş yapılmamış</option>'] + [
        f'<option value="{sid}"{" selected" if sid == student_id else ""}>'
        f"{html.escape(name)} (öğrenci {sid})</option>"
        for sid, name in STUDENT_NAMES.items()
    ]
    current = (
        f"Giriş yapan öğrenci: <strong>{html.escape(STUDENT_NAMES[student_id])}</strong>"
        if student_id
        else "Giriş yapılmamış: asistan yalnızca genel soruları yanıtlar."
    )
    template = string.Template((HERE / "templates" / "index.html").read_text(encoding="utf-8"))
    return template.substitute(
        options="\n          ".join(options),
        current=current,
        socket_url=html.escape(settings.rasa_url, quote=True),
    )


def security_headers(settings: Settings) -> dict[str, str]:
    """Scripts and styles only from us; sockets only to the assistant."""
    socket_host = settings.rasa_url.removeprefix("http://")
    return {
        "Content-Security-Policy": (
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
            f"connect-src 'self' http://{socket_host} ws://{socket_host}; "
            "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
        ),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
    }


async def page(request: web.Request) -> web.Response:
    """GET /: the portal page."""
    settings = request.app[SETTINGS_KEY]
    return web.Response(
        text=render_page(settings, logged_in_student(request)),
        content_type="text/html",
        headers=security_headers(settings),
    )


async def login(request: web.Request) -> web.Response:
    """POST /giris: the demo login (a picked student) or logout (empty choice)."""
    form = await request.post()
    choice = str(form.get("student", ""))
    response = web.HTTPSeeOther("/")
    if choice.isdigit() and int(choice) in STUDENT_NAMES:
        response.set_cookie(SESSION_COOKIE, choice, httponly=True, samesite="Strict")
    else:
        response.del_cookie(SESSION_COOKIE)
    raise response


async def chat_token(request: web.Request) -> web.Response:
    """GET /api/chat-token: a fresh token for the logged-in student, or null."""
    settings = request.app[SETTINGS_KEY]
    student_id = logged_in_student(request)
    body: dict[str, str | None] = {"token": None, "name": None}
    if student_id is not None and settings.portal_jwt_secret:
        body["token"] = portal_token.issue(
            student_id, settings.portal_jwt_secret, dt.datetime.now(dt.timezone.utc)
        )
        body["name"] = STUDENT_NAMES[student_id]
    return web.json_response(body, headers={"Cache-Control": "no-store"})


def make_app(settings: Settings) -> web.Application:
    """The portal's aiohttp application."""
    app = web.Application()
    app[SETTINGS_KEY] = settings
    app.router.add_get("/", page)
    app.router.add_post("/giris", login)
    app.router.add_get("/api/chat-token", chat_token)
    app.router.add_static("/static/", HERE / "static")
    app.router.add_static("/vendor/socket.io/", SOCKET_IO_CLIENT)
    return app


def main() -> int:
    """`python -m bot portal`: serves the demo portal until stopped."""
    settings = load_settings()
    if not (SOCKET_IO_CLIENT / "socket.io.min.js").exists():
        raise SystemExit("node_modules/socket.io-client is missing: run `make install`")
    if not settings.portal_jwt_secret:
        raise SystemExit(
            "PORTAL_JWT_SECRET is not set: the portal could not sign chat tokens "
            "(python -m bot run makes one and gives it to Rasa and the portal)"
        )
    web.run_app(make_app(settings), host=settings.host, port=settings.portal_port, print=None)
    return 0
